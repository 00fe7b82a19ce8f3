package email_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/email"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/internal/smtptest"
	"github.com/sprocketrun/sprocket/liquid/value"
)

const sender = "shop@sprocket.test"

// files reuses the http action's built-in file generators (plaintext,
// base64, url, zip), as the service does.
func files() email.FileGenerator {
	g := actionhttp.New(actionhttp.Config{}).Files()
	return email.FileGeneratorFunc(func(ctx context.Context, name string, spec any) ([]byte, string, error) {
		f, err := g.Generate(ctx, name, spec)
		return f.Data, f.ContentType, err
	})
}

// templates is an in-memory template store.
type templates map[string]string

func (t templates) EmailTemplate(_ context.Context, name string) (string, bool, error) {
	s, ok := t[name]
	return s, ok, nil
}

func startServer(t *testing.T, o smtptest.Options) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newPerformer(t *testing.T, s *smtptest.Server, mod func(*email.Config)) *email.Performer {
	t.Helper()
	relay, err := email.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := email.Config{Relay: relay, From: sender, Files: files(), TLSConfig: &tls.Config{RootCAs: s.RootCAs()}, Timeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	p, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func opts(t *testing.T, js string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatalf("options %s: %v", js, err)
	}
	return v
}

func perform(t *testing.T, p *email.Performer, js string) (action.Result, error) {
	t.Helper()
	o := opts(t, js)
	if err := p.Validate(o); err != nil {
		return action.Result{}, err
	}
	return p.Perform(context.Background(), action.Request{Type: email.Type, Options: o, RunID: "run-1", Attempt: 1})
}

func parse(t *testing.T, m smtptest.Message) *enmime.Envelope {
	t.Helper()
	env, err := enmime.ReadEnvelope(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse sent message: %v\n%s", err, m.Data)
	}
	return env
}

// TestSendAllOptions sends a message using every option and checks what
// the SMTP server received: envelope, headers, the multipart/alternative
// body with its generated plain-text part, and the attachments.
func TestSendAllOptions(t *testing.T) {
	s := startServer(t, smtptest.Options{})
	p := newPerformer(t, s, nil)
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 fake"))
	res, err := perform(t, p, `{
		"to": "ann@example.com, \"Bo, Jr.\" <bo@example.com>",
		"cc": ["cy@example.com"],
		"bcc": "hidden@example.com",
		"subject": "Grüße – order #1001",
		"body": "<p>Hello <b>Ann</b>,</p><p>Your order shipped.</p>",
		"reply_to": "help@shop.example",
		"from_display_name": "Example Shop",
		"headers": {"X-Campaign": "fall", "List-Unsubscribe": "<mailto:u@shop.example>"},
		"attachments": {"notes.txt": "line 1\nline 2", "invoice.pdf": {"base64": "`+pdf+`"}, "bundle.zip": {"zip": {"files": {"a.txt": "hello", "inner/b.csv": "x,y"}}}}
	}`)
	if err != nil {
		t.Fatalf("perform: %v", err)
	}
	msgs := s.Wait(1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != sender {
		t.Errorf("envelope from %q, want %q", m.From, sender)
	}
	wantRcpt := []string{"ann@example.com", "bo@example.com", "cy@example.com", "hidden@example.com"}
	if strings.Join(m.To, ",") != strings.Join(wantRcpt, ",") {
		t.Errorf("envelope recipients %v, want %v", m.To, wantRcpt)
	}
	env := parse(t, m)
	for _, c := range []struct{ header, want string }{
		{"From", `"Example Shop" <shop@sprocket.test>`},
		{"Subject", "Grüße – order #1001"},
		{"Reply-To", "<help@shop.example>"},
		{"X-Campaign", "fall"},
		{"List-Unsubscribe", "<mailto:u@shop.example>"},
		{"Bcc", ""},
	} {
		if got := env.GetHeader(c.header); got != c.want {
			t.Errorf("header %s = %q, want %q", c.header, got, c.want)
		}
	}
	to, _ := env.AddressList("To")
	if len(to) != 2 || to[1].Name != "Bo, Jr." || to[1].Address != "bo@example.com" {
		t.Errorf("To = %v", to)
	}
	if strings.Contains(string(m.Data), "hidden@example.com") {
		t.Error("the bcc address appears in the message")
	}
	if env.Root.ContentType != "multipart/mixed" {
		t.Errorf("root is %s, want multipart/mixed", env.Root.ContentType)
	}
	alt := env.Root.FirstChild
	if alt == nil || alt.ContentType != "multipart/alternative" {
		t.Fatalf("first part is %v, want multipart/alternative", alt)
	}
	if alt.FirstChild == nil || alt.FirstChild.ContentType != "text/plain" || alt.FirstChild.NextSibling == nil || alt.FirstChild.NextSibling.ContentType != "text/html" {
		t.Fatalf("alternative parts are not text/plain then text/html")
	}
	if !strings.Contains(env.HTML, "<b>Ann</b>") {
		t.Errorf("html part %q", env.HTML)
	}
	if !strings.Contains(env.Text, "Ann") || !strings.Contains(env.Text, "Your order shipped.") || strings.Contains(env.Text, "<") {
		t.Errorf("plain-text part %q is not the text of the HTML", env.Text)
	}
	got := map[string]string{}
	for _, a := range env.Attachments {
		got[a.FileName] = a.ContentType + "|" + string(a.Content)
	}
	if got["notes.txt"] != "text/plain|line 1\nline 2" {
		t.Errorf("notes.txt = %q", got["notes.txt"])
	}
	if got["invoice.pdf"] != "application/pdf|%PDF-1.4 fake" {
		t.Errorf("invoice.pdf = %q", got["invoice.pdf"])
	}
	zipData, ok := strings.CutPrefix(got["bundle.zip"], "application/zip|")
	if !ok {
		t.Fatalf("bundle.zip = %q", got["bundle.zip"])
	}
	zr, err := zip.NewReader(strings.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		t.Fatalf("bundle.zip: %v", err)
	}
	inZip := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		inZip[f.Name] = string(b)
	}
	if len(inZip) != 2 || inZip["a.txt"] != "hello" || inZip["inner/b.csv"] != "x,y" {
		t.Errorf("bundle.zip holds %v", inZip)
	}
	r := res.Value.(*value.Map)
	id, _ := r.Get("message_id")
	if hdr := env.GetHeader("Message-Id"); hdr != "<"+id.(string)+">" {
		t.Errorf("result message_id %q, header %q", id, hdr)
	}
	acc, _ := r.Get("accepted_recipients")
	if len(acc.([]any)) != 4 {
		t.Errorf("accepted_recipients %v", acc)
	}
	if resp, _ := r.Get("server_response"); !strings.Contains(resp.(string), "OK: queued") {
		t.Errorf("server_response %q", resp)
	}
	if err := action.CheckJSON(res.Value); err != nil {
		t.Errorf("result is not JSON: %v", err)
	}
}

// TestTLSModes sends through each kind of connection the SMTP URL names,
// with authentication, and checks the session's encryption and user.
func TestTLSModes(t *testing.T) {
	for _, c := range []struct {
		mode    string
		wantTLS bool
	}{
		{smtptest.TLSNone, false},
		{smtptest.TLSStartTLS, true},
		{smtptest.TLSImplicit, true},
	} {
		t.Run(c.mode, func(t *testing.T) {
			s := startServer(t, smtptest.Options{TLS: c.mode, Username: "relay-user", Password: "s3cret p@ss"})
			p := newPerformer(t, s, nil)
			if _, err := perform(t, p, `{"to": "a@example.com", "subject": "hi", "body": "hello"}`); err != nil {
				t.Fatalf("perform: %v", err)
			}
			msgs := s.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			if msgs[0].TLS != c.wantTLS || msgs[0].User != "relay-user" {
				t.Errorf("tls %v user %q, want tls %v user relay-user", msgs[0].TLS, msgs[0].User, c.wantTLS)
			}
		})
	}
}

// TestStartTLSUntrusted: a relay whose certificate is not trusted fails the
// run permanently (retrying will not make it trusted).
func TestStartTLSUntrusted(t *testing.T) {
	s := startServer(t, smtptest.Options{TLS: smtptest.TLSStartTLS})
	p := newPerformer(t, s, func(c *email.Config) { c.TLSConfig = nil })
	_, err := perform(t, p, `{"to": "a@example.com", "subject": "hi", "body": "hello"}`)
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v (%v), want a failed run naming the certificate", err, action.Classify(err))
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages delivered", n)
	}
}

// TestFailures: 4xx replies and connection failures are transient, 5xx
// replies fail the run with the server's reply, and the relay password
// never shows in errors.
func TestFailures(t *testing.T) {
	const pw = "hunter2-secret"
	reply := func(code int, msg string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}
	for _, c := range []struct {
		name     string
		opts     smtptest.Options
		password string
		closed   bool
		want     action.Kind
		wantText string
	}{
		{name: "rcpt 550", opts: smtptest.Options{RejectRcpt: func(string) *smtp.SMTPError { return reply(550, "No such user here") }}, want: action.KindFailed, wantText: "No such user here"},
		{name: "rcpt 451", opts: smtptest.Options{RejectRcpt: func(string) *smtp.SMTPError { return reply(451, "Greylisted, try later") }}, want: action.KindTransient, wantText: "Greylisted"},
		{name: "data 554", opts: smtptest.Options{RejectData: func([]byte) *smtp.SMTPError { return reply(554, "Message looks like spam") }}, want: action.KindFailed, wantText: "looks like spam"},
		{name: "data 452", opts: smtptest.Options{RejectData: func([]byte) *smtp.SMTPError { return reply(452, "Mailbox full for now") }}, want: action.KindTransient, wantText: "Mailbox full"},
		{name: "bad password", opts: smtptest.Options{Username: "u", Password: "right"}, password: pw, want: action.KindFailed, wantText: "535"},
		{name: "connection refused", closed: true, want: action.KindTransient, wantText: "connect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, c.opts)
			relay, err := email.ParseURL(s.URL())
			if err != nil {
				t.Fatal(err)
			}
			if c.password != "" {
				relay.Password = c.password
			}
			if c.closed {
				// A port nobody listens on.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				relay.Port = ln.Addr().(*net.TCPAddr).Port
				_ = ln.Close()
			}
			p, err := email.New(email.Config{Relay: relay, From: sender, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = perform(t, p, `{"to": "a@example.com", "subject": "hi", "body": "hello"}`)
			if err == nil {
				t.Fatal("perform succeeded")
			}
			if got := action.Classify(err); got != c.want {
				t.Errorf("kind %v, want %v: %v", got, c.want, err)
			}
			if !strings.Contains(err.Error(), c.wantText) {
				t.Errorf("error %q does not contain %q", err, c.wantText)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestTemplates: the "default" template applies when none is named, a
// named one replaces it, options (custom ones included) are its
// variables, and a missing named template fails the run.
func TestTemplates(t *testing.T) {
	s := startServer(t, smtptest.Options{})
	tpl := templates{
		"default": `<div class="frame">{{ body }}</div>`,
		"order":   `<h1>{{ subject }}</h1><p>First item: {{ order_data.line_items.first.title }}</p>{{ body }}`,
	}
	p := newPerformer(t, s, func(c *email.Config) { c.Templates = tpl })
	for i, c := range []struct {
		name, options, wantHTML string
		wantErr                 string
	}{
		{name: "default", options: `{"to": "a@example.com", "subject": "S", "body": "plain body"}`, wantHTML: `<div class="frame">plain body</div>`},
		{name: "named with custom variables", options: `{"to": "a@example.com", "subject": "Thanks!", "body": "<p>bye</p>", "template": "order", "order_data": {"line_items": [{"title": "Blue mug"}]}}`, wantHTML: `<h1>Thanks!</h1><p>First item: Blue mug</p><p>bye</p>`},
		{name: "missing", options: `{"to": "a@example.com", "subject": "S", "body": "b", "template": "nope"}`, wantErr: `email template "nope" not found`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := perform(t, p, c.options)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || action.Classify(err) != action.KindFailed {
					t.Fatalf("err = %v, want failure %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.Wait(i+1, 5*time.Second)
			env := parse(t, msgs[i])
			if strings.TrimSpace(env.HTML) != c.wantHTML {
				t.Errorf("html %q, want %q", env.HTML, c.wantHTML)
			}
		})
	}
}

// TestInlineCSS: rules of a <style> element end up in style attributes;
// bodies without one are sent as written.
func TestInlineCSS(t *testing.T) {
	s := startServer(t, smtptest.Options{})
	p := newPerformer(t, s, nil)
	_, err := perform(t, p, `{"to": "a@example.com", "subject": "css", "body": "<style>p.note { color: #c00; font-weight: bold }</style><p class=\"note\">Careful</p>"}`)
	if err != nil {
		t.Fatal(err)
	}
	env := parse(t, s.Wait(1, 5*time.Second)[0])
	if !strings.Contains(env.HTML, `style="color:#c00;font-weight:bold"`) && !strings.Contains(env.HTML, `style="color: #c00; font-weight: bold"`) {
		t.Errorf("CSS not inlined: %s", env.HTML)
	}
	if !strings.Contains(env.Text, "Careful") || strings.Contains(env.Text, "color") {
		t.Errorf("text part %q", env.Text)
	}
}

// TestEmbeddedImage: an attachment the body references as cid:<name> is
// sent inline in multipart/related with that Content-ID.
func TestEmbeddedImage(t *testing.T) {
	s := startServer(t, smtptest.Options{})
	p := newPerformer(t, s, nil)
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfake"))
	_, err := perform(t, p, `{"to": "a@example.com", "subject": "logo", "body": "<img src=\"cid:logo.png\">", "attachments": {"logo.png": {"base64": "`+png+`"}, "terms.txt": "be nice"}}`)
	if err != nil {
		t.Fatal(err)
	}
	env := parse(t, s.Wait(1, 5*time.Second)[0])
	var inline *enmime.Part
	for _, p := range append(append([]*enmime.Part{}, env.Inlines...), env.OtherParts...) {
		if p.ContentID == "logo.png" {
			inline = p
		}
	}
	if inline == nil || inline.ContentType != "image/png" || !bytes.HasPrefix(inline.Content, []byte("\x89PNG")) {
		t.Fatalf("no inline image/png with Content-ID logo.png; inlines %v other %v", env.Inlines, env.OtherParts)
	}
	if !strings.Contains(string(s.Messages()[0].Data), "multipart/related") {
		t.Error("message has no multipart/related part")
	}
	if len(env.Attachments) != 1 || env.Attachments[0].FileName != "terms.txt" {
		t.Errorf("attachments %v, want terms.txt only", env.Attachments)
	}
}

// TestValidation: bad options fail before anything is sent, naming the
// option.
func TestValidation(t *testing.T) {
	p, err := email.New(email.Config{})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = `"u` + strings.Repeat("x", i%3) + `@example.com"`
	}
	for _, c := range []struct{ options, field string }{
		{`{"subject": "s", "body": "b"}`, "to"},
		{`{"to": "not an address", "subject": "s", "body": "b"}`, "to"},
		{`{"to": ["a@example.com", 5], "subject": "s", "body": "b"}`, "to.1"},
		{`{"to": [` + strings.Join(many, ",") + `], "subject": "s", "body": "b"}`, "to"},
		{`{"to": "a@example.com", "body": "b"}`, "subject"},
		{`{"to": "a@example.com", "subject": "s"}`, "body"},
		{`{"to": "a@example.com", "subject": "s", "body": {"x": 1}}`, "body"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "cc": "nope"}`, "cc"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "reply_to": ["a@example.com"]}`, "reply_to"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "headers": {"Subject": "x"}}`, "headers.Subject"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "headers": {"X-A": "1\r\nBcc: evil@example.com"}}`, "headers.X-A"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "from_display_name": "a\nb"}`, "from_display_name"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "template": 3}`, "template"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "attachments": "x"}`, "attachments"},
		{`{"to": "a@example.com", "subject": "s", "body": "b", "attachments": {"a.txt": {"base64": "x", "url": "y"}}}`, "attachments.a.txt"},
		{`["to"]`, ""},
	} {
		err := p.Validate(opts(t, c.options))
		var ve *action.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a validation error", c.options, err)
			continue
		}
		if ve.Field != c.field || ve.Type != email.Type {
			t.Errorf("%s: error names %s option %q, want email option %q (%v)", c.options, ve.Type, ve.Field, c.field, err)
		}
	}
}

// TestLimitsAndConfiguration: an oversized message and a server without
// a relay fail the run without sending.
func TestLimitsAndConfiguration(t *testing.T) {
	s := startServer(t, smtptest.Options{})
	p := newPerformer(t, s, func(c *email.Config) { c.MaxMessageBytes = 1 << 20 })
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 2<<20))
	_, err := perform(t, p, `{"to": "a@example.com", "subject": "s", "body": "b", "attachments": {"big.bin": {"base64": "`+big+`"}}}`)
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "exceed") {
		t.Errorf("oversized: err = %v", err)
	}
	unconfigured, err := email.New(email.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = perform(t, unconfigured, `{"to": "a@example.com", "subject": "s", "body": "b"}`)
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "SPROCKET_SMTP_URL") {
		t.Errorf("unconfigured: err = %v", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	if _, err := email.New(email.Config{Relay: &email.Relay{Host: "x", Port: 25}}); err == nil {
		t.Error("New accepted a relay without a sender address")
	}
}

// TestParseURL covers the SMTP URL forms and that errors and String never
// show the password.
func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		raw     string
		want    email.Relay
		wantErr string
	}{
		{raw: "smtp://user:p%40ss@mail.example.com:2525", want: email.Relay{Host: "mail.example.com", Port: 2525, Username: "user", Password: "p@ss", TLS: email.TLSStartTLS}},
		{raw: "smtp://mail.example.com", want: email.Relay{Host: "mail.example.com", Port: 587, TLS: email.TLSStartTLS}},
		{raw: "smtps://u:pw@mail.example.com", want: email.Relay{Host: "mail.example.com", Port: 465, Username: "u", Password: "pw", TLS: email.TLSImplicit}},
		{raw: "smtp://127.0.0.1:2525?tls=none", want: email.Relay{Host: "127.0.0.1", Port: 2525, TLS: email.TLSNone}},
		{raw: "smtps://127.0.0.1:2525?tls=none", wantErr: "contradicts"},
		{raw: "http://u:topsecret@x", wantErr: "scheme"},
		{raw: "smtp://u:topsecret@x:99999", wantErr: "port"},
		{raw: "smtp://u:topsecret@x?tls=maybe", wantErr: "tls"},
		{raw: "smtp://u:topsecret@:25", wantErr: "host"},
		{raw: "smtp://u:topsecret@x y:25/%zz", wantErr: "valid URL"},
	} {
		r, err := email.ParseURL(c.raw)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "topsecret") {
				t.Errorf("%s: err = %v, want %q without the password", c.raw, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if *r != c.want {
			t.Errorf("%s: got %+v, want %+v", c.raw, *r, c.want)
		}
		if r.Password != "" && strings.Contains(r.String(), r.Password) {
			t.Errorf("%s: String %q shows the password", c.raw, r.String())
		}
	}
}
