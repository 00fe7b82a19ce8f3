// Package ftp implements Mechanic's ftp action (docs: core/actions/ftp.md):
// it uploads files made by file generators and downloads files, over FTP,
// FTPS (explicit TLS: AUTH TLS on the control connection, protected data
// connections) or SFTP (SSH, password and/or private key authentication,
// optional host key pinning with known_hosts).
//
// Options: protocol ("ftp", "ftps" or "sftp"; inferred when omitted: sftp
// for port 22 or when private_key_pem or known_hosts is given, ftp
// otherwise), host and user (required), port (21, or 22 for sftp),
// password, uploads (paths to file generators), downloads (an array of
// paths), mode ("ascii" or "binary", ftp and ftps only), verify (ftps:
// false skips certificate checks; sftp: host keys are checked against
// known_hosts when it is given, unless verify is false), private_key_pem
// (or private_key; an encrypted key is opened with password) and
// known_hosts. Secret references are resolved only in host, user,
// password, private_key, private_key_pem and known_hosts.
//
// Uploads run before downloads; each transfer is tried up to three times
// within the session. Downloads are limited to 20 MB in total. The result
// is {"log": "...", "uploads": {path: {"size"}}, "downloads": {path:
// {"size", "data", "data_base64"}}}; the log is a transcript of the session
// without credentials. Connection failures and timeouts are transient
// (the run is retried); refused logins, unknown hosts, certificate and
// host key mismatches, and transfers the server refuses permanently (5xx,
// permission denied, no such file) fail the run.
package ftp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type name the ftp action is registered under.
const Type = "ftp"

// RedactedValue replaces data_base64 in results of actions that used
// secrets.
const RedactedValue = "__mechanic_secret_value_redacted__"

// Limits and defaults.
const (
	// MaxDownloadBytes bounds the data downloaded by one action (20 MB).
	MaxDownloadBytes = 20 << 20
	// Attempts is how many times each transfer is tried within a session.
	Attempts = 3
	// DefaultTimeout bounds a whole action.
	DefaultTimeout = 5 * time.Minute
	// DefaultDialTimeout bounds connecting and logging in.
	DefaultDialTimeout = 20 * time.Second
)

// Config configures a Performer. The zero value gives sane defaults.
type Config struct {
	// Generators produce the uploaded files; nil means plaintext, base64
	// and zip only.
	Generators *filegen.Generators
	// Timeout bounds one action (DefaultTimeout when zero).
	Timeout time.Duration
	// DialTimeout bounds connecting and the handshake (DefaultDialTimeout
	// when zero).
	DialTimeout time.Duration
	// Network is the outbound network policy checked on the resolved
	// address of every connection (control and data); nil is the default
	// policy, refusing loopback, private and other internal ranges.
	Network *netpolicy.Policy
	// Resolver resolves host names; nil means the default resolver.
	Resolver *net.Resolver
	// RetryPause is the pause between two attempts at a transfer (none
	// when zero).
	RetryPause time.Duration
	// Logger receives one record per action, without credentials; nil
	// discards.
	Logger *slog.Logger
}

// Performer performs ftp actions. It is safe for concurrent use.
type Performer struct {
	cfg Config
	log *slog.Logger
}

// New returns a Performer with cfg, filling in defaults.
func New(cfg Config) *Performer {
	if cfg.Generators == nil {
		cfg.Generators = &filegen.Generators{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Performer{cfg: cfg, log: log}
}

// Validate checks the options of an ftp action.
func (p *Performer) Validate(options any) error {
	_, err := parseOptions(options)
	return err
}

// session is a logged-in connection to a server.
type session interface {
	upload(ctx context.Context, path string, data []byte) error
	download(ctx context.Context, path string, limit int64) ([]byte, error)
	close() error
}

// transcript collects the session log.
type transcript struct{ b strings.Builder }

func (t *transcript) printf(format string, args ...any) {
	fmt.Fprintf(&t.b, format, args...)
	t.b.WriteByte('\n')
}

// Perform connects, uploads, downloads and returns the result. When
// secrets were resolved, data_base64 is redacted, and raw secret values
// are removed from the result and error messages.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	res, usedSecrets, err := p.perform(ctx, req)
	red, ok := req.Secrets.(action.SecretRedactor)
	if !usedSecrets || !ok {
		return res, err
	}
	if res.Value != nil {
		res.Value = action.RedactValue(res.Value, red.Redact)
	}
	if err != nil {
		err = &redactedError{msg: red.Redact(err.Error()), err: err}
	}
	return res, err
}

// redactedError shows a message with secrets removed while keeping the
// original error's kind.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (p *Performer) perform(ctx context.Context, req action.Request) (action.Result, bool, error) {
	opts := req.Options
	if _, err := parseOptions(opts); err != nil {
		return action.Result{}, false, err // validate placeholders before resolving anything
	}
	usedSecrets := false
	if m, ok := opts.(*value.Map); ok && req.Secrets != nil {
		m = m.Clone()
		for _, f := range secretFields {
			v, ok := m.Get(f)
			if !ok {
				continue
			}
			r, used, err := req.Secrets.Resolve(ctx, v)
			if err != nil {
				return action.Result{}, usedSecrets, fmt.Errorf("ftp action: resolve secrets in %q: %w", f, err)
			}
			m.Set(f, r)
			usedSecrets = usedSecrets || used
		}
		opts = m
	}
	o, err := parseOptions(opts)
	if err != nil {
		return action.Result{}, usedSecrets, err
	}

	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	// Generate every upload first: a bad generator fails the run before
	// anything is sent.
	type upload struct {
		path string
		data []byte
	}
	var uploads []upload
	if o.uploads != nil {
		files, err := p.cfg.Generators.For(Type, optUploads).GenerateAll(ctx, o.uploads)
		if err != nil {
			var ve *action.ValidationError
			if errors.As(err, &ve) {
				return action.Result{}, usedSecrets, err // already names the action and option
			}
			return action.Result{}, usedSecrets, fmt.Errorf("ftp action: %w", err)
		}
		for i, path := range o.uploads.Keys() {
			uploads = append(uploads, upload{path: path, data: files[i].Data})
		}
	}

	var log transcript
	start := time.Now()
	sess, err := p.connect(ctx, o, &log)
	if err != nil {
		return action.Result{}, usedSecrets, p.fail(o, "connect", err)
	}
	defer func() {
		if err := sess.close(); err != nil {
			log.printf("close: %v", err)
		}
	}()

	upRes := value.NewMap(len(uploads))
	for _, u := range uploads {
		err := p.retry(ctx, &log, func() error { return sess.upload(ctx, u.path, u.data) })
		if err != nil {
			return action.Result{}, usedSecrets, p.fail(o, "upload "+u.path, err)
		}
		e := value.NewMap(1)
		e.Set("size", int64(len(u.data)))
		upRes.Set(u.path, e)
	}
	downRes := value.NewMap(len(o.downloads))
	budget := int64(MaxDownloadBytes)
	for _, path := range o.downloads {
		var data []byte
		err := p.retry(ctx, &log, func() error {
			var err error
			data, err = sess.download(ctx, path, budget)
			return err
		})
		if err != nil {
			return action.Result{}, usedSecrets, p.fail(o, "download "+path, err)
		}
		budget -= int64(len(data))
		e := value.NewMap(3)
		e.Set("size", int64(len(data)))
		e.Set("data", utf8Text(data))
		if usedSecrets {
			e.Set("data_base64", RedactedValue)
		} else {
			e.Set("data_base64", base64.StdEncoding.EncodeToString(data))
		}
		downRes.Set(path, e)
	}
	p.log.LogAttrs(ctx, slog.LevelDebug, "ftp action",
		slog.String("run_id", req.RunID), slog.String("protocol", o.protocol), slog.String("host", shownHost(o, usedSecrets)),
		slog.Int("uploads", len(uploads)), slog.Int("downloads", len(o.downloads)), slog.Duration("elapsed", time.Since(start)))
	res := value.NewMap(3)
	res.Set("log", log.b.String())
	res.Set("uploads", upRes)
	res.Set("downloads", downRes)
	return action.Result{Value: res}, usedSecrets, nil
}

func shownHost(o *options, secret bool) string {
	if secret {
		return "(secret)"
	}
	return o.host
}

// utf8Text is data as a string, with invalid UTF-8 replaced.
func utf8Text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// retry runs op up to Attempts times while its error is worth retrying in
// the same session.
func (p *Performer) retry(ctx context.Context, log *transcript, op func() error) error {
	var err error
	for attempt := 1; attempt <= Attempts; attempt++ {
		if err = op(); err == nil {
			return nil
		}
		if ctx.Err() != nil || !retryInSession(err) {
			return err
		}
		if attempt < Attempts {
			log.printf("retrying (attempt %d of %d failed: %v)", attempt, Attempts, err)
			if p.cfg.RetryPause > 0 {
				select {
				case <-time.After(p.cfg.RetryPause):
				case <-ctx.Done():
					return err
				}
			}
		}
	}
	return err
}

func (p *Performer) connect(ctx context.Context, o *options, log *transcript) (session, error) {
	addr := net.JoinHostPort(o.host, fmt.Sprint(o.port))
	log.printf("connect: %s, %d (%s)", o.host, o.port, o.protocol)
	switch o.protocol {
	case protoSFTP:
		return dialSFTP(ctx, o, addr, p.dialer(), log)
	default:
		return dialFTP(ctx, o, addr, p.dialer(), log)
	}
}

// dialer returns a dialer under the performer's network policy.
func (p *Performer) dialer() *net.Dialer {
	return p.cfg.Network.Dialer(p.cfg.DialTimeout, p.cfg.Resolver)
}

// fail classifies err and names the step.
func (p *Performer) fail(o *options, step string, err error) error {
	wrapped := fmt.Errorf("ftp action: %s %s:%d: %s: %w", o.protocol, o.host, o.port, step, err)
	if classify(err) == action.KindTransient {
		return action.Transient(wrapped)
	}
	return action.Failed(wrapped)
}

// classify sorts a connection or transfer error: permanent for refused
// logins, certificate and host key failures, unknown hosts and permanent
// server replies; transient for network trouble and timeouts.
func classify(err error) action.Kind {
	var perm *permanentError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &perm), errors.Is(err, netpolicy.ErrDenied):
		return action.KindFailed
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return action.KindFailed
	}
	return action.KindTransient
}

// permanentError marks failures that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// retryInSession reports whether a transfer error may go away when the
// transfer is tried again on the same connection.
func retryInSession(err error) bool {
	var perm *permanentError
	if errors.As(err, &perm) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
		return false // the connection is gone; the action retry starts a new one
	}
	return true
}
