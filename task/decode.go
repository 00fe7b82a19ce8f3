package task

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// ParseError is a problem found while decoding a task document. Field is the
// path of the offending field ("options.foo__number",
// "preview_event_definitions[0].event_attributes.topic"), empty for problems
// of the document as a whole. Offset is the byte offset of the offending
// value or key, and Line and Column (1-based, column in bytes) its position.
type ParseError struct {
	Field   string
	Unknown bool
	Offset  int64
	Line    int
	Column  int
	Err     error
}

// Error formats the problem as `task: field "x": message (line L, column C)`
// or `task: unknown field "x" (line L, column C)`.
func (e *ParseError) Error() string {
	var b bytes.Buffer
	b.WriteString("task: ")
	switch {
	case e.Unknown:
		fmt.Fprintf(&b, "unknown field %q", e.Field)
	case e.Field != "":
		fmt.Fprintf(&b, "field %q: %v", e.Field, e.Err)
	default:
		fmt.Fprint(&b, e.Err)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d, column %d)", e.Line, e.Column)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes one task JSON document strictly: unknown fields, duplicate
// fields, values of the wrong JSON type, invalid option keys and option
// values that do not fit their flags are errors (*ParseError). Required
// options may be empty: exports carry unfilled defaults. The fields name and
// script must be present. Null is accepted for docs, subscriptions_template,
// online_store_javascript and order_status_javascript.
func Parse(data []byte) (*Task, error) {
	d := newDecoder(data)
	t, err := d.task("")
	if err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return t, nil
}

// ParseAll decodes either one task document or a JSON array of them, for
// bulk imports. Mechanic's docs do not show the shape of a multi-task
// export; an array of task documents is assumed.
func ParseAll(data []byte) ([]*Task, error) {
	d := newDecoder(data)
	if d.peek() != '[' {
		t, err := Parse(data)
		if err != nil {
			return nil, err
		}
		return []*Task{t}, nil
	}
	if _, err := d.token(); err != nil {
		return nil, d.syntax(err)
	}
	var out []*Task
	for d.dec.More() {
		t, err := d.task(fmt.Sprintf("[%d]", len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if _, err := d.token(); err != nil {
		return nil, d.syntax(err)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return out, nil
}

type decoder struct {
	data []byte
	dec  *json.Decoder
}

func newDecoder(data []byte) *decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &decoder{data: data, dec: dec}
}

// pos returns the offset of the next token.
func (d *decoder) pos() int64 {
	off := d.dec.InputOffset()
	for off < int64(len(d.data)) {
		switch d.data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// peek returns the first byte of the next token, or 0 at the end.
func (d *decoder) peek() byte {
	off := d.pos()
	if off < int64(len(d.data)) {
		return d.data[off]
	}
	return 0
}

func (d *decoder) token() (json.Token, error) {
	return d.dec.Token()
}

// errAt builds a ParseError for field at offset off.
func (d *decoder) errAt(off int64, field string, err error) *ParseError {
	line, col := lineCol(d.data, off)
	return &ParseError{Field: field, Offset: off, Line: line, Column: col, Err: err}
}

// syntax wraps a JSON syntax or I/O error.
func (d *decoder) syntax(err error) error {
	var se *json.SyntaxError
	off := d.dec.InputOffset()
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of JSON input")
		off = int64(len(d.data))
	}
	return d.errAt(off, "", fmt.Errorf("invalid JSON: %w", err))
}

func (d *decoder) end() error {
	off := d.pos()
	if _, err := d.dec.Token(); err != io.EOF {
		if err != nil {
			return d.syntax(err)
		}
		return d.errAt(off, "", errors.New("unexpected data after the task document"))
	}
	return nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// jsonKind names the JSON type of a token for error messages.
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case json.Delim:
		if t == '{' {
			return "object"
		}
		return "array"
	}
	return fmt.Sprintf("%T", tok)
}

// wrongType reports a value of the wrong JSON type.
func (d *decoder) wrongType(off int64, field, want string, tok json.Token) error {
	return d.errAt(off, field, fmt.Errorf("expected %s, got %s", want, jsonKind(tok)))
}

// str reads a string; with nullable, null gives nil.
func (d *decoder) str(field string, nullable bool) (*string, error) {
	off := d.pos()
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.syntax(err)
	}
	switch t := tok.(type) {
	case string:
		return &t, nil
	case nil:
		if nullable {
			return nil, nil
		}
	}
	want := "string"
	if nullable {
		want = "string or null"
	}
	return nil, d.wrongType(off, field, want, tok)
}

func (d *decoder) boolean(field string) (bool, error) {
	off := d.pos()
	tok, err := d.dec.Token()
	if err != nil {
		return false, d.syntax(err)
	}
	if b, ok := tok.(bool); ok {
		return b, nil
	}
	return false, d.wrongType(off, field, "boolean", tok)
}

// open reads the opening delimiter of an object or array.
func (d *decoder) open(field string, delim json.Delim) error {
	off := d.pos()
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if tok != delim {
		want := "object"
		if delim == '[' {
			want = "array"
		}
		return d.wrongType(off, field, want, tok)
	}
	return nil
}

// close reads the closing delimiter of an object or array.
func (d *decoder) close() error {
	if _, err := d.dec.Token(); err != nil {
		return d.syntax(err)
	}
	return nil
}

func (d *decoder) strings(field string) ([]string, error) {
	if err := d.open(field, '['); err != nil {
		return nil, err
	}
	out := []string{}
	for d.dec.More() {
		s, err := d.str(field+"["+strconv.Itoa(len(out))+"]", false)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, d.close()
}

// key reads an object key and its offset.
func (d *decoder) key() (string, int64, error) {
	off := d.pos()
	tok, err := d.dec.Token()
	if err != nil {
		return "", off, d.syntax(err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", off, d.errAt(off, "", errors.New("invalid object key"))
	}
	return k, off, nil
}

// anyValue reads any JSON value as canonical values.
func (d *decoder) anyValue() (any, error) {
	v, err := value.DecodeJSON(d.dec)
	if err != nil {
		return nil, d.syntax(err)
	}
	return v, nil
}

func (d *decoder) task(prefix string) (*Task, error) {
	startOff := d.pos()
	if err := d.open(prefix, '{'); err != nil {
		return nil, err
	}
	t := &Task{present: map[string]bool{}}
	seen := map[string]bool{}
	for d.dec.More() {
		name, off, err := d.key()
		if err != nil {
			return nil, err
		}
		path := join(prefix, name)
		if seen[name] {
			return nil, d.errAt(off, path, errors.New("duplicate field"))
		}
		seen[name] = true
		switch name {
		case FieldName:
			s, err := d.str(path, false)
			if err != nil {
				return nil, err
			}
			t.Name = *s
		case FieldScript:
			s, err := d.str(path, false)
			if err != nil {
				return nil, err
			}
			t.Script = *s
		case FieldSubscriptions:
			if t.Subscriptions, err = d.strings(path); err != nil {
				return nil, err
			}
		case FieldSubscriptionsTemplate:
			if t.SubscriptionsTemplate, err = d.str(path, true); err != nil {
				return nil, err
			}
		case FieldOptions:
			if t.Options, err = d.options(path); err != nil {
				return nil, err
			}
		case FieldDocs:
			if t.Docs, err = d.str(path, true); err != nil {
				return nil, err
			}
		case FieldTags:
			if t.Tags, err = d.strings(path); err != nil {
				return nil, err
			}
		case FieldPreviewEventDefinitions:
			if t.PreviewEventDefinitions, err = d.previewEvents(path); err != nil {
				return nil, err
			}
		case FieldOnlineStoreJavaScript:
			if t.OnlineStoreJavaScript, err = d.str(path, true); err != nil {
				return nil, err
			}
		case FieldOrderStatusJavaScript:
			if t.OrderStatusJavaScript, err = d.str(path, true); err != nil {
				return nil, err
			}
		case FieldPerformActionRunsInSequence:
			if t.PerformActionRunsInSequence, err = d.boolean(path); err != nil {
				return nil, err
			}
		case FieldHaltActionRunSequenceOnError:
			if t.HaltActionRunSequenceOnError, err = d.boolean(path); err != nil {
				return nil, err
			}
		case FieldShopifyAPIVersion:
			s, err := d.str(path, false)
			if err != nil {
				return nil, err
			}
			t.ShopifyAPIVersion = *s
		case FieldLiquidProfiling:
			if t.LiquidProfiling, err = d.boolean(path); err != nil {
				return nil, err
			}
		default:
			e := d.errAt(off, path, errors.New("unknown field"))
			e.Unknown = true
			return nil, e
		}
		if !coreFields[name] {
			t.present[name] = true
		}
	}
	if err := d.close(); err != nil {
		return nil, err
	}
	for _, req := range []string{FieldName, FieldScript} {
		if !seen[req] {
			return nil, d.errAt(startOff, join(prefix, req), errors.New("missing required field"))
		}
	}
	if t.Options == nil {
		t.Options = value.NewMap(0)
	}
	if t.Subscriptions == nil {
		t.Subscriptions = []string{}
	}
	return t, nil
}

// options reads the options object, checking each key and stored value.
func (d *decoder) options(path string) (*value.Map, error) {
	if err := d.open(path, '{'); err != nil {
		return nil, err
	}
	m := value.NewMap(8)
	for d.dec.More() {
		k, koff, err := d.key()
		if err != nil {
			return nil, err
		}
		field := path + "." + k
		if m.Has(k) {
			return nil, d.errAt(koff, field, errors.New("duplicate option"))
		}
		okey, err := ParseOptionKey(k)
		if err != nil {
			return nil, d.errAt(koff, field, err)
		}
		voff := d.pos()
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		if _, err := okey.coerce(v, coerceMode{stored: true}); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				err = errors.New(fe.Message)
			}
			return nil, d.errAt(voff, field, err)
		}
		m.Set(k, v)
	}
	return m, d.close()
}

func (d *decoder) previewEvents(path string) ([]PreviewEventDefinition, error) {
	if err := d.open(path, '['); err != nil {
		return nil, err
	}
	out := []PreviewEventDefinition{}
	for d.dec.More() {
		p, err := d.previewEvent(fmt.Sprintf("%s[%d]", path, len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, d.close()
}

func (d *decoder) previewEvent(path string) (PreviewEventDefinition, error) {
	var p PreviewEventDefinition
	startOff := d.pos()
	if err := d.open(path, '{'); err != nil {
		return p, err
	}
	seen := map[string]bool{}
	for d.dec.More() {
		name, off, err := d.key()
		if err != nil {
			return p, err
		}
		field := path + "." + name
		if seen[name] {
			return p, d.errAt(off, field, errors.New("duplicate field"))
		}
		seen[name] = true
		switch name {
		case "description":
			s, err := d.str(field, false)
			if err != nil {
				return p, err
			}
			p.Description = *s
		case "event_attributes":
			if p.EventAttributes, err = d.eventAttributes(field); err != nil {
				return p, err
			}
		default:
			e := d.errAt(off, field, errors.New("unknown field"))
			e.Unknown = true
			return p, e
		}
	}
	if err := d.close(); err != nil {
		return p, err
	}
	for _, req := range []string{"description", "event_attributes"} {
		if !seen[req] {
			return p, d.errAt(startOff, path+"."+req, errors.New("missing required field"))
		}
	}
	return p, nil
}

func (d *decoder) eventAttributes(path string) (EventAttributes, error) {
	var a EventAttributes
	startOff := d.pos()
	if err := d.open(path, '{'); err != nil {
		return a, err
	}
	seen := map[string]bool{}
	for d.dec.More() {
		name, off, err := d.key()
		if err != nil {
			return a, err
		}
		field := path + "." + name
		if seen[name] {
			return a, d.errAt(off, field, errors.New("duplicate field"))
		}
		seen[name] = true
		switch name {
		case "topic":
			s, err := d.str(field, false)
			if err != nil {
				return a, err
			}
			a.Topic = *s
		case "data":
			if a.Data, err = d.anyValue(); err != nil {
				return a, err
			}
			a.dataFirst = !seen["topic"]
		default:
			e := d.errAt(off, field, errors.New("unknown field"))
			e.Unknown = true
			return a, e
		}
	}
	if err := d.close(); err != nil {
		return a, err
	}
	for _, req := range []string{"topic", "data"} {
		if !seen[req] {
			return a, d.errAt(startOff, path+"."+req, errors.New("missing required field"))
		}
	}
	return a, nil
}
