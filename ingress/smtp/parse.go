package smtp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/text/encoding/htmlindex"
)

// Email is the data of a mechanic/emails/received event: Postmark's
// inbound JSON with snake_case keys, as platform/email/receiving-email.md
// describes. Arrays are never null.
type Email struct {
	// From is the sender's address; FromName its display name.
	From     string  `json:"from"`
	FromName string  `json:"from_name"`
	FromFull Address `json:"from_full"`
	// To, Cc and Bcc are the header lists as text ("Name" <addr>, …).
	To      string    `json:"to"`
	ToFull  []Address `json:"to_full"`
	Cc      string    `json:"cc"`
	CcFull  []Address `json:"cc_full"`
	Bcc     string    `json:"bcc"`
	BccFull []Address `json:"bcc_full"`
	// OriginalRecipient is the envelope recipient at a receiving domain.
	OriginalRecipient string `json:"original_recipient"`
	// MailboxHash is what follows "+" in that recipient's local part.
	MailboxHash string `json:"mailbox_hash"`
	Subject     string `json:"subject"`
	// MessageID identifies the received message within Sprocket (the
	// message's own Message-ID header is among Headers).
	MessageID string `json:"message_id"`
	ReplyTo   string `json:"reply_to"`
	// Date is when Sprocket received the message, ISO 8601 in UTC.
	Date     string `json:"date"`
	TextBody string `json:"text_body"`
	HTMLBody string `json:"html_body"`
	// StrippedTextReply is the text body without quoted earlier messages.
	StrippedTextReply string `json:"stripped_text_reply"`
	Tag               string `json:"tag"`
	MessageStream     string `json:"message_stream"`
	// Headers are the message's headers in order, decoded, except those
	// with fields of their own (From, To, Cc, Bcc, Subject, Reply-To); a
	// Received header for this server's hop comes first.
	Headers     []Header     `json:"headers"`
	Attachments []Attachment `json:"attachments"`
}

// Address is one mailbox of from_full, to_full, cc_full or bcc_full.
type Address struct {
	Email       string `json:"email"`
	Name        string `json:"name"`
	MailboxHash string `json:"mailbox_hash"`
}

// Header is one message header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is one attached or inline file; Content is base64.
type Attachment struct {
	Name          string `json:"name"`
	Content       string `json:"content"`
	ContentType   string `json:"content_type"`
	ContentLength int    `json:"content_length"`
	ContentID     string `json:"content_id"`
}

// Envelope is what the SMTP session knew about a message.
type Envelope struct {
	// MailFrom is the envelope sender (MAIL FROM).
	MailFrom string
	// Recipients are the accepted envelope recipients (RCPT TO).
	Recipients []string
	// ReceivedAt is when the message was received.
	ReceivedAt time.Time
	// Received, when set, is prepended as a Received header.
	Received string
}

// parser trusts a part's declared charset; it detects one (an expensive
// n-gram analysis) only for text parts that declare none.
var parser = enmime.NewParser(enmime.DisableCharacterDetection(true))

// ownFields are headers with fields of their own in Email.
var ownFields = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "reply-to": true}

// Parse reads a raw RFC 5322 message into the event data. Text is decoded
// to UTF-8 from whatever charset the message declares.
func Parse(raw []byte, env Envelope) (*Email, error) {
	msg, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	e := &Email{
		Subject:       msg.GetHeader("Subject"),
		TextBody:      msg.Text,
		HTMLBody:      msg.HTML,
		MessageStream: "inbound",
		Date:          env.ReceivedAt.UTC().Format(time.RFC3339),
		MessageID:     newUUID(),
		ToFull:        []Address{},
		CcFull:        []Address{},
		BccFull:       []Address{},
		Headers:       []Header{},
		Attachments:   []Attachment{},
	}
	if len(env.Recipients) > 0 {
		e.OriginalRecipient = env.Recipients[0]
		e.MailboxHash = mailboxHash(env.Recipients[0])
	}
	from := addresses(msg, "From")
	switch {
	case len(from) > 0:
		e.FromFull = from[0]
	case env.MailFrom != "":
		e.FromFull = Address{Email: env.MailFrom, MailboxHash: mailboxHash(env.MailFrom)}
	}
	e.From, e.FromName = e.FromFull.Email, e.FromFull.Name
	e.ToFull, e.To = addressField(msg, "To")
	e.CcFull, e.Cc = addressField(msg, "Cc")
	e.BccFull, e.Bcc = addressField(msg, "Bcc")
	if rt := addresses(msg, "Reply-To"); len(rt) > 0 {
		list := make([]string, len(rt))
		for i, a := range rt {
			list[i] = a.Email
		}
		e.ReplyTo = strings.Join(list, ", ")
	}
	if env.Received != "" {
		e.Headers = append(e.Headers, Header{Name: "Received", Value: env.Received})
	}
	for _, h := range orderedHeaders(raw) {
		if !ownFields[strings.ToLower(h.Name)] {
			e.Headers = append(e.Headers, h)
		}
	}
	e.StrippedTextReply = stripReply(e.TextBody)
	n := 0
	for _, group := range [][]*enmime.Part{msg.Attachments, msg.Inlines, msg.OtherParts} {
		for _, p := range group {
			if strings.HasPrefix(p.ContentType, "multipart/") || (len(p.Content) == 0 && p.FileName == "") {
				continue
			}
			n++
			e.Attachments = append(e.Attachments, Attachment{
				Name:          attachmentName(p, n),
				Content:       base64.StdEncoding.EncodeToString(p.Content),
				ContentType:   p.ContentType,
				ContentLength: len(p.Content),
				ContentID:     strings.Trim(p.ContentID, "<>"),
			})
		}
	}
	return e, nil
}

// addresses reads an address header; a header that does not parse as a
// list yields one entry holding its raw text.
func addresses(msg *enmime.Envelope, name string) []Address {
	raw := msg.GetHeader(name)
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	list, err := msg.AddressList(name)
	if err != nil || len(list) == 0 {
		return []Address{{Email: strings.TrimSpace(raw)}}
	}
	out := make([]Address, len(list))
	for i, a := range list {
		out[i] = Address{Email: a.Address, Name: a.Name, MailboxHash: mailboxHash(a.Address)}
	}
	return out
}

// addressField returns a header's addresses and the list as text, names
// quoted, as Postmark writes it.
func addressField(msg *enmime.Envelope, name string) ([]Address, string) {
	list := addresses(msg, name)
	if list == nil {
		return []Address{}, ""
	}
	parts := make([]string, len(list))
	for i, a := range list {
		if a.Name != "" {
			parts[i] = fmt.Sprintf("%q <%s>", a.Name, a.Email)
		} else {
			parts[i] = a.Email
		}
	}
	return list, strings.Join(parts, ", ")
}

// mailboxHash returns what follows the first "+" of the local part.
func mailboxHash(addr string) string {
	local, _, ok := strings.Cut(addr, "@")
	if !ok {
		return ""
	}
	_, hash, _ := strings.Cut(local, "+")
	return hash
}

func attachmentName(p *enmime.Part, n int) string {
	if p.FileName != "" {
		return path.Base(strings.ReplaceAll(p.FileName, `\`, "/"))
	}
	ext := ".bin"
	if exts, _ := mime.ExtensionsByType(p.ContentType); len(exts) > 0 {
		ext = exts[0]
	}
	return fmt.Sprintf("attachment-%d%s", n, ext)
}

// wordDecoder decodes RFC 2047 encoded words in any charset x/text knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(in), nil
}}

// maxHeaders bounds the headers reported.
const maxHeaders = 500

// orderedHeaders reads the message's top-level header block in order,
// unfolding continuation lines and decoding encoded words.
func orderedHeaders(raw []byte) []Header {
	var out []Header
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok || len(out) >= maxHeaders {
			continue
		}
		out = append(out, Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(val)})
	}
	for i := range out {
		if dec, err := wordDecoder.DecodeHeader(out[i].Value); err == nil {
			out[i].Value = dec
		}
	}
	return out
}

// Reply separators: a quoted-message introduction ends the reply.
var (
	wroteLine    = regexp.MustCompile(`(?i)^\s*(on|am|le|el|op)\s.+\b(wrote|schrieb|escribió|a écrit|schreef)\b.*:\s*$`)
	wroteStart   = regexp.MustCompile(`(?i)^\s*on\s.+`)
	originalLine = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|forwarded message)\s*-{2,}`)
	outlookFrom  = regexp.MustCompile(`(?i)^\s*(from|von|de):\s.+`)
	underscores  = regexp.MustCompile(`^\s*_{10,}\s*$`)
)

// stripReply returns the new text of a reply: the lines before the first
// introduction of a quoted message ("On … wrote:", "-----Original
// Message-----", an Outlook "From:" block) or before the first run of
// quoted ("> ") lines, trimmed.
func stripReply(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	cut := len(lines)
	for i, l := range lines {
		switch {
		case wroteLine.MatchString(l),
			originalLine.MatchString(l),
			underscores.MatchString(l),
			strings.HasPrefix(strings.TrimSpace(l), ">"),
			outlookFrom.MatchString(l) && i > 0 && strings.TrimSpace(lines[i-1]) == "":
			cut = i
		case wroteStart.MatchString(l) && i+1 < len(lines) && strings.HasSuffix(strings.TrimSpace(lines[i+1]), "wrote:"):
			cut = i // "On …" wrapped onto the next line
		default:
			continue
		}
		break
	}
	return strings.TrimSpace(strings.Join(lines[:cut], "\n"))
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// formatAddress is used for the Received header's "for" clause.
func formatAddress(a string) string { return (&mail.Address{Address: a}).String() }
