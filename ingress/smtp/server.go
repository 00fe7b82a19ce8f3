// Package smtp receives email: an embedded SMTP server
// (github.com/emersion/go-smtp) that accepts mail for any local part at
// the configured domains, parses it with github.com/jhillyerd/enmime/v2 and
// turns each message into a mechanic/emails/received event (docs:
// platform/email/receiving-email.md) with the data shape of Email.
//
// The event is committed through the Sink before the server answers 250,
// so an acknowledged message is never lost; when the commit fails the
// sender gets a 451 and tries again later. Recipients at other domains are
// refused with 550, messages over the size limit with 552. STARTTLS is
// offered when a certificate is configured. The server never relays mail
// and offers no authentication.
package smtp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"
)

// Topic is the topic of inbound email events.
const Topic = "mechanic/emails/received"

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxMessageBytes bounds one message (35 MB, Postmark's inbound
	// limit).
	DefaultMaxMessageBytes = 35 << 20
	// DefaultMaxRecipients bounds the recipients of one message.
	DefaultMaxRecipients = 50
	// DefaultTimeout bounds each read and write on a connection.
	DefaultTimeout = 2 * time.Minute
	// DefaultCommitTimeout bounds committing one event.
	DefaultCommitTimeout = 30 * time.Second
	// DefaultMaxConnections bounds the connections served at once; more
	// wait in the listen queue.
	DefaultMaxConnections = 100
)

// Sink stores events.
type Sink interface {
	// Commit stores an event durably and returns its id; once it returns
	// nil the event must survive a crash.
	Commit(ctx context.Context, topic string, data json.RawMessage, receivedAt time.Time) (id string, err error)
}

// Config configures a Server.
type Config struct {
	// Domains are the domains mail is accepted for (any local part);
	// required.
	Domains []string
	// Sink stores the events; required.
	Sink Sink
	// Hostname is the name the server greets with; "localhost" when empty.
	Hostname string
	// TLSConfig, when set, enables STARTTLS.
	TLSConfig *tls.Config
	// MaxMessageBytes bounds a message; DefaultMaxMessageBytes when zero.
	MaxMessageBytes int64
	// MaxRecipients bounds the recipients of a message; DefaultMaxRecipients when zero.
	MaxRecipients int
	// Timeout bounds each read and write; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxConnections bounds the connections served at once;
	// DefaultMaxConnections when zero.
	MaxConnections int
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives a record per message; nil discards.
	Logger *slog.Logger
}

// Server is the inbound SMTP server.
type Server struct {
	cfg     Config
	domains map[string]bool
	srv     *gosmtp.Server
	log     *slog.Logger
	base    context.Context
}

// New checks cfg and returns a server; nothing listens until Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Sink == nil {
		return nil, errors.New("smtp ingress: no sink")
	}
	domains := map[string]bool{}
	for _, d := range cfg.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") && d != "localhost" {
			return nil, fmt.Errorf("smtp ingress: %q is not a domain name", d)
		}
		domains[d] = true
	}
	if len(domains) == 0 {
		return nil, errors.New("smtp ingress: no receiving domain configured (SPROCKET_EMAIL_DOMAIN)")
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	s := &Server{cfg: cfg, domains: domains, log: cfg.Logger, base: context.Background()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	srv := gosmtp.NewServer(s)
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout = cfg.Timeout
	srv.WriteTimeout = cfg.Timeout
	srv.TLSConfig = cfg.TLSConfig
	srv.ErrorLog = slogLogger{s.log}
	s.srv = srv
	return s, nil
}

// Serve accepts connections on ln until ctx ends; then it stops accepting,
// waits up to 10 seconds for sessions in progress and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.base = context.WithoutCancel(ctx)
	errc := make(chan error, 1)
	limited := netutil.LimitListener(ln, s.cfg.MaxConnections)
	go func() { errc <- s.srv.Serve(limited) }()
	select {
	case err := <-errc:
		if errors.Is(err, gosmtp.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("smtp ingress: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shut); err != nil {
		_ = s.srv.Close()
	}
	// go-smtp closes only the listeners its Serve registered already; a
	// Serve that had not started yet would accept forever.
	_ = ln.Close()
	<-errc
	return nil
}

// NewSession implements gosmtp.Backend.
func (s *Server) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	remote := ""
	if c.Conn() != nil {
		remote = c.Conn().RemoteAddr().String()
	}
	return &session{s: s, c: c, remote: remote}, nil
}

type session struct {
	s      *Server
	c      *gosmtp.Conn
	remote string
	from   string
	rcpts  []string
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	at := strings.LastIndexByte(to, '@')
	if at <= 0 || !ss.s.domains[strings.ToLower(to[at+1:])] {
		return &gosmtp.SMTPError{
			Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1},
			Message: fmt.Sprintf("<%s>: this server does not receive mail for that address", to),
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// Data reads the message, commits its event and only then lets go-smtp
// answer 250.
func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			ss.s.log.Warn("inbound email refused", "from", ss.from, "remote", ss.remote, "error", se.Message)
			return se // 552 for an oversized message
		}
		return fmt.Errorf("read message: %w", err)
	}
	now := ss.s.cfg.Now()
	_, isTLS := ss.c.TLSConnectionState()
	with := "ESMTP"
	if isTLS {
		with = "ESMTPS"
	}
	received := fmt.Sprintf("from %s (%s) by %s (Sprocket) with %s for %s; %s",
		ss.c.Hostname(), ss.remote, ss.s.cfg.Hostname, with, formatAddress(ss.rcpts[0]), now.Format(time.RFC1123Z))
	email, err := Parse(raw, Envelope{MailFrom: ss.from, Recipients: ss.rcpts, ReceivedAt: now, Received: received})
	if err != nil {
		return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 6, 0}, Message: "message could not be parsed: " + err.Error()}
	}
	data, err := json.Marshal(email)
	if err != nil {
		return fmt.Errorf("encode event data: %w", err)
	}
	ctx, cancel := context.WithTimeout(ss.s.base, DefaultCommitTimeout)
	defer cancel()
	id, err := ss.s.cfg.Sink.Commit(ctx, Topic, data, now)
	if err != nil {
		ss.s.log.Error("inbound email not stored", "from", ss.from, "error", err)
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "message could not be stored; try again later"}
	}
	ss.s.log.Info("inbound email", "event", id, "from", email.From, "to", strings.Join(ss.rcpts, ","), "bytes", len(raw), "attachments", len(email.Attachments))
	return nil
}

// slogLogger adapts go-smtp's logger to slog.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s slogLogger) Println(v ...any)               { s.l.Warn(fmt.Sprint(v...)) }
