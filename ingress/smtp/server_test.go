package smtp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	netsmtp "net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/ingress/smtp"
	"github.com/sprocketrun/sprocket/internal/smtptest"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// storeSink commits events straight into a real SQLite store and
// remembers their ids.
type storeSink struct {
	st   *sqlite.Store
	fail error
	mu   sync.Mutex
	ids  []string
}

func (s *storeSink) Commit(ctx context.Context, topic string, data json.RawMessage, at time.Time) (string, error) {
	if s.fail != nil {
		return "", s.fail
	}
	evs, err := s.st.InsertEvents(ctx, []store.NewEvent{{ID: store.NewTimeID(at), Topic: topic, Data: data, Source: "email"}})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.ids = append(s.ids, evs[0].ID)
	s.mu.Unlock()
	return evs[0].ID, nil
}

func (s *storeSink) last(t *testing.T) map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		t.Fatal("no event was committed")
	}
	ev, err := s.st.GetEvent(context.Background(), s.ids[len(s.ids)-1])
	if err != nil {
		t.Fatalf("event not in the store: %v", err)
	}
	if ev.Topic != smtp.Topic {
		t.Fatalf("topic %q", ev.Topic)
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type inbound struct {
	addr string
	sink *storeSink
}

func start(t testing.TB, mod func(*smtp.Config)) *inbound {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sink := &storeSink{st: st}
	cfg := smtp.Config{Domains: []string{"in.sprocket.test", "Other.Example"}, Sink: sink, Hostname: "mx.sprocket.test",
		Now: func() time.Time { return time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &inbound{addr: ln.Addr().String(), sink: sink}
}

// send delivers raw with net/smtp and returns the error of the first
// command that failed.
func send(addr string, tlsCfg *tls.Config, from string, to []string, raw []byte) error {
	c, err := netsmtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	if tlsCfg != nil {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// documentedKeys are the keys platform/email/receiving-email.md lists,
// plus the rest of Postmark's inbound fields.
var documentedKeys = []string{
	"attachments", "bcc", "bcc_full", "cc", "cc_full", "date", "from", "from_full", "from_name", "headers",
	"html_body", "mailbox_hash", "message_id", "message_stream", "original_recipient", "reply_to",
	"stripped_text_reply", "subject", "tag", "text_body", "to", "to_full",
}

// TestReceive sends real messages over SMTP and checks the stored
// mechanic/emails/received event data.
func TestReceive(t *testing.T) {
	in := start(t, nil)
	pdf := []byte("%PDF-1.4\nfake pdf\n")
	png := []byte("\x89PNG\r\n\x1a\nfake")
	cases := []struct {
		name  string
		rcpt  []string
		raw   []byte
		check func(t *testing.T, e map[string]any)
	}{
		{
			name: "plain",
			rcpt: []string{"shop+orders@in.sprocket.test"},
			raw: crlf(`From: "Ann Example" <ann@example.com>
To: Shop <shop+orders@in.sprocket.test>, bob@example.com
Cc: "Cy" <cy@example.com>
Reply-To: replies@example.com
Subject: Order question
Date: Sat, 05 Dec 2026 10:00:00 +0000
Message-ID: <abc123@example.com>
X-Custom: yes
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Where is my order?

On Fri, Dec 4, 2026 at 9:00 AM Shop <shop@in.sprocket.test> wrote:
> Thanks for your order.
`),
			check: func(t *testing.T, e map[string]any) {
				want := map[string]any{
					"from": "ann@example.com", "from_name": "Ann Example", "subject": "Order question",
					"to": `"Shop" <shop+orders@in.sprocket.test>, bob@example.com`,
					"cc": `"Cy" <cy@example.com>`, "reply_to": "replies@example.com",
					"original_recipient": "shop+orders@in.sprocket.test", "mailbox_hash": "orders",
					"html_body": "", "stripped_text_reply": "Where is my order?", "date": "2026-12-06T05:00:00Z",
					"message_stream": "inbound", "tag": "", "bcc": "",
				}
				for k, v := range want {
					if e[k] != v {
						t.Errorf("%s = %#v, want %#v", k, e[k], v)
					}
				}
				if ff, _ := json.Marshal(e["from_full"]); string(ff) != `{"email":"ann@example.com","mailbox_hash":"","name":"Ann Example"}` {
					t.Errorf("from_full %s", ff)
				}
				if tf, _ := json.Marshal(e["to_full"]); string(tf) != `[{"email":"shop+orders@in.sprocket.test","mailbox_hash":"orders","name":"Shop"},{"email":"bob@example.com","mailbox_hash":"","name":""}]` {
					t.Errorf("to_full %s", tf)
				}
				if !strings.Contains(e["text_body"].(string), "> Thanks for your order.") {
					t.Errorf("text_body %q", e["text_body"])
				}
				hdrs := e["headers"].([]any)
				var names []string
				for _, h := range hdrs {
					names = append(names, h.(map[string]any)["name"].(string))
				}
				if got := strings.Join(names, ","); got != "Received,Date,Message-ID,X-Custom,MIME-Version,Content-Type" {
					t.Errorf("header names %s", got)
				}
				if v := hdrs[0].(map[string]any)["value"].(string); !strings.Contains(v, "from client.example") || !strings.Contains(v, "by mx.sprocket.test") {
					t.Errorf("Received %q", v)
				}
				if len(e["attachments"].([]any)) != 0 || len(e["bcc_full"].([]any)) != 0 {
					t.Errorf("attachments %v bcc_full %v", e["attachments"], e["bcc_full"])
				}
				if id, _ := e["message_id"].(string); len(id) != 36 {
					t.Errorf("message_id %q is not a UUID", id)
				}
			},
		},
		{
			name: "html only",
			rcpt: []string{"a@other.example"},
			raw: crlf(`From: ann@example.com
To: a@other.example
Subject: HTML
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hello <b>there</b></p>
`),
			check: func(t *testing.T, e map[string]any) {
				if !strings.Contains(e["html_body"].(string), "<b>there</b>") {
					t.Errorf("html_body %q", e["html_body"])
				}
				if !strings.Contains(e["text_body"].(string), "there") || strings.Contains(e["text_body"].(string), "<b>") {
					t.Errorf("text_body %q", e["text_body"])
				}
				if e["from_name"] != "" || e["from"] != "ann@example.com" {
					t.Errorf("from %v name %v", e["from"], e["from_name"])
				}
			},
		},
		{
			name: "multipart with attachments",
			rcpt: []string{"orders@in.sprocket.test"},
			raw: crlf(`From: Ann <ann@example.com>
To: orders@in.sprocket.test
Subject: Invoice attached
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MIX"

--MIX
Content-Type: multipart/related; boundary="REL"

--REL
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=utf-8

See the invoice.
--ALT
Content-Type: text/html; charset=utf-8

<p>See the invoice.</p><img src="cid:logo@example.com">
--ALT--
--REL
Content-Type: image/png
Content-Disposition: inline; filename="logo.png"
Content-ID: <logo@example.com>
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString(png) + `
--REL--
--MIX
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString(pdf) + `
--MIX--
`),
			check: func(t *testing.T, e map[string]any) {
				if e["text_body"] != "See the invoice." || !strings.Contains(e["html_body"].(string), "cid:logo@example.com") {
					t.Errorf("text %q html %q", e["text_body"], e["html_body"])
				}
				got := map[string]map[string]any{}
				for _, a := range e["attachments"].([]any) {
					m := a.(map[string]any)
					got[m["name"].(string)] = m
				}
				for name, want := range map[string]struct {
					data    []byte
					ct, cid string
				}{"invoice.pdf": {pdf, "application/pdf", ""}, "logo.png": {png, "image/png", "logo@example.com"}} {
					a := got[name]
					if a == nil {
						t.Errorf("no attachment %s in %v", name, e["attachments"])
						continue
					}
					b, _ := base64.StdEncoding.DecodeString(a["content"].(string))
					if !bytes.Equal(b, want.data) || a["content_type"] != want.ct || a["content_length"] != float64(len(want.data)) || a["content_id"] != want.cid {
						t.Errorf("%s = %v", name, a)
					}
				}
				if len(got) != 2 {
					t.Errorf("%d attachments, want 2", len(got))
				}
			},
		},
		{
			name: "ISO-8859-1",
			rcpt: []string{"x@in.sprocket.test"},
			raw: crlf(`From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@example.de>
To: x@in.sprocket.test
Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=
X-Note: =?ISO-8859-1?Q?sch=F6n?=
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Sch=F6ne Gr=FC=DFe, Andr=E9
`),
			check: func(t *testing.T, e map[string]any) {
				if e["subject"] != "Grüße aus Köln" || e["from_name"] != "André Müller" || strings.TrimSpace(e["text_body"].(string)) != "Schöne Grüße, André" {
					t.Errorf("subject %q from_name %q text %q", e["subject"], e["from_name"], e["text_body"])
				}
				for _, h := range e["headers"].([]any) {
					if m := h.(map[string]any); m["name"] == "X-Note" && m["value"] != "schön" {
						t.Errorf("X-Note %q", m["value"])
					}
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := send(in.addr, nil, "bounce@example.com", c.rcpt, c.raw); err != nil {
				t.Fatalf("send: %v", err)
			}
			// No waiting: the event is in the store once 250 was answered.
			e := in.sink.last(t)
			keys := make([]string, 0, len(e))
			for k := range e {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, documentedKeys) {
				t.Errorf("keys %v, want %v", keys, documentedKeys)
			}
			c.check(t, e)
		})
	}
}

func smtpCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

// TestRefusals: recipients at other domains get 550, oversized messages
// 552, and a failing store 451; none of them leaves an event.
func TestRefusals(t *testing.T) {
	msg := crlf("From: a@example.com\nTo: x@in.sprocket.test\nSubject: s\n\n" + strings.Repeat("0123456789abcdef\n", 8192))
	for _, c := range []struct {
		name string
		mod  func(*smtp.Config)
		rcpt string
		want int
	}{
		{name: "other domain", rcpt: "x@elsewhere.example", want: 550},
		{name: "subdomain is not the domain", rcpt: "x@sub.in.sprocket.test", want: 550},
		{name: "oversized", mod: func(c *smtp.Config) { c.MaxMessageBytes = 64 << 10 }, rcpt: "x@in.sprocket.test", want: 552},
		{name: "store fails", mod: nil, rcpt: "x@in.sprocket.test", want: 451},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := start(t, c.mod)
			if c.want == 451 {
				in.sink.fail = errors.New("disk full")
			}
			err := send(in.addr, nil, "a@example.com", []string{c.rcpt}, msg)
			if got := smtpCode(err); got != c.want {
				t.Fatalf("reply %d (%v), want %d", got, err, c.want)
			}
			if len(in.sink.ids) != 0 {
				t.Fatalf("%d events stored", len(in.sink.ids))
			}
		})
	}
}

// TestStartTLS: with a certificate the server offers STARTTLS and the
// Received header records the encrypted hop.
func TestStartTLS(t *testing.T) {
	cert, pool, err := smtptest.NewCertificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, func(c *smtp.Config) {
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	raw := crlf("From: a@example.com\nTo: x@in.sprocket.test\nSubject: tls\n\nsecret\n")
	if err := send(in.addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, "a@example.com", []string{"x@in.sprocket.test"}, raw); err != nil {
		t.Fatal(err)
	}
	e := in.sink.last(t)
	recv := e["headers"].([]any)[0].(map[string]any)["value"].(string)
	if !strings.Contains(recv, "with ESMTPS") {
		t.Errorf("Received %q does not record TLS", recv)
	}
}

// TestLargeMessage: a 30 MB message (under the default 35 MB limit) is
// received whole.
func TestLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 30 MB")
	}
	in := start(t, nil)
	payload := bytes.Repeat([]byte("sprocket"), (22<<20)/8)
	enc := base64.StdEncoding.EncodeToString(payload)
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: big@in.sprocket.test\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for i := 0; i < len(enc); i += 76 {
		b.WriteString(enc[i:min(i+76, len(enc))])
		b.WriteString("\r\n")
	}
	b.WriteString("--B--\r\n")
	if b.Len() < 30<<20 {
		t.Fatalf("message is only %d bytes", b.Len())
	}
	if err := send(in.addr, nil, "a@example.com", []string{"big@in.sprocket.test"}, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	e := in.sink.last(t)
	a := e["attachments"].([]any)[0].(map[string]any)
	if a["content_length"] != float64(len(payload)) || a["content"] != enc {
		t.Errorf("attachment of %v bytes, want %d", a["content_length"], len(payload))
	}
}

// TestConfig: the server needs a domain and a sink.
func TestConfig(t *testing.T) {
	for _, c := range []smtp.Config{
		{Sink: &storeSink{}},
		{Domains: []string{"a@b.example"}, Sink: &storeSink{}},
		{Domains: []string{"in.example"}},
	} {
		if _, err := smtp.New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

// ExampleParse shows the event data of a small message.
func ExampleParse() {
	raw := crlf("From: Ann <ann@example.com>\nTo: shop+vip@in.example\nSubject: Hi\n\nHello!\n\nOn Mon, Ann wrote:\n> old\n")
	e, err := smtp.Parse(raw, smtp.Envelope{Recipients: []string{"shop+vip@in.example"}, ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.From, e.FromName, e.MailboxHash, e.Date)
	fmt.Printf("%q\n", e.StrippedTextReply)
	// Output:
	// ann@example.com Ann vip 2026-01-02T03:04:05Z
	// "Hello!"
}

// TestMaxConnections: with one connection allowed, a second client gets
// its greeting only once the first has gone.
func TestMaxConnections(t *testing.T) {
	in := start(t, func(c *smtp.Config) { c.MaxConnections = 1 })
	first, err := textproto.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := first.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	second, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	greeted := make(chan error, 1)
	go func() {
		_, _, err := textproto.NewConn(second).ReadResponse(220)
		greeted <- err
	}()
	select {
	case err := <-greeted:
		t.Fatalf("second connection greeted while the first is open (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	_ = first.Close()
	select {
	case err := <-greeted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second connection never greeted")
	}
}

// TestStrippedTextReply: the reply is the text before the quoted earlier
// message, whatever client wrote the quote.
func TestStrippedTextReply(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"no quote", "Just a note.\nSecond line.", "Just a note.\nSecond line."},
		{"gmail", "Yes please.\n\nOn Fri, Dec 4, 2026 at 9:00 AM Shop <s@x.example> wrote:\n> Do you want it?", "Yes please."},
		{"gmail wrapped", "Yes.\n\nOn Fri, Dec 4, 2026 at 9:00 AM Shop Support Team <support@x.example>\nwrote:\n> Q?", "Yes."},
		{"outlook", "Thanks!\n\n-----Original Message-----\nFrom: Shop\nSent: Friday\n\nOld text", "Thanks!"},
		{"outlook from block", "Done.\n\nFrom: Shop <s@x.example>\nSent: Friday, December 4, 2026\nTo: Ann", "Done."},
		{"quoted only", "> old line\n> more", ""},
		{"german", "Ja.\n\nAm 04.12.2026 um 09:00 schrieb Shop <s@x.example>:\n> Frage", "Ja."},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := crlf("From: a@example.com\nTo: x@in.example\nSubject: Re: q\nContent-Type: text/plain; charset=utf-8\n\n" + c.body + "\n")
			e, err := smtp.Parse(raw, smtp.Envelope{ReceivedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(e.StrippedTextReply, "\r\n", "\n"); got != c.want {
				t.Errorf("stripped_text_reply %q, want %q", got, c.want)
			}
		})
	}
}
