// Package email implements Mechanic's email action: it renders a message
// from the action's options (and an email template, if any) and sends it
// through an SMTP relay (docs: core/actions/email.md,
// platform/email/templates.md).
//
// Options:
//
//	to                 required; an array or comma-separated string of addresses
//	subject            required; the subject
//	body               required; HTML; a plain-text alternative is generated
//	cc, bcc            optional; like to
//	reply_to           optional; one address
//	from_display_name  optional; the sender's name (the address is the
//	                   configured sender, SPROCKET_EMAIL_FROM)
//	headers            optional; a hash of header names to strings
//	template           optional; the name of an email template; when not
//	                   given, the template named "default" is used if it exists
//	attachments        optional; a hash of filenames to file generators
//	...                any other option is a variable of the template
//
// A template is Liquid rendered with every option as a variable (subject,
// body, custom ones); its output becomes the HTML body. CSS rules of
// <style> elements are inlined into style attributes, so authors need not
// think about email clients. An attachment whose
// filename the body references as "cid:<filename>" is embedded inline
// (multipart/related) instead of attached.
//
// Limits, as Mechanic's provider documents them: at most 50 recipients in
// to, cc and bcc together, and 10 MB per message, attachments included.
//
// The result, which becomes action.run.result of mechanic/actions/perform,
// is {"message_id": "…", "accepted_recipients": ["…"], "server_response":
// "250 …"}. A 4xx reply or a connection failure is transient (the run is
// retried on the action retry schedule); a 5xx reply fails the run with
// the server's reply. The relay's password never appears in results,
// errors or logs.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"path"
	"strings"
	"time"

	"github.com/inbucket/html2text"
	"github.com/vanng822/go-premailer/premailer"
	gomail "github.com/wneessen/go-mail"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type name the email action is registered under.
const Type = "email"

// DefaultTemplate is the template used when the action names none.
const DefaultTemplate = "default"

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxRecipients bounds to, cc and bcc together (Postmark's limit,
	// which Mechanic sends through).
	DefaultMaxRecipients = 50
	// DefaultMaxMessageBytes bounds a message, attachments and encoding
	// included (Postmark's 10 MB).
	DefaultMaxMessageBytes = 10 << 20
	// DefaultTimeout bounds one delivery: connecting, TLS, authentication
	// and the transfer.
	DefaultTimeout = 60 * time.Second
)

// Templates looks up email templates by name.
type Templates interface {
	// EmailTemplate returns the Liquid source of the named template;
	// found is false when there is no such template.
	EmailTemplate(ctx context.Context, name string) (source string, found bool, err error)
}

// FileGenerator produces the content of one attachment from its file
// generator spec (a string for plaintext, or a one-key hash such as
// {"base64": "…"}, {"url": "…"}, {"zip": {…}}, {"pdf": {…}}). contentType
// may be empty, then it is derived from filename. Errors should be
// classified with package action (a *action.ValidationError for a bad spec,
// action.Transient for a network failure).
type FileGenerator interface {
	Generate(ctx context.Context, filename string, spec any) (content []byte, contentType string, err error)
}

// FileGeneratorFunc adapts a function to FileGenerator.
type FileGeneratorFunc func(ctx context.Context, filename string, spec any) ([]byte, string, error)

// Generate calls f.
func (f FileGeneratorFunc) Generate(ctx context.Context, filename string, spec any) ([]byte, string, error) {
	return f(ctx, filename, spec)
}

// Config configures a Performer.
type Config struct {
	// Relay is the SMTP relay (see ParseURL); nil means email is not
	// configured and every email action fails, saying so.
	Relay *Relay
	// From is the sender address (SPROCKET_EMAIL_FROM); required with Relay.
	From string
	// Templates serves email templates; nil means there are none.
	Templates Templates
	// Files generates attachments; nil means attachments fail.
	Files FileGenerator
	// Engine renders templates; nil means Mechanic's Liquid dialect.
	Engine *liquid.Engine
	// TLSConfig is used for STARTTLS and implicit TLS; nil means the
	// system roots with ServerName set to the relay's host.
	TLSConfig *tls.Config
	// Timeout bounds one delivery; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxRecipients bounds to, cc and bcc together; DefaultMaxRecipients when zero.
	MaxRecipients int
	// MaxMessageBytes bounds a message; DefaultMaxMessageBytes when zero.
	MaxMessageBytes int
	// Logger receives one debug record per message; nil discards.
	Logger *slog.Logger
}

// Performer performs email actions. It is safe for concurrent use.
type Performer struct {
	cfg    Config
	from   *mail.Address
	engine *liquid.Engine
	log    *slog.Logger
}

// New returns a Performer. It fails when a relay is configured without a
// valid sender address.
func New(cfg Config) (*Performer, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	p := &Performer{cfg: cfg, engine: cfg.Engine, log: cfg.Logger}
	if p.engine == nil {
		p.engine = dialect.NewEngine(dialect.Options{})
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Relay != nil || cfg.From != "" {
		if cfg.From == "" {
			return nil, errors.New("email: the sender address (SPROCKET_EMAIL_FROM) is required with an SMTP relay")
		}
		a, err := mail.ParseAddress(cfg.From)
		if err != nil {
			return nil, fmt.Errorf("email: sender address %q: %w", cfg.From, err)
		}
		p.from = a
	}
	return p, nil
}

// Validate checks the options of an email action.
func (p *Performer) Validate(options any) error {
	_, err := parseOptions(options, p.cfg.MaxRecipients)
	return err
}

// Perform renders the message and sends it through the relay.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	msg, err := parseOptions(req.Options, p.cfg.MaxRecipients)
	if err != nil {
		return action.Result{}, err
	}
	if p.cfg.Relay == nil {
		return action.Result{}, action.Failed(errors.New("email action: email is not configured on this server: set SPROCKET_SMTP_URL and SPROCKET_EMAIL_FROM"))
	}
	m, err := p.build(ctx, msg)
	if err != nil {
		return action.Result{}, err
	}
	started := time.Now()
	resp, err := p.send(ctx, m)
	if err != nil {
		p.log.Debug("email not sent", "relay", p.cfg.Relay.String(), "run", req.RunID, "error", err)
		return action.Result{}, err
	}
	accepted := make([]any, 0, len(msg.to)+len(msg.cc)+len(msg.bcc))
	for _, l := range [][]*mail.Address{msg.to, msg.cc, msg.bcc} {
		for _, a := range l {
			accepted = append(accepted, a.Address)
		}
	}
	out := value.NewMap(3)
	out.Set("message_id", strings.Trim(m.GetMessageID(), "<>"))
	out.Set("accepted_recipients", accepted)
	out.Set("server_response", resp)
	meta := value.NewMap(1)
	meta.Set("duration_ms", time.Since(started).Milliseconds())
	p.log.Debug("email sent", "relay", p.cfg.Relay.String(), "run", req.RunID, "message_id", m.GetMessageID(), "recipients", len(accepted))
	return action.Result{Value: out, Meta: meta}, nil
}

// build renders the template, generates attachments and assembles the
// message.
func (p *Performer) build(ctx context.Context, msg *message) (*gomail.Msg, error) {
	html, err := p.renderBody(ctx, msg)
	if err != nil {
		return nil, err
	}
	html = p.inlineCSS(html)
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	name := msg.fromDisplayName
	if name == "" {
		name = p.from.Name
	}
	m.FromMailAddress(&mail.Address{Name: name, Address: p.from.Address})
	m.SetAddrHeaderFromMailAddress(gomail.HeaderTo, msg.to...)
	if len(msg.cc) > 0 {
		m.SetAddrHeaderFromMailAddress(gomail.HeaderCc, msg.cc...)
	}
	if len(msg.bcc) > 0 {
		m.SetAddrHeaderFromMailAddress(gomail.HeaderBcc, msg.bcc...)
	}
	if msg.replyTo != nil {
		m.ReplyToMailAddress(msg.replyTo)
	}
	m.Subject(msg.subject)
	m.SetMessageIDWithValue(newMessageID(p.from.Address))
	m.SetDate()
	for _, h := range msg.headers {
		m.SetGenHeader(gomail.Header(h[0]), h[1])
	}
	text, err := html2text.FromString(html, html2text.Options{PrettyTables: false})
	if err != nil {
		return nil, action.Failed(fmt.Errorf("email action: option %q: derive the plain-text part: %w", optBody, err))
	}
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)

	total := len(html) + len(text)
	for _, a := range msg.attachments {
		field := optAttachments + "." + a.name
		if p.cfg.Files == nil {
			return nil, action.Failed(fmt.Errorf("email action: option %q: file generators are not available on this server", field))
		}
		data, ct, err := p.cfg.Files.Generate(ctx, a.name, a.spec)
		if err != nil {
			return nil, fmt.Errorf("email action: attachment %q: %w", a.name, err)
		}
		total += len(data)
		if total > p.cfg.MaxMessageBytes {
			return nil, action.Failed(fmt.Errorf("email action: option %q: the message would exceed %d bytes", field, p.cfg.MaxMessageBytes))
		}
		if ct == "" {
			ct = contentTypeOf(a.name)
		}
		opts := []gomail.FileOption{gomail.WithFileContentType(gomail.ContentType(ct))}
		if strings.Contains(html, "cid:"+a.name) {
			opts = append(opts, gomail.WithFileContentID(a.name))
			m.EmbedReadSeeker(a.name, bytes.NewReader(data), opts...)
		} else {
			m.AttachReadSeeker(a.name, bytes.NewReader(data), opts...)
		}
	}
	var cw countWriter
	if _, err := m.WriteTo(&cw); err != nil {
		return nil, action.Failed(fmt.Errorf("email action: encode message: %w", err))
	}
	if cw.n > int64(p.cfg.MaxMessageBytes) {
		return nil, action.Failed(fmt.Errorf("email action: the encoded message is %d bytes, more than the limit of %d", cw.n, p.cfg.MaxMessageBytes))
	}
	return m, nil
}

// renderBody renders the email template, if any, with the options as
// variables; without one, the body option is the HTML body.
func (p *Performer) renderBody(ctx context.Context, msg *message) (string, error) {
	name := msg.template
	if !msg.hasTemplate {
		name = DefaultTemplate
	}
	if p.cfg.Templates == nil {
		if msg.hasTemplate {
			return "", action.Failed(fmt.Errorf("email action: option %q: email template %q not found (no templates are configured)", optTemplate, name))
		}
		return msg.body, nil
	}
	src, found, err := p.cfg.Templates.EmailTemplate(ctx, name)
	if err != nil {
		return "", action.Transient(fmt.Errorf("email action: load email template %q: %w", name, err))
	}
	if !found {
		if msg.hasTemplate {
			return "", action.Failed(fmt.Errorf("email action: option %q: email template %q not found", optTemplate, name))
		}
		return msg.body, nil
	}
	t, err := p.engine.Parse(src)
	if err != nil {
		return "", action.Failed(fmt.Errorf("email action: email template %q: %w", name, err))
	}
	env := value.NewMap(msg.vars.Len())
	msg.vars.Each(func(k string, v any) bool {
		env.Set(k, v)
		return true
	})
	out, err := t.RenderMap(ctx, env, &liquid.RenderOptions{Limits: liquid.Limits{OutputBytes: int64(p.cfg.MaxMessageBytes)}})
	if err != nil {
		return "", action.Failed(fmt.Errorf("email action: render email template %q: %w", name, err))
	}
	return out, nil
}

// inlineCSS moves the rules of <style> elements into style attributes,
// as email clients ignore style sheets; rules that cannot be inlined
// (media queries, pseudo-classes) stay in a <style> element. HTML without
// <style> is left exactly as it is.
func (p *Performer) inlineCSS(html string) string {
	if !strings.Contains(strings.ToLower(html), "<style") {
		return html
	}
	pm, err := premailer.NewPremailerFromString(html, premailer.NewOptions())
	if err == nil {
		var out string
		if out, err = pm.Transform(); err == nil {
			return out
		}
	}
	p.log.Warn("email body: CSS not inlined; sending the style sheet as written", "error", err)
	return html
}

// send delivers m and returns the server's final reply.
func (p *Performer) send(ctx context.Context, m *gomail.Msg) (string, error) {
	r := p.cfg.Relay
	tc := p.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tc = tc.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = r.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(r.Port),
		gomail.WithTimeout(p.cfg.Timeout),
		gomail.WithTLSConfig(tc),
		gomail.WithHELO(heloName(p.from.Address)),
	}
	switch r.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if r.Username != "" {
		// Over TLS the strongest mechanism the relay offers is chosen; a
		// tls=none relay (on loopback) gets PLAIN in the clear, as asked.
		mech := gomail.SMTPAuthAutoDiscover
		if r.TLS == TLSNone {
			mech = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(r.Username), gomail.WithPassword(r.Password))
	}
	c, err := gomail.NewClient(r.Host, opts...)
	if err != nil {
		return "", action.Failed(fmt.Errorf("email action: SMTP client for %s: %w", r, err))
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return "", p.classify(err)
	}
	return m.ServerResponse(), nil
}

// classify sorts a delivery error: 4xx replies and connection failures
// are transient, 5xx replies, TLS certificate problems and everything
// else fail the run. The relay password is removed from the message.
func (p *Performer) classify(err error) error {
	msg := "email action: send through " + p.cfg.Relay.String() + ": " + err.Error()
	if pw := p.cfg.Relay.Password; pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	e := &sendError{msg: msg, err: err}
	var se *gomail.SendError
	var tp *textproto.Error
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	switch {
	case errors.As(err, &se):
		code := se.ErrorCode()
		switch {
		case se.IsTemp() || (code >= 400 && code < 500):
			return action.Transient(e)
		case code >= 500:
			return action.Failed(e)
		}
		return action.Transient(e) // no reply code: the connection broke
	case errors.As(err, &tp):
		if tp.Code >= 400 && tp.Code < 500 {
			return action.Transient(e)
		}
		return action.Failed(e)
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return action.Failed(e)
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, net.ErrClosed):
		return action.Transient(e)
	}
	return action.Failed(e)
}

// sendError carries a redacted message while keeping the cause for errors.As.
type sendError struct {
	msg string
	err error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// newMessageID returns a unique Message-ID at the sender's domain.
func newMessageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := "sprocket.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return hex.EncodeToString(b[:]) + "@" + domain
}

// heloName is the name the client greets the relay with.
func heloName(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		return from[i+1:]
	}
	return "localhost"
}

// contentTypeOf derives an attachment's media type from its filename.
func contentTypeOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".json":
		return "application/json"
	case ".pdf":
		return "application/pdf"
	case ".zip":
		return "application/zip"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// countWriter counts bytes written.
type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	return len(b), nil
}
