package ftp_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/pkg/sftp"
	"github.com/spf13/afero"
	"golang.org/x/crypto/ssh"
)

// ftpDriver is an ftpserverlib driver serving one user from memory.
type ftpDriver struct {
	fs       afero.Fs
	user, pw string
	tls      *tls.Config
	settings *ftpserver.Settings
}

func (d *ftpDriver) GetSettings() (*ftpserver.Settings, error) { return d.settings, nil }
func (d *ftpDriver) ClientConnected(ftpserver.ClientContext) (string, error) {
	return "sprocket test server", nil
}
func (d *ftpDriver) ClientDisconnected(ftpserver.ClientContext) {}
func (d *ftpDriver) AuthUser(_ ftpserver.ClientContext, user, pass string) (ftpserver.ClientDriver, error) {
	if user != d.user || pass != d.pw {
		return nil, errors.New("bad credentials")
	}
	return d.fs, nil
}
func (d *ftpDriver) GetTLSConfig() (*tls.Config, error) {
	if d.tls == nil {
		return nil, errors.New("no TLS")
	}
	return d.tls, nil
}

// startFTP runs an FTP server on loopback; with TLS it requires explicit
// TLS (AUTH TLS) and returns the PEM of its self-signed certificate.
func startFTP(t *testing.T, withTLS bool) (port int, fs afero.Fs, certPEM []byte) {
	t.Helper()
	fs = afero.NewMemMapFs()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &ftpDriver{fs: fs, user: "alice", pw: "s3cret", settings: &ftpserver.Settings{
		Listener: ln, ListenAddr: ln.Addr().String(), IdleTimeout: 30, ConnectionTimeout: 10,
	}}
	if withTLS {
		cert, pemBytes := selfSigned(t)
		d.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		d.settings.TLSRequired = ftpserver.MandatoryEncryption
		certPEM = pemBytes
	}
	srv := ftpserver.NewFtpServer(d)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Stop() })
	return ln.Addr().(*net.TCPAddr).Port, fs, certPEM
}

func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// sftpServer is an SSH server on loopback with the sftp subsystem serving
// a directory.
type sftpServer struct {
	port       int
	dir        string
	knownHosts string // a known_hosts line for the server's host key
	clientKey  string // PEM of a private key the server accepts for the user
}

func startSFTP(t *testing.T) *sftpServer {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	authorized, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == "alice" && string(pw) == "s3cret" {
				return nil, nil
			}
			return nil, errors.New("bad password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == "alice" && string(k.Marshal()) == string(authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &sftpServer{port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir(), clientKey: string(pem.EncodeToMemory(block))}
	s.knownHosts = fmt.Sprintf("[127.0.0.1]:%d %s", s.port, string(ssh.MarshalAuthorizedKey(hostSigner.PublicKey())))
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn, cfg)
		}
	}()
	return s
}

func (s *sftpServer) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range creqs {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				_ = req.Reply(ok, nil)
				if !ok {
					continue
				}
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.dir))
				if err != nil {
					ch.Close()
					return
				}
				if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
					_ = err
				}
				srv.Close()
				return
			}
		}()
	}
}

func readFile(t *testing.T, fs afero.Fs, path string) []byte {
	t.Helper()
	b, err := afero.ReadFile(fs, path)
	if err != nil {
		t.Fatalf("server file %s: %v", path, err)
	}
	return b
}

func readDisk(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("server file %s: %v", path, err)
	}
	return b
}
