package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Customer segment queries (ShopifyQL segment syntax), the subset the
// library uses: attribute OP value joined by AND/OR with parentheses; OP is
// =, !=, >, >=, <, <=, CONTAINS, NOT CONTAINS, IS NULL, IS NOT NULL;
// values are 'strings', numbers, dates (2024-01-01) and relative days
// (-30d). Attributes: customer_tags, number_of_orders, amount_spent,
// customer_email_domain, customer_account_status,
// email_subscription_status, last_order_date, first_order_date,
// customer_added_date. Others are an error naming the attribute.

type segToken struct {
	kind string // "word", "string", "op", "(", ")"
	text string
}

func segTokenize(q string) ([]segToken, error) {
	var out []segToken
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			out = append(out, segToken{kind: string(r)})
			i++
		case r == '\'' || r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != r {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, segToken{kind: "string", text: string(rs[i+1 : j])})
			i = j + 1
		case strings.ContainsRune("=!<>", r):
			j := i + 1
			if j < len(rs) && rs[j] == '=' {
				j++
			}
			out = append(out, segToken{kind: "op", text: string(rs[i:j])})
			i = j
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune("()=!<>'\"", rs[j]) {
				j++
			}
			out = append(out, segToken{kind: "word", text: string(rs[i:j])})
			i = j
		}
	}
	return out, nil
}

// segExpr evaluates to whether a customer matches.
type segExpr func(c object) bool

type segParser struct {
	sb   *Sandbox
	toks []segToken
	pos  int
}

func (p *segParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "word" && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *segParser) or() (segExpr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("OR") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(c object) bool { return l(c) || right(c) }
	}
	return left, nil
}

func (p *segParser) and() (segExpr, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peekWord("AND") {
		p.pos++
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(c object) bool { return l(c) && right(c) }
	}
	return left, nil
}

func (p *segParser) term() (segExpr, error) {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return e, nil
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "word" {
		return nil, fmt.Errorf("expected an attribute at token %d", p.pos+1)
	}
	attr := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	op := ""
	switch {
	case p.pos < len(p.toks) && p.toks[p.pos].kind == "op":
		op = p.toks[p.pos].text
		p.pos++
	case p.peekWord("CONTAINS"):
		op = "CONTAINS"
		p.pos++
	case p.peekWord("NOT"):
		p.pos++
		if !p.peekWord("CONTAINS") {
			return nil, fmt.Errorf("expected CONTAINS after NOT")
		}
		op = "NOT CONTAINS"
		p.pos++
	case p.peekWord("IS"):
		p.pos++
		op = "IS NULL"
		if p.peekWord("NOT") {
			op = "IS NOT NULL"
			p.pos++
		}
		if !p.peekWord("NULL") {
			return nil, fmt.Errorf("expected NULL after IS")
		}
		p.pos++
	default:
		return nil, fmt.Errorf("expected an operator after %s", attr)
	}
	var value segToken
	if !strings.HasPrefix(op, "IS") {
		if p.pos >= len(p.toks) || (p.toks[p.pos].kind != "word" && p.toks[p.pos].kind != "string") {
			return nil, fmt.Errorf("expected a value after %s %s", attr, op)
		}
		value = p.toks[p.pos]
		p.pos++
	}
	get, err := p.sb.segmentAttribute(attr)
	if err != nil {
		return nil, err
	}
	now := p.sb.now()
	return func(c object) bool { return segCompare(get(c), op, value.text, now) }, nil
}

// segmentAttribute returns the reader of a segment attribute.
func (sb *Sandbox) segmentAttribute(attr string) (func(object) any, error) {
	orderTimes := func(c object) []string {
		var out []string
		for _, r := range refsOf(c, "orders") {
			if o := sb.st.deref(r); o != nil {
				out = append(out, str(o["createdAt"]))
			}
		}
		return out
	}
	switch attr {
	case "customer_tags":
		return func(c object) any { return tagList(c["tags"]) }, nil
	case "number_of_orders":
		return func(c object) any { return float64(len(refsOf(c, "orders"))) }, nil
	case "amount_spent":
		return func(c object) any {
			total := 0.0
			for _, r := range refsOf(c, "orders") {
				if o := sb.st.deref(r); o != nil && o["cancelledAt"] == nil {
					total += bagAmount(o["totalPriceSet"])
				}
			}
			return total
		}, nil
	case "customer_email_domain":
		return func(c object) any {
			_, d, ok := strings.Cut(str(c["email"]), "@")
			if !ok {
				return nil
			}
			return d
		}, nil
	case "customer_account_status":
		return func(c object) any { return c["state"] }, nil
	case "email_subscription_status":
		return func(c object) any { return strDefault(c["_emailMarketing"], "NOT_SUBSCRIBED") }, nil
	case "customer_added_date":
		return func(c object) any { return c["createdAt"] }, nil
	case "last_order_date":
		return func(c object) any {
			t := orderTimes(c)
			if len(t) == 0 {
				return nil
			}
			return t[len(t)-1]
		}, nil
	case "first_order_date":
		return func(c object) any {
			t := orderTimes(c)
			if len(t) == 0 {
				return nil
			}
			return t[0]
		}, nil
	}
	return nil, codedError{"NOT_IMPLEMENTED", fmt.Sprintf("the sandbox does not implement the segment attribute %s", attr)}
}

func segCompare(have any, op, want string, now time.Time) bool {
	switch op {
	case "IS NULL":
		return have == nil
	case "IS NOT NULL":
		return have != nil
	}
	switch h := have.(type) {
	case []string:
		has := false
		for _, t := range h {
			if strings.EqualFold(t, want) {
				has = true
			}
		}
		return has == (op == "CONTAINS")
	case float64:
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return false
		}
		return segOrdered(cmpFloat(h, w), op)
	case string:
		if t, err := time.Parse(time.RFC3339, h); err == nil {
			w, ok := segDate(want, now)
			if !ok {
				return false
			}
			d := t.Truncate(24 * time.Hour)
			return segOrdered(d.Compare(w), op)
		}
		return segOrdered(strings.Compare(strings.ToLower(h), strings.ToLower(want)), op)
	case nil:
		return op == "!=" || op == "NOT CONTAINS"
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func segOrdered(c int, op string) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	}
	return compareOrdered(c, op)
}

// segDate reads 2024-01-01, -30d, today or yesterday.
func segDate(s string, now time.Time) (time.Time, bool) {
	day := now.UTC().Truncate(24 * time.Hour)
	switch strings.ToLower(s) {
	case "today":
		return day, true
	case "yesterday":
		return day.AddDate(0, 0, -1), true
	}
	if n, ok := strings.CutSuffix(strings.ToLower(s), "d"); ok {
		if d, err := strconv.Atoi(n); err == nil {
			return day.AddDate(0, 0, d), true
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// segmentMembers lists the customers matching a segment query as
// CustomerSegmentMember values.
func (sb *Sandbox) segmentMembers(query string) ([]any, error) {
	match := func(object) bool { return true }
	if strings.TrimSpace(query) != "" {
		toks, err := segTokenize(query)
		if err != nil {
			return nil, codedError{"BAD_REQUEST", "Invalid segment query: " + err.Error()}
		}
		p := &segParser{sb: sb, toks: toks}
		e, err := p.or()
		if err != nil {
			if _, ok := err.(codedError); ok {
				return nil, err
			}
			return nil, codedError{"BAD_REQUEST", "Invalid segment query: " + err.Error()}
		}
		if p.pos != len(toks) {
			return nil, codedError{"BAD_REQUEST", fmt.Sprintf("Invalid segment query: unexpected %q", toks[p.pos].text)}
		}
		match = e
	}
	var out []any
	for _, c := range sb.st.list("Customer") {
		if !match(c) {
			continue
		}
		id := gidOf("CustomerSegmentMember", legacyID(str(c["id"])))
		m := object{"__typename": "CustomerSegmentMember", "id": id, "firstName": c["firstName"], "lastName": c["lastName"],
			"note": c["note"], "defaultAddress": c["defaultAddress"], "metafields": c["metafields"],
			"numberOfOrders": strconv.Itoa(len(refsOf(c, "orders")))}
		if name := strings.TrimSpace(str(c["firstName"]) + " " + str(c["lastName"])); name != "" {
			m["displayName"] = name
		} else {
			m["displayName"] = c["email"]
		}
		if c["email"] != nil {
			m["defaultEmailAddress"] = object{"__typename": "CustomerEmailAddress", "emailAddress": c["email"], "marketingState": "NOT_SUBSCRIBED"}
		}
		if l := refsOf(c, "orders"); len(l) > 0 {
			m["lastOrderId"] = string(l[len(l)-1].(ref))
		}
		spent, _ := sb.segmentAttribute("amount_spent")
		m["amountSpent"] = moneyV2(spent(c).(float64), currency)
		out = append(out, m)
	}
	return out, nil
}
