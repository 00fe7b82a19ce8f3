package liquid

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Expression is a parsed Liquid expression: a literal, a variable lookup, a
// range, or a value with a chain of filters.
type Expression interface {
	// Evaluate computes the expression's value in a render.
	Evaluate(rc *RenderContext) (any, error)
}

type literalExpr struct{ v any }

func (e *literalExpr) Evaluate(*RenderContext) (any, error) { return e.v, nil }

// methodLiteral is the empty/blank keyword inside conditions.
type methodLiteral struct{ blank bool }

func (e *methodLiteral) Evaluate(*RenderContext) (any, error) { return e, nil }

// Commands a lookup segment may run when the key is not found.
const (
	cmdNone = iota
	cmdSize
	cmdFirst
	cmdLast
)

type lookupSeg struct {
	key     any        // constant key (string, int64 …) when keyExpr is nil
	keyExpr Expression // dynamic key from [expr]
	command int
}

type lookupExpr struct {
	name     string
	nameExpr Expression // when the name itself is bracketed
	segs     []lookupSeg
	keyword  func() any // dialect keyword literal for this name
}

type rangeExpr struct{ start, end Expression }

// filterCall is one "| name: args" step.
type filterCall struct {
	name   string
	fn     filter.Func
	args   []Expression
	kwKeys []string
	kwArgs []Expression
}

// variableExpr is an expression with filters, as in {{ … }}.
type variableExpr struct {
	base    Expression // nil when the markup is empty
	filters []filterCall
}

// parseExpressionMarkup is Ruby Liquid's Expression.parse.
func (p *parser) parseExpressionMarkup(markup string) Expression {
	markup = strings.TrimFunc(markup, func(r rune) bool { return r < 128 && isSpace(byte(r)) || r == 0 })
	if e, ok := p.exprCache[markup]; ok {
		return e
	}
	e := p.parseExpressionUncached(markup)
	if p.exprCache == nil {
		p.exprCache = map[string]Expression{}
	}
	p.exprCache[markup] = e
	return e
}

var nilLiteral = &literalExpr{}

func (p *parser) parseExpressionUncached(markup string) Expression {
	n := len(markup)
	if n > 0 && (markup[0] == '"' && markup[n-1] == '"' || markup[0] == '\'' && markup[n-1] == '\'') {
		if n == 1 {
			return &literalExpr{""}
		}
		return &literalExpr{markup[1 : n-1]}
	}
	if isIntegerMarkup(markup) {
		return &literalExpr{parseRubyInt(markup)}
	}
	if a, b, ok := matchRange(markup); ok {
		start := p.parseExpressionMarkup(a)
		end := p.parseExpressionMarkup(b)
		ls, ok1 := start.(*literalExpr)
		le, ok2 := end.(*literalExpr)
		if ok1 && ok2 {
			return &literalExpr{value.Range{Start: rubyToI(ls.v), End: rubyToI(le.v)}}
		}
		return &rangeExpr{start, end}
	}
	if isFloatMarkup(markup) {
		return &literalExpr{rubyStrToF(markup)}
	}
	switch markup {
	case "", "nil", "null":
		return nilLiteral
	case "true":
		return &literalExpr{true}
	case "false":
		return &literalExpr{false}
	case "blank", "empty":
		return &literalExpr{""}
	}
	return p.parseLookup(markup)
}

func isIntegerMarkup(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isFloatMarkup(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if len(s) < 2 || !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// parseRubyInt converts a decimal integer literal, promoting to *big.Int.
func parseRubyInt(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return int64(0)
	}
	return value.Int(b)
}

// rubyStrToF is Ruby's String#to_f for the float literal forms Liquid
// accepts: the longest leading "digits[.digits]" prefix.
func rubyStrToF(s string) float64 {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0
	}
	return f
}

// rubyToI is to_i on a literal range bound.
func rubyToI(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0
		}
		return int64(x)
	case string:
		return strToI(x)
	case *big.Int:
		if x.Sign() < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return 0
}

// strToI is Ruby's String#to_i: optional whitespace and sign, then digits
// (underscores between digits allowed).
func strToI(s string) int64 {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s); i++ {
		c := s[i]
		if c == '_' && i+1 < len(s) && isDigit(s[i+1]) && i > 0 && isDigit(s[i-1]) {
			continue
		}
		if !isDigit(c) {
			break
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			if neg {
				return math.MinInt64
			}
			return math.MaxInt64
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// matchRange is RANGES_REGEX: \A\(\s*(?>(\S+)\s*\.\.)\s*(\S+)\s*\)\z.
func matchRange(s string) (string, string, bool) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return "", "", false
	}
	i := 1
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	runEnd := i
	for runEnd < len(s) && !isSpace(s[runEnd]) {
		runEnd++
	}
	groupEnd := -1
	firstEnd := 0
	for e := runEnd; e > i; e-- {
		j := e
		if e == runEnd {
			for j < len(s) && isSpace(s[j]) {
				j++
			}
		}
		if j+1 < len(s) && s[j] == '.' && s[j+1] == '.' {
			groupEnd, firstEnd = j+2, e
			break
		}
	}
	if groupEnd < 0 {
		return "", "", false
	}
	rest := strings.TrimLeft(s[groupEnd:], " \t\n\r\f\v")
	if !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	second := strings.TrimRight(rest[:len(rest)-1], " \t\n\r\f\v")
	if second == "" || strings.IndexAny(second, " \t\n\r\f\v") >= 0 {
		return "", "", false
	}
	return s[i:firstEnd], second, true
}

// scanVariableParser is VariableParser: \[[^\]]+\]|[\w\-]+\??
func scanVariableParser(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		if c == '[' {
			if k := strings.IndexByte(s[i+1:], ']'); k > 0 {
				out = append(out, s[i:i+k+2])
				i += k + 2
				continue
			}
		}
		if isWordByte(c) || c == '-' {
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] == '?' {
				j++
			}
			out = append(out, s[i:j])
			i = j
			continue
		}
		i++
	}
	return out
}

func (p *parser) parseLookup(markup string) Expression {
	parts := scanVariableParser(markup)
	e := &lookupExpr{}
	if len(parts) == 0 {
		e.nameExpr = nilLiteral
		return e
	}
	name := parts[0]
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		ne := p.parseExpressionMarkup(name[1 : len(name)-1])
		if l, ok := ne.(*literalExpr); ok {
			if s, ok := l.v.(string); ok {
				e.name = s
			} else {
				e.nameExpr = ne
			}
		} else {
			e.nameExpr = ne
		}
	} else {
		e.name = name
	}
	if e.nameExpr == nil && p.eng != nil {
		e.keyword = p.eng.keywords[e.name]
	}
	for _, part := range parts[1:] {
		var seg lookupSeg
		if strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]") {
			ke := p.parseExpressionMarkup(part[1 : len(part)-1])
			if l, ok := ke.(*literalExpr); ok {
				seg.key = l.v
			} else {
				seg.keyExpr = ke
			}
		} else {
			seg.key = part
			switch part {
			case "size":
				seg.command = cmdSize
			case "first":
				seg.command = cmdFirst
			case "last":
				seg.command = cmdLast
			}
		}
		e.segs = append(e.segs, seg)
	}
	return e
}

func (e *rangeExpr) Evaluate(rc *RenderContext) (any, error) {
	a, err := e.start.Evaluate(rc)
	if err != nil {
		return nil, err
	}
	b, err := e.end.Evaluate(rc)
	if err != nil {
		return nil, err
	}
	s, err := rangeBound(a)
	if err != nil {
		return nil, err
	}
	t, err := rangeBound(b)
	if err != nil {
		return nil, err
	}
	return value.Range{Start: s, End: t}, nil
}

func rangeBound(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case nil:
		return 0, nil
	case string:
		return strToI(x), nil
	case *big.Int:
		return rubyToI(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, &RuntimeError{Msg: "invalid integer"}
		}
		// Utils.to_integer(float) goes through Integer(float.to_s).
		s := value.FormatFloat(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		return 0, &RuntimeError{Msg: "invalid integer"}
	}
	return 0, &RuntimeError{Msg: "invalid integer"}
}

// Evaluate looks the variable up.
func (e *lookupExpr) Evaluate(rc *RenderContext) (any, error) {
	var obj any
	var found bool
	if e.nameExpr != nil {
		k, err := e.nameExpr.Evaluate(rc)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok {
			obj, found = rc.findVariable(s)
			if !found && e.keyword == nil {
				if err := rc.undefinedVariable(s); err != nil {
					return nil, err
				}
			}
		}
	} else {
		obj, found = rc.findVariable(e.name)
		if !found {
			if e.keyword != nil {
				obj = e.keyword()
			} else if err := rc.undefinedVariable(e.name); err != nil {
				return nil, err
			}
		}
	}
	var keysBuf [8]any
	keys := keysBuf[:0] // the evaluated keys, to name a failed lookup
	for i := range e.segs {
		seg := &e.segs[i]
		key := seg.key
		if seg.keyExpr != nil {
			k, err := seg.keyExpr.Evaluate(rc)
			if err != nil {
				return nil, err
			}
			key = k
		}
		keys = append(keys, key)
		next, ok, err := rc.lookup(obj, key, seg.command)
		if err != nil {
			return nil, lookupFailed(e.path(i+1, keys), err)
		}
		if !ok {
			if err := rc.undefinedVariable(value.ToS(key)); err != nil {
				return nil, err
			}
			return nil, nil
		}
		obj = next
	}
	return obj, nil
}

// lookupKey applies one lookup step with Ruby Liquid's rules: hash keys and
// integer array indexes first, then the size/first/last commands.
func lookupKey(obj, key any, command int) (any, bool) {
	switch o := obj.(type) {
	case *value.Map:
		if k, ok := key.(string); ok {
			if v, ok := o.Get(k); ok {
				return v, true
			}
		}
		switch command {
		case cmdSize:
			return int64(o.Len()), true
		case cmdFirst:
			keys := o.Keys()
			if len(keys) == 0 {
				return nil, true
			}
			v, _ := o.Get(keys[0])
			return []any{keys[0], v}, true
		}
		return nil, false
	case []any:
		if i, ok := key.(int64); ok {
			if i < 0 {
				i += int64(len(o))
			}
			if i < 0 || i >= int64(len(o)) {
				return nil, true
			}
			return o[i], true
		}
		if _, ok := key.(*big.Int); ok {
			return nil, true
		}
		switch command {
		case cmdSize:
			return int64(len(o)), true
		case cmdFirst:
			if len(o) == 0 {
				return nil, true
			}
			return o[0], true
		case cmdLast:
			if len(o) == 0 {
				return nil, true
			}
			return o[len(o)-1], true
		}
		return nil, false
	case value.Drop:
		k, ok := key.(string)
		if !ok {
			k = value.ToS(key)
		}
		v, ok := o.Get(k)
		if !ok {
			return nil, false
		}
		return value.Normalize(v), true
	case string:
		if command == cmdSize {
			return int64(len([]rune(o))), true
		}
	case int64:
		if command == cmdSize {
			return int64(8), true
		}
	case *big.Int:
		if command == cmdSize {
			return int64((o.BitLen() + 7) / 8), true // Ruby: bytes of the absolute value
		}
	case value.Range:
		switch command {
		case cmdSize:
			return o.Len(), true
		case cmdFirst:
			return o.Start, true
		case cmdLast:
			return o.End, true
		}
	case time.Time:
	}
	return nil, false
}

func (e *variableExpr) Evaluate(rc *RenderContext) (any, error) {
	var v any
	if e.base != nil {
		var err error
		v, err = e.base.Evaluate(rc)
		if err != nil {
			return nil, err
		}
	}
	if _, lazy := v.(value.Lister); lazy && len(e.filters) > 0 {
		// filters see a lazy list as the array of its items
		var err error
		if v, err = rc.materialize(v, -1, e.base); err != nil {
			return nil, err
		}
	}
	for i := range e.filters {
		f := &e.filters[i]
		var err error
		v, err = rc.applyFilter(f, v)
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// ---- parsing {{ … }} markup -------------------------------------------

var (
	reQuotedFragment = `"[^"]*"|'[^']*'|(?:[^\s,\|'"]|"[^"]*"|'[^']*')+`
	reMarkupWithQF   = regexp.MustCompile(`(?s)(` + reQuotedFragment + `)(.*)`)
	reFilterMarkup   = regexp.MustCompile(`(?s)\|\s*(.*)`)
	reFilterParser   = regexp.MustCompile(`(?:\s+|` + reQuotedFragment + `|,)+`)
	reFilterArgs     = regexp.MustCompile(`(?::|,)\s*((?:\w+\s*\:\s*)?(?:` + reQuotedFragment + `))`)
	reWord           = regexp.MustCompile(`\w+`)
)

// parseVariable parses the markup of {{ … }} (or echo/assign sources):
// strictly first, falling back to Ruby's lax regexps unless strict.
func (p *parser) parseVariable(markup string) (*variableExpr, error) {
	v, err := p.parseVariableStrict(markup)
	if err == nil {
		return v, nil
	}
	if p.strict {
		if se, ok := err.(*SyntaxError); ok {
			se.Msg += " in \"{{" + markup + "}}\""
		}
		return nil, err
	}
	return p.parseVariableLax(markup), nil
}

func (p *parser) parseVariableStrict(markup string) (*variableExpr, error) {
	sp, err := newStrictParser(markup)
	if err != nil {
		return nil, err
	}
	v := &variableExpr{}
	if sp.look(tkEnd, 0) {
		return v, nil
	}
	name, err := sp.expression()
	if err != nil {
		return nil, err
	}
	v.base = p.parseExpressionMarkup(name)
	for {
		if _, ok := sp.consumeIf(tkPipe); !ok {
			break
		}
		fname, err := sp.consume(tkID)
		if err != nil {
			return nil, err
		}
		var args []string
		if _, ok := sp.consumeIf(tkColon); ok {
			a, err := sp.argument()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			for {
				if _, ok := sp.consumeIf(tkComma); !ok {
					break
				}
				a, err := sp.argument()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
			}
		}
		v.filters = append(v.filters, p.filterCall(fname, args))
	}
	if _, err := sp.consume(tkEnd); err != nil {
		return nil, err
	}
	return v, nil
}

func (p *parser) parseVariableLax(markup string) *variableExpr {
	v := &variableExpr{}
	m := reMarkupWithQF.FindStringSubmatch(markup)
	if m == nil {
		return v
	}
	v.base = p.parseExpressionMarkup(m[1])
	fm := reFilterMarkup.FindStringSubmatch(m[2])
	if fm == nil {
		return v
	}
	for _, f := range reFilterParser.FindAllString(fm[1], -1) {
		name := reWord.FindString(f)
		if name == "" {
			continue
		}
		var args []string
		for _, a := range reFilterArgs.FindAllStringSubmatch(f, -1) {
			args = append(args, a[1])
		}
		v.filters = append(v.filters, p.filterCall(name, args))
	}
	return v
}

func (p *parser) filterCall(name string, args []string) filterCall {
	fc := filterCall{name: name}
	if p.eng != nil {
		fc.fn = p.eng.filters[name]
	}
	for _, a := range args {
		if k, v, ok := matchJustTagAttribute(a); ok {
			fc.kwKeys = append(fc.kwKeys, k)
			fc.kwArgs = append(fc.kwArgs, p.parseExpressionMarkup(v))
			continue
		}
		fc.args = append(fc.args, p.parseExpressionMarkup(a))
	}
	return fc
}
