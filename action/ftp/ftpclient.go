package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"path"
	"strings"
	"time"

	ftplib "github.com/jlaffaye/ftp"
)

// ftpSession is a logged-in FTP or FTPS connection.
type ftpSession struct {
	c        *ftplib.ServerConn
	log      *transcript
	deadline time.Time
	ascii    bool
}

// dialFTP connects and logs in. Every connection (control and data) gets
// the action's deadline; with FTPS, data connections are TLS too and share
// the control connection's TLS session, as servers like vsftpd require.
func dialFTP(ctx context.Context, o *options, addr string, d *net.Dialer, log *transcript) (session, error) {
	var tlsCfg *tls.Config
	if o.protocol == protoFTPS {
		tlsCfg = &tls.Config{
			ServerName:         o.host,
			InsecureSkipVerify: !o.verify, //nolint:gosec // the task asked for verify false
			ClientSessionCache: tls.NewLRUClientSessionCache(4),
			MinVersion:         tls.VersionTLS12,
		}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	control := true
	dial := func(network, address string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			return nil, err
		}
		if !control && tlsCfg != nil {
			return tls.Client(conn, tlsCfg), nil // data connection
		}
		control = false
		return conn, nil
	}
	opts := []ftplib.DialOption{ftplib.DialWithDialFunc(dial), ftplib.DialWithContext(ctx)}
	if tlsCfg != nil {
		opts = append(opts, ftplib.DialWithExplicitTLS(tlsCfg))
	}
	c, err := ftplib.Dial(addr, opts...)
	if err != nil {
		return nil, ftpError(err)
	}
	log.printf("< connected")
	if tlsCfg != nil {
		log.printf("> AUTH TLS")
	}
	log.printf("> USER ********")
	log.printf("> PASS ********")
	if err := c.Login(o.user, o.password); err != nil {
		log.printf("< %s", replyText(err))
		_ = c.Quit()
		var te *textproto.Error
		if errors.As(err, &te) && (te.Code == ftplib.StatusNotLoggedIn || te.Code >= 500) {
			return nil, permanent(fmt.Errorf("login refused for user %q: %w", o.user, err))
		}
		return nil, ftpError(fmt.Errorf("login: %w", err))
	}
	log.printf("< logged in")
	s := &ftpSession{c: c, log: log, deadline: deadline, ascii: o.ascii}
	if o.ascii {
		log.printf("> TYPE A")
		if err := c.Type(ftplib.TransferTypeASCII); err != nil {
			_ = c.Quit()
			return nil, ftpError(fmt.Errorf("set ascii mode: %w", err))
		}
	}
	return s, nil
}

// replyText is the server reply carried by err, or err's message.
func replyText(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("%d %s", te.Code, te.Msg)
	}
	return err.Error()
}

// ftpError marks permanent FTP failures: 5xx replies and TLS certificate
// failures.
func ftpError(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent(err)
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return permanent(fmt.Errorf("TLS certificate verification failed (set verify to false to skip it): %w", err))
	}
	return err
}

func (s *ftpSession) upload(ctx context.Context, p string, data []byte) error {
	if dir := path.Dir(p); dir != "." && dir != "/" {
		s.mkdirs(dir)
	}
	if s.ascii {
		data = toCRLF(data)
	}
	s.log.printf("> STOR %s", p)
	err := s.c.Stor(p, &ctxReader{ctx: ctx, r: strings.NewReader(string(data))})
	if err != nil {
		s.log.printf("< %s", replyText(err))
		return ftpError(err)
	}
	s.log.printf("< 226 stored %d bytes", len(data))
	return nil
}

// mkdirs creates the directories of dir that do not exist, ignoring
// failures (the directory may exist, or the upload will report the
// problem).
func (s *ftpSession) mkdirs(dir string) {
	abs := strings.HasPrefix(dir, "/")
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	cur := ""
	for _, part := range parts {
		if part == "" || part == "." {
			continue
		}
		switch {
		case cur == "" && abs:
			cur = "/" + part
		case cur == "":
			cur = part
		default:
			cur += "/" + part
		}
		if part == ".." {
			continue
		}
		if err := s.c.MakeDir(cur); err == nil {
			s.log.printf("> MKD %s", cur)
			s.log.printf("< 257 created")
		}
	}
}

func (s *ftpSession) download(ctx context.Context, p string, limit int64) ([]byte, error) {
	s.log.printf("> RETR %s", p)
	r, err := s.c.Retr(p)
	if err != nil {
		s.log.printf("< %s", replyText(err))
		return nil, ftpError(err)
	}
	_ = r.SetDeadline(s.deadline)
	data, err := io.ReadAll(io.LimitReader(&ctxReader{ctx: ctx, r: r}, limit+1))
	cerr := r.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, permanent(fmt.Errorf("downloads exceed the limit of %d bytes", MaxDownloadBytes))
	}
	if cerr != nil {
		s.log.printf("< %s", replyText(cerr))
		return nil, ftpError(cerr)
	}
	s.log.printf("< 226 received %d bytes", len(data))
	if s.ascii {
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	}
	return data, nil
}

func (s *ftpSession) close() error {
	if err := s.c.Quit(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// toCRLF turns line ends into CR LF, as ASCII mode sends text over the
// wire; the server stores them in its own convention.
func toCRLF(data []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
