package liquid

import (
	"errors"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

const (
	relNone = iota
	relOr
	relAnd
)

// condition is one comparison, chained to the next with and/or. Chains are
// evaluated from the left, stopping early, which yields Ruby Liquid's
// right-to-left grouping: "a or b and c" is "a or (b and c)".
type condition struct {
	left, right Expression
	op          string
	rel         int
	child       *condition
}

// Evaluate returns the condition's value; callers test it with Truthy.
func (c *condition) Evaluate(rc *RenderContext) (any, error) {
	cond := c
	for {
		result, err := cond.interpret(rc)
		if err != nil {
			return nil, err
		}
		switch cond.rel {
		case relOr:
			if value.Truthy(result) {
				return result, nil
			}
		case relAnd:
			if !value.Truthy(result) {
				return result, nil
			}
		default:
			return result, nil
		}
		cond = cond.child
	}
}

func (c *condition) interpret(rc *RenderContext) (any, error) {
	if c.op == "" {
		return c.left.Evaluate(rc)
	}
	l, err := c.left.Evaluate(rc)
	if err != nil {
		return nil, err
	}
	var r any
	if c.right != nil {
		if r, err = c.right.Evaluate(rc); err != nil {
			return nil, err
		}
	}
	// a lazy list compares (== empty, contains …) as the array of its items
	if l, err = rc.materialize(l, -1, c.left); err != nil {
		return nil, err
	}
	if r, err = rc.materialize(r, -1, c.right); err != nil {
		return nil, err
	}
	switch c.op {
	case "==":
		return equalVariablesAS(l, r, rc.sh.eng.activeSupport), nil
	case "!=", "<>":
		return !value.Truthy(equalVariablesAS(l, r, rc.sh.eng.activeSupport)), nil
	case "contains":
		return contains(l, r), nil
	case "<", ">", "<=", ">=":
		if _, ok := l.(*value.Map); ok {
			return nil, nil
		}
		if _, ok := r.(*value.Map); ok {
			return nil, nil
		}
		if isNaN(l) && value.IsNumber(r) || isNaN(r) && value.IsNumber(l) {
			return false, nil // Ruby's Float comparisons with NaN are false
		}
		cmp, err := value.Compare(l, r)
		if err != nil {
			if errors.Is(err, value.ErrNotComparable) {
				return nil, nil
			}
			return nil, &RuntimeError{Msg: compareErrorMsg(l, r)}
		}
		switch c.op {
		case "<":
			return cmp < 0, nil
		case ">":
			return cmp > 0, nil
		case "<=":
			return cmp <= 0, nil
		}
		return cmp >= 0, nil
	}
	return nil, &RuntimeError{Msg: "Unknown operator " + c.op}
}

// equalVariables is ==, with empty/blank calling empty?/blank? on the
// other side (nil when it has no such method).
func equalVariables(l, r any) any { return equalVariablesAS(l, r, false) }

func equalVariablesAS(l, r any, activeSupport bool) any {
	if m, ok := l.(*methodLiteral); ok {
		return methodCall(m, r, activeSupport)
	}
	if m, ok := r.(*methodLiteral); ok {
		return methodCall(m, l, activeSupport)
	}
	return value.Equal(l, r)
}

func methodCall(m *methodLiteral, v any, activeSupport bool) any {
	if m.blank {
		if activeSupport {
			return value.IsBlank(v)
		}
		// Plain Ruby (without ActiveSupport) has no blank? method, so
		// comparisons with blank are never true in Ruby Liquid 5.4.
		return nil
	}
	switch v.(type) {
	case string, []any, *value.Map:
		return value.IsEmpty(v)
	}
	return nil
}

func contains(l, r any) bool {
	if !value.Truthy(l) || !value.Truthy(r) {
		return false
	}
	switch x := l.(type) {
	case string:
		return strings.Contains(x, value.ToS(r))
	case []any:
		for _, e := range x {
			if value.Equal(e, r) {
				return true
			}
		}
	case *value.Map:
		if s, ok := r.(string); ok {
			return x.Has(s)
		}
	case value.Range:
		if f, ok := value.ToFloat(r); ok {
			return f >= float64(x.Start) && f <= float64(x.End)
		}
	}
	return false
}

// condExpression is Condition.parse_expression: empty and blank are method
// literals, anything else an ordinary expression.
func (p *parser) condExpression(markup string) Expression {
	switch markup {
	case "empty":
		return &methodLiteral{}
	case "blank":
		return &methodLiteral{blank: true}
	}
	return p.parseExpressionMarkup(markup)
}

const ifSyntaxMsg = "Syntax Error in tag 'if' - Valid syntax: if [expression]"

func (p *parser) parseCondition(markup string) (*condition, error) {
	if p.strict {
		c, err := p.parseConditionStrict(markup)
		if err != nil {
			if se, ok := err.(*SyntaxError); ok {
				se.Msg += " in \"" + strings.TrimSpace(markup) + "\""
			}
			return nil, err
		}
		return c, nil
	}
	return p.parseConditionLax(markup)
}

func (p *parser) conditionFromSyntax(expr string) (*condition, bool) {
	left, op, right, _, hasRight, ok := matchIfSyntax(expr)
	if !ok {
		return nil, false
	}
	c := &condition{left: p.condExpression(left), op: op}
	if hasRight {
		c.right = p.condExpression(right)
	} else {
		c.right = nilLiteral
	}
	return c, true
}

func (p *parser) parseConditionLax(markup string) (*condition, error) {
	exprs := scanExpressionsAndOperators(markup)
	if len(exprs) == 0 {
		return nil, p.syntaxErr(ifSyntaxMsg)
	}
	cond, ok := p.conditionFromSyntax(exprs[len(exprs)-1])
	if !ok {
		return nil, p.syntaxErr(ifSyntaxMsg)
	}
	exprs = exprs[:len(exprs)-1]
	for len(exprs) > 0 {
		op := strings.TrimSpace(exprs[len(exprs)-1])
		exprs = exprs[:len(exprs)-1]
		var e string
		if len(exprs) > 0 {
			e = exprs[len(exprs)-1]
			exprs = exprs[:len(exprs)-1]
		}
		nc, ok := p.conditionFromSyntax(e)
		if !ok {
			return nil, p.syntaxErr(ifSyntaxMsg)
		}
		switch op {
		case "and":
			nc.rel = relAnd
		case "or":
			nc.rel = relOr
		default:
			return nil, p.syntaxErr(ifSyntaxMsg)
		}
		nc.child = cond
		cond = nc
	}
	return cond, nil
}

func (p *parser) parseConditionStrict(markup string) (*condition, error) {
	sp, err := newStrictParser(markup)
	if err != nil {
		return nil, err
	}
	first, err := p.strictComparison(sp)
	if err != nil {
		return nil, err
	}
	cur := first
	for {
		rel := relNone
		if sp.idIs("and") {
			rel = relAnd
		} else if sp.idIs("or") {
			rel = relOr
		} else {
			break
		}
		next, err := p.strictComparison(sp)
		if err != nil {
			return nil, err
		}
		cur.rel, cur.child = rel, next
		cur = next
	}
	if _, err := sp.consume(tkEnd); err != nil {
		return nil, err
	}
	return first, nil
}

func (p *parser) strictComparison(sp *strictParser) (*condition, error) {
	a, err := sp.expression()
	if err != nil {
		return nil, err
	}
	c := &condition{left: p.condExpression(a)}
	if op, ok := sp.consumeIf(tkComparison); ok {
		b, err := sp.expression()
		if err != nil {
			return nil, err
		}
		c.op = op
		c.right = p.condExpression(b)
	}
	return c, nil
}

// ---- ExpressionsAndOperators -------------------------------------------

func wordAt(s string, i int) bool { return i >= 0 && i < len(s) && isWordByte(s[i]) }

func boundaryAt(s string, i int) bool { return wordAt(s, i-1) != wordAt(s, i) }

// andOrAt matches \b(?:\s?and\s?|\s?or\s?)\b at i, returning its end.
func andOrAt(s string, i int) int {
	if !boundaryAt(s, i) {
		return -1
	}
	for _, w := range [...]string{"and", "or"} {
		for _, sp1 := range [...]int{1, 0} {
			j := i
			if sp1 == 1 {
				if j >= len(s) || !isSpace(s[j]) {
					continue
				}
				j++
			}
			if !strings.HasPrefix(s[j:], w) {
				continue
			}
			k := j + len(w)
			for _, sp2 := range [...]int{1, 0} {
				e := k
				if sp2 == 1 {
					if e >= len(s) || !isSpace(s[e]) {
						continue
					}
					e++
				}
				if boundaryAt(s, e) {
					return e
				}
			}
		}
	}
	return -1
}

// matchQuotedFragment matches QuotedFragment at i, returning its end or -1.
func matchQuotedFragment(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	if c := s[i]; c == '"' || c == '\'' {
		if k := strings.IndexByte(s[i+1:], c); k >= 0 {
			return i + k + 2
		}
		return -1
	}
	j := matchQFAlt3(s, i)
	if j == i {
		return -1
	}
	return j
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func exprOpMatchAt(s string, i int) int {
	if e := andOrAt(s, i); e >= 0 {
		return e
	}
	pos, n := i, 0
	for {
		j := skipSpaces(s, pos)
		if andOrAt(s, j) >= 0 {
			break
		}
		e := matchQuotedFragment(s, j)
		if e < 0 {
			e = j
			for e < len(s) && !isSpace(s[e]) {
				e++
			}
		}
		if e <= j {
			break
		}
		pos = skipSpaces(s, e)
		n++
	}
	if n == 0 {
		return -1
	}
	return pos
}

// scanExpressionsAndOperators is markup.scan(If::ExpressionsAndOperators).
func scanExpressionsAndOperators(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		e := exprOpMatchAt(s, i)
		if e < 0 {
			i++
			continue
		}
		out = append(out, s[i:e])
		if e == i {
			i++
		} else {
			i = e
		}
	}
	return out
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && f != f
}

// compareErrorMsg is Ruby's "comparison of X with Y failed": Y is
// inspected when it is an immediate value (nil, booleans, Floats, Integers
// within the 63-bit Fixnum range) and named by its class otherwise.
func compareErrorMsg(l, r any) string {
	right := value.TypeName(r)
	switch x := r.(type) {
	case nil, bool, float64:
		right = value.Inspect(r)
	case int64:
		if x >= -1<<62 && x < 1<<62 {
			right = value.Inspect(r)
		}
	}
	return "comparison of " + value.TypeName(l) + " with " + right + " failed"
}
