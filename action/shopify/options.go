package shopify

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Option names of the GraphQL-with-variables form.
const (
	optQuery         = "query"
	optVariables     = "variables"
	optOperationName = "operationName"
)

// MaxQueryLength bounds a GraphQL document (Shopify limits queries to 50,000
// characters without whitespace; the bound here counts them all, with room
// for indentation).
const MaxQueryLength = 1 << 20

// request is a parsed shopify action: a GraphQL call or a REST call.
type request struct {
	graphql bool

	// GraphQL
	query         string
	variables     json.RawMessage // nil for none
	operationName string

	// REST
	method string // GET, POST, PUT or DELETE
	path   string // without the query string
	query2 url.Values
	body   json.RawMessage // nil for none
	// form names the REST style for messages: "explicit" or "resourceful".
	form string
}

// describe names the request for messages and logs.
func (r *request) describe() string {
	if r.graphql {
		return "GraphQL " + operationKind(r.query)
	}
	p := r.path
	if len(r.query2) > 0 {
		p += "?" + r.query2.Encode()
	}
	return r.method + " " + p
}

// operationKind is "mutation", "query" or "subscription", from the first
// word of the document ("query" for the shorthand "{ … }").
func operationKind(q string) string {
	f := strings.Fields(strings.TrimSpace(stripComments(q)))
	if len(f) > 0 {
		w := strings.ToLower(f[0])
		for _, k := range []string{"mutation", "subscription"} {
			if strings.HasPrefix(w, k) {
				return k
			}
		}
	}
	return "query"
}

func stripComments(q string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(q, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 && !strings.Contains(line[:i], `"`) {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func invalid(field, format string, args ...any) *action.ValidationError {
	return action.Invalid(Type, field, format, args...)
}

// parseOptions reads the options of a shopify action in any of its forms
// (docs: core/actions/shopify.md, and the REST forms of its earlier
// versions): a GraphQL document; {"query", "variables"}; or an array
// ["get"|"post"|"put"|"delete", path, body] or
// ["create"|"update"|"delete", resource, attributes].
func parseOptions(raw any) (*request, error) {
	switch o := raw.(type) {
	case string:
		return parseGraphQL(o, nil, "")
	case *value.Map:
		return parseQueryOptions(o)
	case []any:
		return parseREST(o)
	case nil:
		return nil, invalid("", "are required: a GraphQL query string, a {\"query\", \"variables\"} hash, or a REST array")
	}
	return nil, invalid("", "must be a GraphQL query string, a {\"query\", \"variables\"} hash, or a REST array, got %s", value.TypeName(raw))
}

func parseGraphQL(q string, vars *value.Map, opName string) (*request, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, invalid(optQuery, "the GraphQL query is empty")
	}
	if len(q) > MaxQueryLength {
		return nil, invalid(optQuery, "the GraphQL query is %d bytes, more than the limit of %d", len(q), MaxQueryLength)
	}
	if !strings.ContainsAny(q, "{") {
		return nil, invalid(optQuery, "is not a GraphQL document (no selection set): %q", shorten(q, 60))
	}
	r := &request{graphql: true, query: q, operationName: opName}
	if vars != nil {
		b, err := value.ToJSON(vars)
		if err != nil {
			return nil, invalid(optVariables, "cannot be encoded as JSON: %v", err)
		}
		r.variables = b
	}
	return r, nil
}

// parseQueryOptions reads {"query": …, "variables": …}. The docs call
// variables required, but library tasks send {"query": …} alone, which
// Shopify accepts, so it is optional here; operationName selects one
// operation of a document with several.
func parseQueryOptions(m *value.Map) (*request, error) {
	qv, ok := m.Get(optQuery)
	if !ok || qv == nil {
		return nil, invalid(optQuery, "is required: the GraphQL query or mutation")
	}
	q, ok := qv.(string)
	if !ok {
		return nil, invalid(optQuery, "must be a string, got %s", value.TypeName(qv))
	}
	var vars *value.Map
	if vv, ok := m.Get(optVariables); ok && vv != nil {
		if vars, ok = vv.(*value.Map); !ok {
			return nil, invalid(optVariables, "must be a hash of variable names to values, got %s", value.TypeName(vv))
		}
	}
	var opName string
	if ov, ok := m.Get(optOperationName); ok && ov != nil {
		if opName, ok = ov.(string); !ok {
			return nil, invalid(optOperationName, "must be a string, got %s", value.TypeName(ov))
		}
	}
	for _, k := range m.Keys() {
		switch k {
		case optQuery, optVariables, optOperationName:
		default:
			return nil, invalid(k, "is not an option of the shopify action (use \"query\" and \"variables\")")
		}
	}
	return parseGraphQL(q, vars, opName)
}

// explicitMethods are the verbs of the explicit REST form.
var explicitMethods = map[string]string{"get": "GET", "post": "POST", "put": "PUT", "delete": "DELETE"}

// resourceOps are the operations of the resourceful REST form.
var resourceOps = map[string]string{"create": "POST", "update": "PUT", "delete": "DELETE"}

// parseREST reads the REST array forms.
func parseREST(a []any) (*request, error) {
	if len(a) < 2 || len(a) > 3 {
		return nil, invalid("", "a REST request is an array of 2 or 3 elements, [operation, path or resource, body], got %d", len(a))
	}
	opv, ok := a[0].(string)
	if !ok {
		return nil, invalid("0", "the operation must be a string (get, post, put, delete, create or update), got %s", value.TypeName(a[0]))
	}
	op := strings.ToLower(strings.TrimSpace(opv))
	var body any
	hasBody := len(a) == 3
	if hasBody {
		body = a[2]
	}
	if s, isPath := a[1].(string); isPath && (explicitMethods[op] != "" && (op != "delete" || looksLikePath(s))) {
		return explicitREST(explicitMethods[op], s, body, hasBody)
	}
	if method, ok := resourceOps[op]; ok {
		return resourcefulREST(op, method, a[1], body, hasBody)
	}
	if explicitMethods[op] != "" {
		return nil, invalid("1", "the request path must be a string such as \"/admin/orders/1.json\", got %s", value.TypeName(a[1]))
	}
	return nil, invalid("0", "unknown operation %q: use get, post, put or delete with a path, or create, update or delete with a resource", opv)
}

func looksLikePath(s string) bool {
	return strings.Contains(s, "/") || strings.HasSuffix(s, ".json")
}

// apiPathRE matches the paths Shopify serves the Admin REST API under.
var apiPathRE = regexp.MustCompile(`^/?(?:admin/)?(?:api/(?:\d{4}-\d{2}|unstable)/)?[a-z0-9_]+(?:/[A-Za-z0-9_.\-]+)*\.json$`)

func explicitREST(method, raw string, body any, hasBody bool) (*request, error) {
	p := strings.TrimSpace(raw)
	if strings.Contains(p, "://") {
		return nil, invalid("1", "must be a path on the shop's Admin API such as \"/admin/orders/1.json\", not a URL: %q", shorten(p, 80))
	}
	path, rawQuery, _ := strings.Cut(p, "?")
	if strings.Contains(path, "..") || !apiPathRE.MatchString(path) {
		return nil, invalid("1", "%q is not an Admin REST API path such as \"/admin/orders/1.json\"", shorten(p, 80))
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, invalid("1", "the query string of %q is malformed: %v", shorten(p, 80), err)
	}
	r := &request{method: method, path: path, query2: q, form: "explicit"}
	if hasBody && body != nil {
		if method == "GET" || method == "DELETE" {
			// Nothing to send; a hash given with GET becomes query parameters.
			m, ok := body.(*value.Map)
			if !ok {
				return nil, invalid("2", "a %s request has no body; got %s", method, value.TypeName(body))
			}
			if err := addQuery(r.query2, m); err != nil {
				return nil, err
			}
			return r, nil
		}
		if _, ok := body.(*value.Map); !ok {
			return nil, invalid("2", "the request body must be a hash (such as {\"order\": {…}}), got %s", value.TypeName(body))
		}
		b, err := value.ToJSON(body)
		if err != nil {
			return nil, invalid("2", "cannot be encoded as JSON: %v", err)
		}
		r.body = b
	}
	return r, nil
}

// addQuery adds a hash of scalar values to query parameters.
func addQuery(q url.Values, m *value.Map) error {
	var err error
	m.Each(func(k string, v any) bool {
		switch x := v.(type) {
		case string:
			q.Add(k, x)
		case int64, float64, bool, *big.Int:
			q.Add(k, value.ToS(x))
		default:
			err = invalid("2."+k, "query parameters must be strings, numbers or booleans, got %s", value.TypeName(v))
		}
		return err == nil
	})
	return err
}

// resourceRE matches a REST resource name such as "customer" or
// "draft_order".
var resourceRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// resourcefulREST reads ["create"|"update"|"delete", resource, attributes]:
// the resource is a name ("customer") or a path of names and ids
// (["order", 123] or ["order", 123, "fulfillment", 456]); the attributes
// are sent wrapped in an object named after the resource, as Shopify
// expects ({"customer": {…}}).
func resourcefulREST(op, method string, spec, attrs any, hasAttrs bool) (*request, error) {
	var parts []any
	switch s := spec.(type) {
	case string:
		parts = []any{s}
	case []any:
		parts = s
	default:
		return nil, invalid("1", "the resource must be a name such as \"customer\" or an array such as [\"customer\", 123], got %s", value.TypeName(spec))
	}
	if len(parts) == 0 {
		return nil, invalid("1", "the resource is empty")
	}
	var attrMap *value.Map
	if hasAttrs && attrs != nil {
		m, ok := attrs.(*value.Map)
		if !ok {
			return nil, invalid("2", "the attributes must be a hash, got %s", value.TypeName(attrs))
		}
		attrMap = m
	}
	// An id may be left out of the resource path and given as the "id"
	// attribute instead (["update", "theme", {"id": 1, "role": "main"}]).
	if op != "create" && len(parts)%2 == 1 && attrMap != nil {
		if id, ok := attrMap.Get("id"); ok && id != nil {
			parts = append(append([]any(nil), parts...), id)
		}
	}
	var segs []string
	var last string
	for i, p := range parts {
		field := fmt.Sprintf("1.%d", i)
		if i%2 == 0 {
			name, ok := p.(string)
			if !ok || !resourceRE.MatchString(name) {
				return nil, invalid(field, "a resource name such as \"order\" is expected, got %s", value.Inspect(p))
			}
			segs = append(segs, plural(name))
			last = name
			continue
		}
		id, err := resourceID(p)
		if err != nil {
			return nil, invalid(field, "%v", err)
		}
		segs = append(segs, id)
	}
	switch {
	case op == "create" && len(parts)%2 == 0:
		return nil, invalid("1", "to create a resource, name it without an id (\"customer\", or [\"order\", 123, \"fulfillment\"])")
	case op != "create" && len(parts)%2 == 1:
		return nil, invalid("1", "to %s a resource, give its id ([%q, 123], or an \"id\" attribute)", op, last)
	case op == "delete" && attrMap != nil && attrMap.Len() > 0 && !hasOnlyID(attrMap):
		return nil, invalid("2", "a delete takes no attributes")
	case op != "delete" && attrMap == nil:
		return nil, invalid("2", "the attributes to %s the %s with are required (a hash)", op, last)
	}
	r := &request{method: method, path: strings.Join(segs, "/") + ".json", query2: url.Values{}, form: "resourceful"}
	if op != "delete" {
		wrapped := value.NewMap(1)
		wrapped.Set(last, attrMap)
		b, err := value.ToJSON(wrapped)
		if err != nil {
			return nil, invalid("2", "cannot be encoded as JSON: %v", err)
		}
		r.body = b
	}
	return r, nil
}

func hasOnlyID(m *value.Map) bool {
	return m.Len() == 1 && m.Has("id")
}

// resourceID reads a REST resource id: a positive integer, or a string of
// digits (ids past 2^53 arrive as strings from some sources).
func resourceID(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		if x > 0 {
			return strconv.FormatInt(x, 10), nil
		}
	case *big.Int:
		if x.Sign() > 0 {
			return x.String(), nil
		}
	case float64:
		if x > 0 && x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10), nil
		}
	case string:
		s := strings.TrimSpace(x)
		if s != "" && strings.Trim(s, "0123456789") == "" {
			return s, nil
		}
		if strings.HasPrefix(s, "gid://shopify/") {
			if i := strings.LastIndexByte(s, '/'); i >= 0 && strings.Trim(s[i+1:], "0123456789") == "" && s[i+1:] != "" {
				return s[i+1:], nil
			}
		}
	}
	return "", fmt.Errorf("a resource id (a positive integer) is expected, got %s", value.Inspect(v))
}

// plural is the REST collection name of a resource name.
func plural(name string) string {
	switch {
	case strings.HasSuffix(name, "y") && len(name) > 1 && !strings.ContainsRune("aeiou", rune(name[len(name)-2])):
		return name[:len(name)-1] + "ies"
	case strings.HasSuffix(name, "s"), strings.HasSuffix(name, "x"), strings.HasSuffix(name, "ch"), strings.HasSuffix(name, "sh"):
		return name + "es"
	}
	return name + "s"
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
