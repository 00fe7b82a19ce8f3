package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// FromJSON decodes JSON into canonical values: objects become ordered *Map,
// numbers without fraction or exponent become Integers, others Floats.
func FromJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return nil, fmt.Errorf("unexpected data after JSON value at offset %d", dec.InputOffset())
		}
		return nil, err
	}
	return v, nil
}

// DecodeJSON reads one JSON value from dec (which must have UseNumber set)
// into canonical values.
func DecodeJSON(dec *json.Decoder) (any, error) {
	return decodeValue(dec, 0)
}

// MaxJSONNesting is the deepest nesting of arrays and objects FromJSON
// accepts, as Ruby's JSON.parse (deeper input is an error, not a crash).
const MaxJSONNesting = 100

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return decodeToken(dec, tok, depth)
}

func decodeToken(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxJSONNesting {
			return nil, fmt.Errorf("nesting of %d is too deep (at offset %d)", depth+1, dec.InputOffset())
		}
		switch t {
		case '{':
			m := NewMap(4)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("invalid object key at offset %d", dec.InputOffset())
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			arr := make([]any, 0, 4)
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", t, dec.InputOffset())
	case json.Number:
		return numberFromString(string(t)), nil
	case string, bool, nil:
		return t, nil
	case float64:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// UnmarshalJSON decodes a JSON object into m, keeping key order.
func (m *Map) UnmarshalJSON(data []byte) error {
	v, err := FromJSON(data)
	if err != nil {
		return err
	}
	mm, ok := v.(*Map)
	if !ok {
		return errors.New("value: JSON is not an object")
	}
	*m = *mm
	return nil
}

// MarshalJSON encodes m as a JSON object in key order.
func (m *Map) MarshalJSON() ([]byte, error) {
	return ToJSON(m)
}

// ToJSON encodes v as Ruby's JSON.generate does: keys in order, no HTML
// escaping, non-ASCII kept as UTF-8, floats in Ruby's notation. NaN and
// Infinity are errors. Drops are encoded as null unless they implement
// json.Marshaler.
func ToJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const maxJSONDepth = 100

func writeJSON(b *bytes.Buffer, v any, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("nesting of 101 is too deep")
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s not allowed in JSON", FormatFloat(x))
		}
		b.WriteString(FormatFloat(x))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.Keys() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if err := writeJSON(b, x.m[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case Range:
		writeJSONString(b, x.String())
	case time.Time:
		writeJSONString(b, x.Format("2006-01-02T15:04:05.000-07:00"))
	case json.Marshaler:
		data, err := x.MarshalJSON()
		if err != nil {
			return err
		}
		b.Write(data)
	default:
		n := Normalize(v)
		if _, same := n.(Drop); same || fmt.Sprintf("%T", n) == fmt.Sprintf("%T", v) {
			if s, ok := v.(Stringer); ok {
				writeJSONString(b, s.LiquidString())
				return nil
			}
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n, depth)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
