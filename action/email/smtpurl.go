package email

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode says how a connection to the SMTP relay is secured.
type TLSMode string

// TLS modes of an SMTP URL.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS when the server
	// offers it (smtp:// URLs).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps:// URLs).
	TLSImplicit TLSMode = "implicit"
	// TLSNone never uses TLS (smtp://…?tls=none), for a relay on loopback.
	TLSNone TLSMode = "none"
)

// Relay is an SMTP relay parsed from SPROCKET_SMTP_URL. Its String method
// never shows the password.
type Relay struct {
	// Host and Port address the relay.
	Host string
	Port int
	// Username and Password authenticate, when Username is set.
	Username string
	Password string
	// TLS is how the connection is secured.
	TLS TLSMode
}

// ParseURL reads an SMTP relay URL: smtp://user:pass@host:port (STARTTLS
// when offered; port 587 by default), smtps://user:pass@host:port
// (implicit TLS; port 465 by default), or smtp://host:port?tls=none (no
// TLS at all, for a relay on loopback). User and password are optional and
// percent-decoded. Errors never include the password.
func ParseURL(raw string) (*Relay, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the URL, password included.
		return nil, fmt.Errorf("SMTP URL is not a valid URL (want smtp://user:pass@host:port)")
	}
	r := &Relay{}
	def := 587
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		r.TLS = TLSStartTLS
	case "smtps":
		r.TLS, def = TLSImplicit, 465
	default:
		return nil, fmt.Errorf("SMTP URL scheme %q: want smtp or smtps", u.Scheme)
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("SMTP URL: unknown parameter %q (only tls=none is known)", k)
		}
	}
	if t := q.Get("tls"); t != "" {
		switch {
		case t == "none" && r.TLS == TLSStartTLS:
			r.TLS = TLSNone
		case t == "none":
			return nil, fmt.Errorf("SMTP URL: tls=none contradicts smtps://")
		default:
			return nil, fmt.Errorf("SMTP URL: tls=%q: the only value is none", t)
		}
	}
	r.Host = u.Hostname()
	if r.Host == "" {
		return nil, fmt.Errorf("SMTP URL has no host")
	}
	r.Port = def
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP URL port %q is not a port number", p)
		}
		r.Port = n
	}
	if u.User != nil {
		r.Username = u.User.Username()
		r.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("SMTP URL must not have a path")
	}
	return r, nil
}

// Addr returns host:port.
func (r *Relay) Addr() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// String returns the relay as a URL with the password replaced by "xxxxx".
func (r *Relay) String() string {
	scheme := "smtp"
	if r.TLS == TLSImplicit {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: r.Addr()}
	if r.Username != "" {
		if r.Password != "" {
			u.User = url.UserPassword(r.Username, "xxxxx")
		} else {
			u.User = url.User(r.Username)
		}
	}
	if r.TLS == TLSNone {
		u.RawQuery = "tls=none"
	}
	return u.String()
}

// LogValue keeps the password out of structured logs.
func (r *Relay) LogValue() slog.Value { return slog.StringValue(r.String()) }
