package sandbox

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ref is a stored field holding the GID of another stored object.
type ref string

// object is one stored object or an inline value object: GraphQL field
// names to values. Stored objects carry "__typename" and "id" (their GID).
// Values are strings, numbers, booleans, nil, ref, []any, []string or
// nested objects.
type object = map[string]any

// store holds the shop's objects by GID. It is not safe for concurrent
// use: the Sandbox guards it with its mutex.
type store struct {
	objs   map[string]object
	byType map[string][]string
	next   map[string]int64
}

func newStore() *store {
	return &store{objs: map[string]object{}, byType: map[string][]string{}, next: map[string]int64{}}
}

// gidOf builds gid://shopify/<typ>/<n>.
func gidOf(typ string, n int64) string {
	return "gid://shopify/" + typ + "/" + strconv.FormatInt(n, 10)
}

// parseGID splits a GID into its type and numeric id.
func parseGID(s string) (typ string, n int64, ok bool) {
	rest, found := strings.CutPrefix(s, "gid://shopify/")
	if !found {
		return "", 0, false
	}
	typ, num, found := strings.Cut(rest, "/")
	if !found {
		return "", 0, false
	}
	if i := strings.IndexByte(num, '?'); i >= 0 {
		num = num[:i]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return typ, n, true
}

// legacyID returns the numeric part of a GID, 0 when it has none.
func legacyID(gid string) int64 {
	_, n, _ := parseGID(gid)
	return n
}

// create stores a new object of typ with the next numeric id (or the one
// in fields["id"] when it is set) and returns it.
func (s *store) create(typ string, fields object) object {
	o := object{}
	maps.Copy(o, fields)
	id, _ := o["id"].(string)
	if id == "" {
		n := s.next[typ]
		if n == 0 {
			n = 1001
		}
		s.next[typ] = n + 1
		id = gidOf(typ, n)
	} else if _, n, ok := parseGID(id); ok && n >= s.next[typ] {
		s.next[typ] = n + 1
	}
	o["id"] = id
	o["__typename"] = typ
	if _, exists := s.objs[id]; !exists {
		s.byType[typ] = append(s.byType[typ], id)
	}
	s.objs[id] = o
	return o
}

func (s *store) get(gid string) object {
	return s.objs[gid]
}

// getType returns the stored object gid when it is of type typ.
func (s *store) getType(gid, typ string) object {
	o := s.objs[gid]
	if o == nil || o["__typename"] != typ {
		return nil
	}
	return o
}

func (s *store) delete(gid string) bool {
	o := s.objs[gid]
	if o == nil {
		return false
	}
	delete(s.objs, gid)
	typ := o["__typename"].(string)
	s.byType[typ] = slices.DeleteFunc(s.byType[typ], func(g string) bool { return g == gid })
	return true
}

// list returns the objects of typ in creation order.
func (s *store) list(typ string) []object {
	ids := s.byType[typ]
	out := make([]object, 0, len(ids))
	for _, id := range ids {
		if o := s.objs[id]; o != nil {
			out = append(out, o)
		}
	}
	return out
}

// deref returns the object a ref points at, the object itself, or nil.
func (s *store) deref(v any) object {
	switch v := v.(type) {
	case ref:
		return s.objs[string(v)]
	case object:
		return v
	}
	return nil
}

// refs returns the list field name of o as []any, creating it when absent.
func refsOf(o object, name string) []any {
	l, _ := o[name].([]any)
	return l
}

// appendRef adds gid to the list field name of o when it is not there yet.
func appendRef(o object, name, gid string) {
	l := refsOf(o, name)
	for _, v := range l {
		if r, ok := v.(ref); ok && string(r) == gid {
			return
		}
	}
	o[name] = append(l, ref(gid))
}

// removeRef removes gid from the list field name of o.
func removeRef(o object, name, gid string) {
	l := refsOf(o, name)
	o[name] = slices.DeleteFunc(slices.Clone(l), func(v any) bool {
		r, ok := v.(ref)
		return ok && string(r) == gid
	})
}

// money formats an amount as Shopify's Decimal strings do.
func money(x float64) string {
	x = math.Round(x*100) / 100
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

// parseMoney reads a Decimal/Money value given as a string or number.
func parseMoney(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

func moneyV2(x float64, cur string) object {
	return object{"__typename": "MoneyV2", "amount": money(x), "currencyCode": cur}
}

func moneyBag(x float64, cur string) object {
	return object{"__typename": "MoneyBag", "shopMoney": moneyV2(x, cur), "presentmentMoney": moneyV2(x, cur)}
}

// bagAmount reads shopMoney.amount of a stored MoneyBag.
func bagAmount(v any) float64 {
	b, _ := v.(object)
	if b == nil {
		return 0
	}
	m, _ := b["shopMoney"].(object)
	if m == nil {
		return 0
	}
	f, _ := parseMoney(m["amount"])
	return f
}

// timestamp formats t as Shopify's DateTime.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// tagList reads a tags field as strings.
func tagList(v any) []string {
	switch v := v.(type) {
	case []string:
		return slices.Clone(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, t := range v {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return splitTags(v)
	}
	return nil
}

// splitTags splits a comma-separated tag string.
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// mergeTags adds tags not yet present (case-insensitively) and returns the
// tags sorted as Shopify lists them.
func mergeTags(have []string, add []string) []any {
	seen := map[string]bool{}
	var out []string
	for _, t := range append(slices.Clone(have), add...) {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return sortedTags(out)
}

func removeTags(have []string, remove []string) []any {
	drop := map[string]bool{}
	for _, t := range remove {
		drop[strings.ToLower(strings.TrimSpace(t))] = true
	}
	var out []string
	for _, t := range have {
		if !drop[strings.ToLower(t)] {
			out = append(out, t)
		}
	}
	return sortedTags(out)
}

func sortedTags(tags []string) []any {
	slices.SortFunc(tags, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = t
	}
	return out
}

// plain converts stored values to JSON-ready values: refs become their GID.
func plain(v any) any {
	switch v := v.(type) {
	case ref:
		return string(v)
	case object:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = plain(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	}
	return v
}
