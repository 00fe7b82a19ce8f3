package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// searchTerm is one term of Shopify's search syntax: field:value,
// field:>value, -field:value, NOT term, or free text.
type searchTerm struct {
	field, op, value string
	negate           bool
}

// parseSearch splits a query into OR-groups of AND-ed terms.
func parseSearch(q string) [][]searchTerm {
	tokens := tokenize(q)
	var groups [][]searchTerm
	var cur []searchTerm
	negateNext := false
	for _, tok := range tokens {
		switch strings.ToUpper(tok) {
		case "AND", "(", ")":
			continue
		case "OR":
			if len(cur) > 0 {
				groups = append(groups, cur)
			}
			cur = nil
			continue
		case "NOT":
			negateNext = true
			continue
		}
		t := searchTerm{negate: negateNext}
		negateNext = false
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			t.negate = !t.negate
			tok = tok[1:]
		}
		tok = strings.Trim(tok, "()")
		if f, v, ok := strings.Cut(tok, ":"); ok && f != "" && !strings.HasPrefix(f, `"`) {
			t.field = strings.ToLower(f)
			for _, op := range []string{">=", "<=", ">", "<"} {
				if strings.HasPrefix(v, op) {
					t.op = op
					v = v[len(op):]
					break
				}
			}
			t.value = unquote(v)
			if t.field == "tag_not" {
				t.field = "tag"
				t.negate = !t.negate
			}
		} else {
			t.value = unquote(tok)
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// tokenize splits on spaces outside quotes.
func tokenize(q string) []string {
	var out []string
	var b strings.Builder
	var quote rune
	for _, r := range q {
		switch {
		case quote != 0:
			b.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
			b.WriteRune(r)
		case r == ' ' || r == '\t' || r == '\n':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// filterQuery keeps the items matching a search query.
func filterQuery(sb *Sandbox, items []any, q string) []any {
	groups := parseSearch(q)
	if len(groups) == 0 {
		return items
	}
	var out []any
	for _, it := range items {
		o, ok := it.(object)
		if !ok {
			if s, isStr := it.(string); isStr {
				for _, g := range groups {
					if len(g) > 0 && strings.Contains(strings.ToLower(s), strings.ToLower(g[0].value)) {
						out = append(out, it)
						break
					}
				}
			}
			continue
		}
		for _, g := range groups {
			all := true
			for _, t := range g {
				if sb.matchTerm(o, t) == t.negate {
					all = false
					break
				}
			}
			if all {
				out = append(out, it)
				break
			}
		}
	}
	return out
}

func (sb *Sandbox) matchTerm(o object, t searchTerm) bool {
	typ, _ := o["__typename"].(string)
	if t.field != "" && t.op == "" && strings.Contains(t.value, ",") {
		for _, alt := range strings.Split(t.value, ",") {
			if sb.matchTerm(o, searchTerm{field: t.field, value: alt}) {
				return true
			}
		}
		return false
	}
	if t.field != "" && t.value == "*" {
		name := map[string]string{"customer_id": "customer", "product_id": "product"}[t.field]
		if name == "" {
			name = snakeToCamel(t.field)
		}
		v, ok := o[name]
		return ok && v != nil && v != ""
	}
	v := strings.ToLower(t.value)
	switch t.field {
	case "":
		for _, k := range []string{"title", "name", "email", "displayName", "sku", "firstName", "lastName", "handle", "vendor"} {
			if s, ok := o[k].(string); ok && strings.Contains(strings.ToLower(s), v) {
				return true
			}
		}
		if typ == "Customer" {
			full := strings.ToLower(fmt.Sprintf("%v %v", o["firstName"], o["lastName"]))
			return strings.Contains(full, v)
		}
		return false
	case "tag", "tags":
		for _, tag := range tagList(o["tags"]) {
			if matchString(strings.ToLower(tag), v) {
				return true
			}
		}
		return false
	case "id":
		return compareValues(float64(legacyID(o["id"].(string))), t.op, t.value)
	case "status":
		if typ == "Order" {
			closed, _ := o["closed"].(bool)
			cancelled := o["cancelledAt"] != nil
			switch v {
			case "any":
				return true
			case "open":
				return !closed && !cancelled
			case "closed":
				return closed
			case "cancelled":
				return cancelled
			}
			return false
		}
		s, _ := o["status"].(string)
		return strings.EqualFold(s, t.value)
	case "financial_status":
		s, _ := o["displayFinancialStatus"].(string)
		return strings.EqualFold(s, t.value)
	case "fulfillment_status":
		s, _ := o["displayFulfillmentStatus"].(string)
		switch v {
		case "shipped", "fulfilled":
			return s == "FULFILLED"
		case "unshipped", "unfulfilled":
			return s == "UNFULFILLED"
		case "partial":
			return s == "PARTIALLY_FULFILLED"
		case "any":
			return true
		}
		return strings.EqualFold(s, t.value)
	case "customer_id":
		r, _ := o["customer"].(ref)
		return compareValues(float64(legacyID(string(r))), t.op, t.value)
	case "product_id":
		r, _ := o["product"].(ref)
		return compareValues(float64(legacyID(string(r))), t.op, t.value)
	case "sku":
		if typ == "Product" {
			for _, r := range refsOf(o, "variants") {
				if vo := sb.st.deref(r); vo != nil {
					if s, ok := vo["sku"].(string); ok && matchString(strings.ToLower(s), v) {
						return true
					}
				}
			}
			return false
		}
	case "created_at", "updated_at", "processed_at", "cancelled_at", "closed_at", "published_at":
		s, _ := o[snakeToCamel(t.field)].(string)
		if s == "" {
			return false
		}
		have, err1 := time.Parse(time.RFC3339, s)
		want, err2 := parseSearchTime(t.value, sb.now())
		if err1 != nil || err2 != nil {
			return false
		}
		return compareOrdered(have.Compare(want), t.op)
	}
	x, ok := o[snakeToCamel(t.field)]
	if !ok {
		return false
	}
	switch x := x.(type) {
	case string:
		if t.op != "" {
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return compareValues(f, t.op, t.value)
			}
			return compareOrdered(strings.Compare(strings.ToLower(x), v), t.op)
		}
		return matchString(strings.ToLower(x), v)
	case bool:
		return strconv.FormatBool(x) == v
	case int:
		return compareValues(float64(x), t.op, t.value)
	case float64:
		return compareValues(x, t.op, t.value)
	}
	return false
}

// matchString compares case-folded strings; a trailing * matches a prefix.
func matchString(have, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(have, p)
	}
	return have == want
}

func compareValues(have float64, op, want string) bool {
	w, err := strconv.ParseFloat(want, 64)
	if err != nil {
		return false
	}
	return compareOrdered(cmp.Compare(have, w), op)
}

func compareOrdered(c int, op string) bool {
	switch op {
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return c == 0
}

// parseSearchTime reads a date or time value of the search syntax.
func parseSearchTime(s string, now time.Time) (time.Time, error) {
	switch strings.ToLower(s) {
	case "now":
		return now, nil
	case "today":
		return now.Truncate(24 * time.Hour), nil
	case "yesterday":
		return now.Truncate(24*time.Hour).AddDate(0, 0, -1), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// sortItems orders items by a sortKey enum value (stable; unknown keys
// and RELEVANCE keep the store's order, which is by id).
func sortItems(items []any, key string) {
	field := ""
	switch key {
	case "ID", "RELEVANCE", "POSITION", "MANUAL", "BEST_SELLING", "COLLECTION_DEFAULT":
		field = "id"
	case "ORDER_NUMBER":
		field = "number"
	case "TOTAL_PRICE":
		field = "totalPriceSet"
	case "CUSTOMER_NAME":
		field = "lastName"
	default:
		field = snakeToCamel(key)
	}
	slices.SortStableFunc(items, func(a, b any) int {
		oa, _ := a.(object)
		ob, _ := b.(object)
		return compareAny(sortValue(oa, field), sortValue(ob, field))
	})
}

func sortValue(o object, field string) any {
	if o == nil {
		return nil
	}
	v := o[field]
	switch field {
	case "id":
		s, _ := v.(string)
		return float64(legacyID(s))
	case "totalPriceSet":
		return bagAmount(v)
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil && field != "title" && field != "name" {
			return f
		}
		return strings.ToLower(s)
	}
	return v
}

func compareAny(a, b any) int {
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case int:
		if y, ok := b.(int); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	switch {
	case a == nil && b != nil:
		return -1
	case a != nil && b == nil:
		return 1
	}
	return 0
}
