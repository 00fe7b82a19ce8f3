package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sftpSession is a logged-in SFTP connection.
type sftpSession struct {
	ssh *ssh.Client
	c   *sftp.Client
	log *transcript
}

// dialSFTP connects over SSH with the action's deadline on the connection,
// authenticating with the private key and/or the password, and checking
// the host key against known_hosts when asked to.
func dialSFTP(ctx context.Context, o *options, addr string, d *net.Dialer, log *transcript) (session, error) {
	var auth []ssh.AuthMethod
	if o.privateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(o.privateKey))
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) && o.password != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(o.privateKey), []byte(o.password))
		}
		if err != nil {
			return nil, permanent(fmt.Errorf("private_key_pem: cannot read the key: %w", err))
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if o.password != "" {
		pw := o.password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		}))
	}
	if len(auth) == 0 {
		return nil, permanent(errors.New("sftp needs a password or a private_key_pem"))
	}
	hostKey := ssh.InsecureIgnoreHostKey() //nolint:gosec // Mechanic checks host keys only when asked
	if o.verify {
		cb, err := knownHostsCallback(o.knownHosts)
		if err != nil {
			return nil, permanent(fmt.Errorf("known_hosts: %w", err))
		}
		hostKey = cb
	}
	cfg := &ssh.ClientConfig{User: o.user, Auth: auth, HostKeyCallback: hostKey, Timeout: d.Timeout}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		_ = conn.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	log.printf("> ssh handshake, user ********")
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		stop()
		_ = conn.Close()
		log.printf("< %v", err)
		var keyErr *knownhosts.KeyError
		switch {
		case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
			return nil, permanent(fmt.Errorf("the server's host key is not listed in known_hosts: %w", err))
		case errors.As(err, &keyErr):
			return nil, permanent(fmt.Errorf("the server's host key does not match known_hosts: %w", err))
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, permanent(fmt.Errorf("login refused for user %q: %w", o.user, err))
		}
		return nil, fmt.Errorf("ssh handshake: %w", err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	c, err := sftp.NewClient(client)
	if err != nil {
		stop()
		_ = client.Close()
		return nil, fmt.Errorf("start sftp: %w", err)
	}
	log.printf("< logged in")
	return &sftpSession{ssh: client, c: c, log: log}, nil
}

// knownHostsCallback checks host keys against an sshd known_hosts text.
func knownHostsCallback(text string) (ssh.HostKeyCallback, error) {
	f, err := os.CreateTemp("", "sprocket-known-hosts-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text + "\n"); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return knownhosts.New(f.Name())
}

// sftpError marks permanent SFTP failures: missing files, permissions and
// other refusals by the server. A lost connection stays transient.
func sftpError(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return permanent(err)
	}
	var st *sftp.StatusError
	if errors.As(err, &st) {
		switch st.FxCode() {
		case sftp.ErrSSHFxConnectionLost, sftp.ErrSSHFxNoConnection:
			return err
		}
		return permanent(err)
	}
	return err
}

func (s *sftpSession) upload(ctx context.Context, p string, data []byte) error {
	if dir := path.Dir(p); dir != "." && dir != "/" {
		if err := s.c.MkdirAll(dir); err == nil {
			s.log.printf("> mkdir -p %s", dir)
		}
	}
	s.log.printf("> put %s", p)
	f, err := s.c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		s.log.printf("< %v", err)
		return sftpError(err)
	}
	_, err = f.ReadFrom(&ctxReader{ctx: ctx, r: strings.NewReader(string(data))})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.log.printf("< %v", err)
		return sftpError(err)
	}
	s.log.printf("< stored %d bytes", len(data))
	return nil
}

func (s *sftpSession) download(ctx context.Context, p string, limit int64) ([]byte, error) {
	s.log.printf("> get %s", p)
	f, err := s.c.Open(p)
	if err != nil {
		s.log.printf("< %v", err)
		return nil, sftpError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(&ctxReader{ctx: ctx, r: f}, limit+1))
	if err != nil {
		s.log.printf("< %v", err)
		return nil, sftpError(err)
	}
	if int64(len(data)) > limit {
		return nil, permanent(fmt.Errorf("downloads exceed the limit of %d bytes", MaxDownloadBytes))
	}
	s.log.printf("< received %d bytes", len(data))
	return data, nil
}

func (s *sftpSession) close() error {
	err := s.c.Close()
	if cerr := s.ssh.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}
