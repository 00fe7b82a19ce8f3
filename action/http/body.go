package http

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// encodedBody is a request body with the Content-Type it needs, if any.
type encodedBody struct {
	data        []byte
	contentType string // set (overriding the task's header) when non-empty
	present     bool
}

// encodeBody builds the request body following core/actions/http.md:
//   - with files: multipart/form-data of the body's fields and the files;
//   - a hash or array body with no Content-Type or application/json:
//     JSON, with Content-Type application/json;
//   - a hash or array body with application/x-www-form-urlencoded: a form;
//   - a string body: sent as is.
//
// A hash or array with any other Content-Type is sent as JSON under the
// task's Content-Type; other scalars are sent as their JSON text; a null
// or missing body sends none.
func encodeBody(ctx context.Context, o *options, gen FileGenerator) (encodedBody, error) {
	if o.files != nil {
		return encodeMultipart(ctx, o, gen)
	}
	switch b := o.body.(type) {
	case nil:
		return encodedBody{}, nil
	case string:
		return encodedBody{data: []byte(b), present: true}, nil
	case *value.Map, []any:
		ct, has := o.contentType()
		if ct == formType {
			s, err := encodeForm(b)
			if err != nil {
				return encodedBody{}, err
			}
			return encodedBody{data: []byte(s), present: true}, nil
		}
		data, err := value.ToJSON(b)
		if err != nil {
			return encodedBody{}, invalid(optBody, "cannot be encoded as JSON: %v", err)
		}
		eb := encodedBody{data: data, present: true}
		if !has {
			eb.contentType = jsonType
		}
		return eb, nil
	default:
		data, err := value.ToJSON(b)
		if err != nil {
			return encodedBody{}, invalid(optBody, "cannot be encoded as JSON: %v", err)
		}
		return encodedBody{data: data, present: true}, nil
	}
}

// formPair is one name=value field of a form.
type formPair struct{ name, value string }

// formPairs flattens a hash into form fields with the bracket convention
// of Rack and Rails: {"a": {"b": 1}, "c": [1, 2]} gives a[b]=1, c[]=1,
// c[]=2. An array body must hold [name, value] pairs.
func formPairs(body any) ([]formPair, error) {
	var out []formPair
	switch b := body.(type) {
	case nil:
		return nil, nil
	case *value.Map:
		b.Each(func(k string, v any) bool {
			out = flattenField(out, k, v)
			return true
		})
	case []any:
		for i, e := range b {
			pair, ok := e.([]any)
			if !ok || len(pair) != 2 {
				return nil, invalid(fmt.Sprintf("%s.%d", optBody, i), "a form-encoded array body must hold [name, value] pairs")
			}
			out = flattenField(out, value.ToS(pair[0]), pair[1])
		}
	default:
		return nil, invalid(optBody, "must be a hash for a form, got %s", value.TypeName(body))
	}
	return out, nil
}

func flattenField(out []formPair, name string, v any) []formPair {
	switch x := v.(type) {
	case *value.Map:
		if x.Len() == 0 {
			return out
		}
		x.Each(func(k string, e any) bool {
			out = flattenField(out, name+"["+k+"]", e)
			return true
		})
		return out
	case []any:
		if len(x) == 0 {
			return append(out, formPair{name + "[]", ""})
		}
		for _, e := range x {
			out = flattenField(out, name+"[]", e)
		}
		return out
	}
	return append(out, formPair{name, value.ToS(v)})
}

// encodeForm encodes a body as application/x-www-form-urlencoded, keeping
// the order of its keys.
func encodeForm(body any) (string, error) {
	pairs, err := formPairs(body)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String(), nil
}

// encodeMultipart builds a multipart/form-data body of the body's fields
// followed by the generated files, each sent under its filename.
func encodeMultipart(ctx context.Context, o *options, gen FileGenerator) (encodedBody, error) {
	var body any
	if _, ok := o.body.(*value.Map); ok {
		body = o.body
	}
	pairs, err := formPairs(body)
	if err != nil {
		return encodedBody{}, err
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range pairs {
		if err := w.WriteField(p.name, p.value); err != nil {
			return encodedBody{}, fmt.Errorf("write form field %q: %w", p.name, err)
		}
	}
	for _, name := range o.files.Keys() {
		spec, _ := o.files.Get(name)
		f, err := gen.Generate(ctx, name, spec)
		if err != nil {
			return encodedBody{}, fmt.Errorf("generate file %q: %w", name, err)
		}
		if len(f.Data) > MaxFileBytes {
			return encodedBody{}, action.Failed(fmt.Errorf("file %q is %d bytes, more than the limit of %d", name, len(f.Data), MaxFileBytes))
		}
		if f.Name == "" {
			f.Name = name
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%s; filename=%s`, quote(name), quote(f.Name)))
		h.Set("Content-Type", fileContentType(f))
		part, err := w.CreatePart(h)
		if err != nil {
			return encodedBody{}, fmt.Errorf("write file %q: %w", name, err)
		}
		if _, err := part.Write(f.Data); err != nil {
			return encodedBody{}, fmt.Errorf("write file %q: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return encodedBody{}, fmt.Errorf("finish multipart body: %w", err)
	}
	return encodedBody{data: buf.Bytes(), contentType: w.FormDataContentType(), present: true}, nil
}

// quote quotes a multipart parameter value, escaping quotes and
// backslashes as browsers do.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
