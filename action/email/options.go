package email

import (
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Documented option names.
const (
	optTo              = "to"
	optCc              = "cc"
	optBcc             = "bcc"
	optSubject         = "subject"
	optBody            = "body"
	optReplyTo         = "reply_to"
	optFromDisplayName = "from_display_name"
	optHeaders         = "headers"
	optTemplate        = "template"
	optAttachments     = "attachments"
)

// reservedHeaders may not be set through the headers option: the action
// sets them from its other options or from the message structure.
var reservedHeaders = map[string]string{
	"From":                      "use from_display_name; the address is the server's",
	"Sender":                    "the sender is the server's address",
	"To":                        "use the to option",
	"Cc":                        "use the cc option",
	"Bcc":                       "use the bcc option",
	"Subject":                   "use the subject option",
	"Reply-To":                  "use the reply_to option",
	"Date":                      "it is set when the message is sent",
	"Message-Id":                "it is set when the message is sent",
	"Mime-Version":              "it follows from the message structure",
	"Content-Type":              "it follows from the message structure",
	"Content-Transfer-Encoding": "it follows from the message structure",
	"Content-Disposition":       "it follows from the message structure",
}

// message is a parsed email action.
type message struct {
	to, cc, bcc     []*mail.Address
	subject         string
	body            string
	replyTo         *mail.Address
	fromDisplayName string
	headers         [][2]string // canonical name, value; in option order
	template        string      // "" means the "default" template, if any
	hasTemplate     bool        // whether the template option named one
	attachments     []attachmentSpec
	vars            *value.Map // every option, for the template
}

// attachmentSpec is one entry of the attachments option.
type attachmentSpec struct {
	name string
	spec any
}

func invalid(field, format string, args ...any) error {
	return action.Invalid(Type, field, format, args...)
}

// parseOptions reads and checks email action options. Errors are
// *action.ValidationError values naming the option.
func parseOptions(options any, maxRecipients int) (*message, error) {
	m, ok := options.(*value.Map)
	if !ok {
		return nil, invalid("", "options must be a hash with to, subject and body, got %s", value.TypeName(options))
	}
	msg := &message{vars: m}
	var err error
	if msg.to, err = addressList(m, optTo, true); err != nil {
		return nil, err
	}
	if msg.cc, err = addressList(m, optCc, false); err != nil {
		return nil, err
	}
	if msg.bcc, err = addressList(m, optBcc, false); err != nil {
		return nil, err
	}
	if n := len(msg.to) + len(msg.cc) + len(msg.bcc); n > maxRecipients {
		return nil, invalid(optTo, "%d recipients in to, cc and bcc together; at most %d are allowed", n, maxRecipients)
	}
	if msg.subject, err = requiredString(m, optSubject); err != nil {
		return nil, err
	}
	if strings.TrimSpace(msg.subject) == "" {
		return nil, invalid(optSubject, "must not be empty")
	}
	if msg.body, err = requiredString(m, optBody); err != nil {
		return nil, err
	}
	if v, ok := m.Get(optReplyTo); ok && v != nil && v != "" {
		s, isStr := v.(string)
		if !isStr {
			return nil, invalid(optReplyTo, "must be a single address string, got %s", value.TypeName(v))
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, invalid(optReplyTo, "%q is not an email address: %v", s, err)
		}
		msg.replyTo = a
	}
	if v, ok := m.Get(optFromDisplayName); ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			return nil, invalid(optFromDisplayName, "must be a string, got %s", value.TypeName(v))
		}
		if strings.ContainsAny(s, "\r\n") {
			return nil, invalid(optFromDisplayName, "must not contain line breaks")
		}
		msg.fromDisplayName = strings.TrimSpace(s)
	}
	if err := parseHeaders(m, msg); err != nil {
		return nil, err
	}
	if v, ok := m.Get(optTemplate); ok && v != nil && v != "" {
		s, isStr := v.(string)
		if !isStr {
			return nil, invalid(optTemplate, "must be the name of an email template, got %s", value.TypeName(v))
		}
		msg.template, msg.hasTemplate = s, true
	}
	if err := parseAttachments(m, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func requiredString(m *value.Map, name string) (string, error) {
	v, ok := m.Get(name)
	if !ok || v == nil {
		return "", invalid(name, "is required")
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid(name, "must be a string, got %s", value.TypeName(v))
	}
	return s, nil
}

// addressList reads an array of addresses or a comma-separated string.
func addressList(m *value.Map, name string, required bool) ([]*mail.Address, error) {
	v, ok := m.Get(name)
	if !ok || v == nil || v == "" {
		if required {
			return nil, invalid(name, "is required: an array or comma-separated string of addresses")
		}
		return nil, nil
	}
	var parts []string
	switch x := v.(type) {
	case string:
		parts = splitAddresses(x)
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, invalid(fmt.Sprintf("%s.%d", name, i), "must be an address string, got %s", value.TypeName(e))
			}
			parts = append(parts, splitAddresses(s)...)
		}
	default:
		return nil, invalid(name, "must be an array or comma-separated string of addresses, got %s", value.TypeName(v))
	}
	var out []*mail.Address
	for _, p := range parts {
		a, err := mail.ParseAddress(p)
		if err != nil {
			return nil, invalid(name, "%q is not an email address: %v", p, err)
		}
		out = append(out, a)
	}
	if len(out) == 0 && required {
		return nil, invalid(name, "is required: an array or comma-separated string of addresses")
	}
	return out, nil
}

// splitAddresses splits a comma-separated list, keeping commas inside
// quoted display names, and drops empty entries.
func splitAddresses(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	flush := func() {
		if p := strings.TrimSpace(cur.String()); p != "" {
			out = append(out, p)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted = !quoted
		case (r == ',' || r == ';') && !quoted:
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

func parseHeaders(m *value.Map, msg *message) error {
	v, ok := m.Get(optHeaders)
	if !ok || v == nil {
		return nil
	}
	hm, isMap := v.(*value.Map)
	if !isMap {
		return invalid(optHeaders, "must be a hash of header names to strings, got %s", value.TypeName(v))
	}
	var err error
	hm.Each(func(k string, hv any) bool {
		field := optHeaders + "." + k
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r > '~' || r == ':' }) >= 0 {
			err = invalid(field, "is not a valid header name")
			return false
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		if why, bad := reservedHeaders[canon]; bad {
			err = invalid(field, "cannot be set: %s", why)
			return false
		}
		var s string
		switch x := hv.(type) {
		case string:
			s = x
		case nil:
			err = invalid(field, "must be a string, got null")
			return false
		case bool, int64, float64:
			s = value.ToString(x)
		default:
			err = invalid(field, "must be a string, got %s", value.TypeName(hv))
			return false
		}
		if strings.ContainsAny(s, "\r\n") {
			err = invalid(field, "must not contain line breaks")
			return false
		}
		msg.headers = append(msg.headers, [2]string{canon, s})
		return true
	})
	return err
}

func parseAttachments(m *value.Map, msg *message) error {
	v, ok := m.Get(optAttachments)
	if !ok || v == nil {
		return nil
	}
	am, isMap := v.(*value.Map)
	if !isMap {
		if arr, isArr := v.([]any); isArr && len(arr) == 0 {
			return nil // an empty hash rendered by a Liquid array-ish value
		}
		return invalid(optAttachments, "must be a hash of filenames to file generators, got %s", value.TypeName(v))
	}
	var err error
	am.Each(func(name string, spec any) bool {
		field := optAttachments + "." + name
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\x00\r\n/\\") {
			err = invalid(field, "is not a valid filename")
			return false
		}
		switch x := spec.(type) {
		case string:
		case *value.Map:
			if x.Len() != 1 {
				err = invalid(field, "must be a string or a hash with one key naming a file generator, got %d keys", x.Len())
				return false
			}
		default:
			err = invalid(field, "must be a string or a hash with one key naming a file generator, got %s", value.TypeName(spec))
			return false
		}
		msg.attachments = append(msg.attachments, attachmentSpec{name: name, spec: spec})
		return true
	})
	return err
}
