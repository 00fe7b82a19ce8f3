package webhook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// maxJSONNesting is the deepest array/object nesting accepted in a JSON
// body, as in Ruby's JSON.parse (max_nesting 100); deeper bodies count as
// unparsable. The check also keeps the recursive decoder's stack bounded.
const maxJSONNesting = 100

// maxMultipartParts bounds the number of parts read from one request.
const maxMultipartParts = 1000

// mediaType returns the lowercased media type of a Content-Type header
// value without its parameters, and ok=false when the header is absent.
func mediaType(contentType string) (string, bool) {
	if strings.TrimSpace(contentType) == "" {
		return "", false
	}
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt)), true
}

func isJSONType(mt string) bool {
	switch mt {
	case "application/json", "text/x-json", "application/jsonrequest":
		return true
	}
	return strings.HasSuffix(mt, "+json")
}

func isMultipartType(mt string) bool {
	switch mt {
	case "multipart/form-data", "multipart/mixed", "multipart/related":
		return true
	}
	return false
}

// looksFormEncoded reports whether a body without a Content-Type header
// reads as a form-encoded string ("a=1&b=2"): it has an "=" and no
// whitespace or control characters.
func looksFormEncoded(body []byte) bool {
	if !bytes.ContainsRune(body, '=') {
		return false
	}
	for _, r := range string(body) {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// errNotStructured means the body is of a kind that has no structured
// parameters (plain text, XML, an unknown type); it is not a parse failure
// in the sense of the docs, but both yield no body parameters.
var errNotStructured = errors.New("body has no structured parameters")

// bodyParams interprets the request body as a hash of parameters, chosen by
// the Content-Type header:
//
//   - JSON types (application/json, text/x-json, application/jsonrequest and
//     any "+json" type): the decoded document when it is an object; any other
//     JSON value is wrapped as {"_json": value}, the Rails convention; an
//     empty body is an empty hash;
//   - application/x-www-form-urlencoded: nested parameters (parseNestedQuery);
//   - multipart/form-data (also mixed and related): nested parameters from
//     the parts' names; file parts become file hashes (fileParam);
//   - no Content-Type: a body that parses as a JSON object or array is read
//     as JSON, one that looks form-encoded ("a=1&b=2", no whitespace) as a
//     form; anything else has no parameters;
//   - any other type has no parameters (errNotStructured).
//
// Any parse failure returns an error and no parameters.
func bodyParams(contentType string, body []byte) (*value.Map, error) {
	mt, present := mediaType(contentType)
	switch {
	case !present:
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			if m, err := jsonParams(body); err == nil {
				return m, nil
			}
		}
		if looksFormEncoded(body) {
			return parseNestedQuery(string(body))
		}
		return nil, errNotStructured
	case isJSONType(mt):
		return jsonParams(body)
	case mt == "application/x-www-form-urlencoded":
		return parseNestedQuery(string(body))
	case isMultipartType(mt):
		return multipartParams(contentType, body)
	}
	return nil, errNotStructured
}

func jsonParams(body []byte) (*value.Map, error) {
	if len(body) == 0 {
		return value.NewMap(0), nil
	}
	if err := checkJSONDepth(body, maxJSONNesting); err != nil {
		return nil, err
	}
	v, err := value.FromJSON(body)
	if err != nil {
		return nil, fmt.Errorf("decoding JSON body: %w", err)
	}
	if m, ok := v.(*value.Map); ok {
		return m, nil
	}
	return value.MapOf("_json", v), nil
}

// multipartParams reads a multipart body. Each part's form name is a nested
// parameter name. A part with a filename becomes a file hash; a part whose
// filename is empty (a file input left blank) is skipped; other parts are
// string values (read as Windows-1252 when not valid UTF-8). Transfer
// encodings of parts are not decoded.
func multipartParams(contentType string, body []byte) (*value.Map, error) {
	_, mtParams, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("parsing multipart content type: %w", err)
	}
	boundary := mtParams["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart content type has no boundary")
	}
	params := value.NewMap(4)
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		if n >= maxMultipartParts {
			return nil, fmt.Errorf("more than %d multipart parts", maxMultipartParts)
		}
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return params, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading multipart part %d: %w", n+1, err)
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("reading multipart part %d: %w", n+1, err)
		}
		name, filename, hasFile := partNames(part.Header.Get("Content-Disposition"))
		name, filename = toUTF8(name), toUTF8(filename)
		partType := part.Header.Get("Content-Type")
		if name == "" {
			// Rack's naming for unnamed parts: the file name, or the part's
			// content type with "[]" so that such parts accumulate.
			switch {
			case hasFile && filename != "":
				name = filename
			case partType != "":
				name = partType + "[]"
			default:
				name = "text/plain[]"
			}
		}
		var v any
		if hasFile {
			if filename == "" {
				continue
			}
			v = fileParam(filename, partType, content)
		} else {
			v = toUTF8(string(content))
		}
		if _, err := normalizeParam(params, name, v, maxParamDepth); err != nil {
			return nil, err
		}
	}
}

var validEscapes = regexp.MustCompile(`%.?.?`)

// partNames returns the form name and file name of a part's
// Content-Disposition; hasFile reports whether a filename was given.
func partNames(disposition string) (name, filename string, hasFile bool) {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return "", "", false
	}
	name = params["name"]
	filename, hasFile = params["filename"]
	if !hasFile {
		return name, "", false
	}
	// Browsers percent-encode some names; decode when every escape is valid.
	if strings.Contains(filename, "%") {
		ok := true
		for _, m := range validEscapes.FindAllString(filename, -1) {
			if len(m) != 3 || !isHex(m[1]) || !isHex(m[2]) {
				ok = false
				break
			}
		}
		if ok {
			if dec, err := url.PathUnescape(filename); err == nil {
				filename = dec
			}
		}
	}
	// Keep the last path element: some clients send a full path.
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 && i < len(filename)-1 {
		filename = filename[i+1:]
	}
	return name, filename, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// fileParam is the documented representation of an uploaded file
// (platform/webhooks.md, "File uploads"): content_base64, mime_type (null
// when the part declares none), name and size in bytes.
func fileParam(filename, contentType string, content []byte) *value.Map {
	var mt any
	if contentType != "" {
		mt = contentType
	}
	return value.MapOf(
		"content_base64", base64.StdEncoding.EncodeToString(content),
		"mime_type", mt,
		"name", filename,
		"size", int64(len(content)),
	)
}

// checkJSONDepth scans body and fails when arrays and objects nest deeper
// than limit. It only counts brackets outside strings; the decoder checks
// everything else.
func checkJSONDepth(body []byte, limit int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > limit {
				return fmt.Errorf("JSON nesting exceeds %d levels", limit)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}
