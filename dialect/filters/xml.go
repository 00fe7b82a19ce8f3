package filters

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

const (
	maxXMLDepth = 100
	contentKey  = "__content__"
)

// parseXML converts an XML document to a hash the way Rails' Hash.from_xml
// does: elements become keys, repeated elements arrays, text-only elements
// strings (typecast by a type attribute), empty elements nil, and dashes in
// names underscores.
func parseXML(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("parse_xml", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("parse_xml", input)
	if err != nil {
		return nil, err
	}
	raw, err := readXML(s)
	if err != nil {
		return nil, wrapErr("parse_xml", err)
	}
	v, err := typecastXML(raw)
	if err != nil {
		return nil, wrapErr("parse_xml", err)
	}
	if v == nil {
		return value.NewMap(0), nil
	}
	return v, nil
}

// readXML builds the untyped hash: attributes and children by name, texts
// under __content__.
func readXML(s string) (*value.Map, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	// Liquid strings are already text: a declared encoding changes nothing.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	type frame struct {
		name     string
		hash     *value.Map
		hasElems bool
		texts    strings.Builder
		hasText  bool
	}
	root := value.NewMap(1)
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf("invalid XML: %s", err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, errorf("XML nested too deeply")
			}
			if len(stack) == 0 && root.Len() > 0 {
				return nil, errorf("invalid XML: more than one root element")
			}
			f := &frame{name: xmlKey(t.Name.Local), hash: value.NewMap(len(t.Attr))}
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space == "xmlns" {
					name = "xmlns:" + name
				}
				f.hash.Set(xmlKey(name), a.Value)
			}
			if len(stack) > 0 {
				stack[len(stack)-1].hasElems = true
			}
			stack = append(stack, f)
		case xml.CharData:
			if len(stack) > 0 {
				f := stack[len(stack)-1]
				f.texts.Write(t)
				f.hasText = true
			}
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			text := f.texts.String()
			if f.hasText && (!f.hasElems || strings.TrimSpace(text) != "") {
				mergeXML(f.hash, contentKey, text)
			}
			parent := root
			if len(stack) > 0 {
				parent = stack[len(stack)-1].hash
			}
			mergeXML(parent, f.name, f.hash)
		}
	}
	if root.Len() == 0 {
		return nil, errorf("invalid XML: no root element")
	}
	return root, nil
}

func xmlKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

func mergeXML(h *value.Map, key string, v any) {
	old, ok := h.Get(key)
	if !ok {
		h.Set(key, v)
		return
	}
	if arr, isArr := old.([]any); isArr {
		h.Set(key, append(arr, v))
		return
	}
	h.Set(key, []any{old, v})
}

func typecastXML(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			t, err := typecastXML(e)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	case *value.Map:
		return typecastXMLHash(x)
	}
	return v, nil
}

func typecastXMLHash(h *value.Map) (any, error) {
	typ, hasType := h.Get("type")
	typName, _ := typ.(string)
	if typName == "yaml" || typName == "symbol" {
		return nil, errorf("disallowed type attribute: %s", value.InspectString(typName))
	}
	content, hasContent := h.Get(contentKey)
	contentStr, _ := content.(string)
	nilAttr, _ := h.Get("nil")
	switch {
	case typName == "array":
		var entries any
		h.Each(func(k string, e any) bool {
			if _, isStr := e.(string); !isStr {
				entries = e
				return false
			}
			return true
		})
		if entries == nil || (hasContent && contentStr == "") {
			return []any{}, nil
		}
		if arr, ok := entries.([]any); ok {
			out := make([]any, 0, len(arr))
			for _, e := range arr {
				t, err := typecastXML(e)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
			}
			return out, nil
		}
		t, err := typecastXML(entries)
		if err != nil {
			return nil, err
		}
		return []any{t}, nil
	case hasContent && (h.Len() == 1 || strings.TrimSpace(contentStr) != ""):
		return xmlScalar(typName, contentStr), nil
	case typName == "string" && nilAttr != "true":
		return "", nil
	case h.Len() == 0 || nilAttr == "true":
		return nil, nil
	case hasType && h.Len() == 1:
		return nil, nil
	}
	out := value.NewMap(h.Len())
	var err error
	h.Each(func(k string, e any) bool {
		var t any
		t, err = typecastXML(e)
		out.Set(k, t)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// xmlScalar converts element text according to its type attribute.
func xmlScalar(typ, s string) any {
	t := strings.TrimSpace(s)
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n
		}
		return int64(0)
	case "float", "double":
		if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) {
			return f
		}
		return 0.0
	case "boolean":
		return t == "1" || t == "true"
	case "decimal":
		return decimalString(t)
	case "datetime", "dateTime":
		if tm, err := time.Parse(time.RFC3339, t); err == nil {
			return tm.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		return s
	case "base64Binary":
		if b, err := base64.StdEncoding.DecodeString(t); err == nil {
			return string(b)
		}
		return s
	}
	return s
}

// decimalString renders a decimal as Ruby's BigDecimal#to_s("F"): no
// redundant zeros, at least one digit after the point.
func decimalString(s string) string {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(digits, ".")
	if intPart == "" && frac == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return s
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		frac = "0"
	}
	out := intPart + "." + frac
	if neg && out != "0.0" {
		out = "-" + out
	}
	return out
}
