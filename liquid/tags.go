package liquid

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func registerStandardTags(e *Engine) {
	e.tags["assign"] = TagFunc(parseAssign)
	e.tags["capture"] = TagFunc(parseCapture)
	e.tags["if"] = TagFunc(func(tp *TagParser) (Node, error) { return parseIf(tp, false) })
	e.tags["unless"] = TagFunc(func(tp *TagParser) (Node, error) { return parseIf(tp, true) })
	e.tags["case"] = TagFunc(parseCase)
	e.tags["for"] = TagFunc(parseFor)
	e.tags["break"] = TagFunc(func(*TagParser) (Node, error) { return interruptNode(interruptBreak), nil })
	e.tags["continue"] = TagFunc(func(*TagParser) (Node, error) { return interruptNode(interruptContinue), nil })
	e.tags["cycle"] = TagFunc(parseCycle)
	e.tags["increment"] = TagFunc(func(tp *TagParser) (Node, error) {
		return &counterNode{name: strings.TrimSpace(tp.Markup), delta: 1}, nil
	})
	e.tags["decrement"] = TagFunc(func(tp *TagParser) (Node, error) {
		return &counterNode{name: strings.TrimSpace(tp.Markup), delta: -1}, nil
	})
	e.tags["tablerow"] = TagFunc(parseTablerow)
	e.tags["comment"] = TagFunc(parseComment)
	e.tags["raw"] = TagFunc(parseRaw)
	e.tags["doc"] = TagFunc(parseDoc)
	e.tags["echo"] = TagFunc(parseEcho)
	e.tags["#"] = TagFunc(parseInlineComment)
	e.tags["render"] = TagFunc(parseRender)
	e.tags["include"] = TagFunc(parseInclude)
	e.tags["ifchanged"] = TagFunc(parseIfchanged)
}

// blankNode is embedded by nodes that are always blank.
type blankNode struct{}

func (blankNode) Blank() bool { return true }

// ---- output -----------------------------------------------------------

type outputNode struct {
	v *variableExpr
}

func (n *outputNode) Render(rc *RenderContext) error {
	v, err := n.v.Evaluate(rc)
	if err != nil {
		return err
	}
	return rc.WriteValue(v)
}

func parseEcho(tp *TagParser) (Node, error) {
	v, err := tp.p.parseVariable(tp.Markup)
	if err != nil {
		return nil, err
	}
	return &echoNode{outputNode{v: v}}, nil
}

type echoNode struct{ outputNode }

// ---- assign / capture -------------------------------------------------

var reCapture = regexp.MustCompile(`((?:\(?[\w\-\.\[\]]\)?)+)`)

type assignNode struct {
	blankNode
	to   string
	from *variableExpr
}

func parseAssign(tp *TagParser) (Node, error) {
	to, from, ok := matchAssignSyntax(tp.Markup)
	if !ok {
		return nil, tp.Errorf("Syntax Error in 'assign' - Valid syntax: assign [var] = [source]")
	}
	v, err := tp.p.parseVariable(from)
	if err != nil {
		return nil, err
	}
	return &assignNode{to: to, from: v}, nil
}

func (n *assignNode) Render(rc *RenderContext) error {
	v, err := n.from.Evaluate(rc)
	if err != nil {
		return err
	}
	if err := rc.CheckSize(v); err != nil {
		return err
	}
	rc.scopes[0].Set(n.to, v)
	return nil
}

type captureNode struct {
	blankNode
	to   string
	body *Body
}

func parseCapture(tp *TagParser) (Node, error) {
	m := reCapture.FindStringSubmatch(tp.Markup)
	if m == nil {
		return nil, tp.Errorf("Syntax Error in 'capture' - Valid syntax: capture [var]")
	}
	body, err := tp.ParseBlock()
	if err != nil {
		return nil, err
	}
	return &captureNode{to: m[1], body: body}, nil
}

func (n *captureNode) Render(rc *RenderContext) error {
	s, err := rc.RenderBody(n.body)
	if err != nil {
		return err
	}
	rc.scopes[0].Set(n.to, s)
	return nil
}

// ---- if / unless ------------------------------------------------------

type ifBranch struct {
	cond Expression // nil for else
	body *Body
}

type ifNode struct {
	branches []ifBranch
	unless   bool
	blank    bool
}

func (n *ifNode) Blank() bool { return n.blank }

func parseIf(tp *TagParser, unless bool) (Node, error) {
	n := &ifNode{unless: unless, blank: true}
	markup, isElse := tp.Markup, false
	for {
		var br ifBranch
		if !isElse {
			c, err := tp.p.parseCondition(markup)
			if err != nil {
				return nil, err
			}
			br.cond = c
		}
		body, stop, stopMarkup, err := tp.ParseBody()
		if err != nil {
			return nil, err
		}
		br.body = body
		n.branches = append(n.branches, br)
		n.blank = n.blank && body.Blank()
		switch stop {
		case "end" + tp.Name:
			if n.blank {
				for _, b := range n.branches {
					b.body.removeBlankStrings()
				}
			}
			return n, nil
		case "elsif":
			markup, isElse = stopMarkup, false
		case "else":
			markup, isElse = "", true
		default:
			return nil, tp.UnknownTag(stop)
		}
	}
}

func (n *ifNode) Render(rc *RenderContext) error {
	for i, br := range n.branches {
		if br.cond == nil {
			return rc.renderBody(br.body)
		}
		v, err := br.cond.Evaluate(rc)
		if err != nil {
			return err
		}
		t := value.Truthy(v)
		if n.unless && i == 0 {
			t = !t
		}
		if t {
			return rc.renderBody(br.body)
		}
	}
	return nil
}

// ---- case -------------------------------------------------------------

type caseBlock struct {
	values []Expression // nil for else
	isElse bool
	body   *Body
}

type caseNode struct {
	left   Expression
	blocks []caseBlock
	blank  bool
}

func (n *caseNode) Blank() bool { return n.blank }

func parseCase(tp *TagParser) (Node, error) {
	s, e, ok := firstQuotedFragment(tp.Markup, 0)
	if !ok {
		return nil, tp.Errorf("Syntax Error in 'case' - Valid syntax: case [condition]")
	}
	n := &caseNode{left: tp.ParseExpression(tp.Markup[s:e]), blank: true}
	// The body before the first when is parsed and discarded.
	body, stop, stopMarkup, err := tp.ParseBody()
	if err != nil {
		return nil, err
	}
	n.blank = body.Blank()
	for {
		var blk caseBlock
		switch stop {
		case "end" + tp.Name:
			if n.blank {
				for _, b := range n.blocks {
					b.body.removeBlankStrings()
				}
			}
			return n, nil
		case "when":
			markup := stopMarkup
			for {
				first, rest, hasRest, ok := matchWhenSyntax(markup)
				if !ok {
					return nil, tp.Errorf("Syntax Error in tag 'case' - Valid when condition: {% when [condition] [or condition2...] %}")
				}
				blk.values = append(blk.values, tp.p.condExpression(first))
				if !hasRest {
					break
				}
				markup = rest
			}
		case "else":
			if strings.TrimSpace(stopMarkup) != "" {
				return nil, tp.Errorf("Syntax Error in tag 'case' - Valid else condition: {% else %} (no parameters) ")
			}
			blk.isElse = true
		default:
			return nil, tp.UnknownTag(stop)
		}
		blk.body, stop, stopMarkup, err = tp.ParseBody()
		if err != nil {
			return nil, err
		}
		n.blank = n.blank && blk.body.Blank()
		n.blocks = append(n.blocks, blk)
	}
}

func (n *caseNode) Render(rc *RenderContext) error {
	runElse := true
	for _, b := range n.blocks {
		if b.isElse {
			if runElse {
				if err := rc.renderBody(b.body); err != nil {
					return err
				}
			}
			continue
		}
		for _, ve := range b.values {
			left, err := n.left.Evaluate(rc)
			if err != nil {
				return err
			}
			r, err := ve.Evaluate(rc)
			if err != nil {
				return err
			}
			if value.Truthy(equalVariablesAS(left, r, rc.sh.eng.activeSupport)) {
				runElse = false
				if err := rc.renderBody(b.body); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ---- for --------------------------------------------------------------

type forNode struct {
	varName    string
	name       string
	collection Expression
	reversed   bool
	limit      Expression
	offset     Expression
	continued  bool
	body       *Body
	elseBody   *Body
	blank      bool
}

func (n *forNode) Blank() bool { return n.blank }

func parseFor(tp *TagParser) (Node, error) {
	n := &forNode{}
	if tp.p.strict {
		if err := n.parseStrict(tp); err != nil {
			if se, ok := err.(*SyntaxError); ok {
				se.Msg += " in \"" + strings.TrimSpace(tp.Markup) + "\""
			}
			return nil, err
		}
	} else {
		v, coll, reversed, ok := matchForSyntax(tp.Markup)
		if !ok {
			return nil, tp.Errorf("Syntax Error in 'for loop' - Valid syntax: for [item] in [collection]")
		}
		n.varName = v
		n.reversed = reversed
		n.name = v + "-" + coll
		n.collection = tp.ParseExpression(coll)
		for _, a := range scanTagAttributes(tp.Markup) {
			n.setAttribute(tp, a[0], a[1])
		}
	}
	body, stop, _, err := tp.ParseBody()
	if err != nil {
		return nil, err
	}
	n.body = body
	n.blank = body.Blank()
	if stop == "else" {
		n.elseBody, stop, _, err = tp.ParseBody()
		if err != nil {
			return nil, err
		}
		n.blank = n.blank && n.elseBody.Blank()
	}
	if stop != "endfor" {
		return nil, tp.UnknownTag(stop)
	}
	if n.blank {
		n.body.removeBlankStrings()
		if n.elseBody != nil {
			n.elseBody.removeBlankStrings()
		}
	}
	return n, nil
}

func (n *forNode) setAttribute(tp *TagParser, key, expr string) {
	switch key {
	case "offset":
		if expr == "continue" {
			n.continued = true
			n.offset = nil
		} else {
			n.continued = false
			n.offset = tp.ParseExpression(expr)
		}
	case "limit":
		n.limit = tp.ParseExpression(expr)
	}
}

func (n *forNode) parseStrict(tp *TagParser) error {
	sp, err := newStrictParser(tp.Markup)
	if err != nil {
		return err
	}
	if n.varName, err = sp.consume(tkID); err != nil {
		return err
	}
	if !sp.idIs("in") {
		return tp.Errorf("For loops require an 'in' clause")
	}
	coll, err := sp.expression()
	if err != nil {
		return err
	}
	n.collection = tp.ParseExpression(coll)
	n.name = n.varName + "-" + coll
	n.reversed = sp.idIs("reversed")
	for sp.look(tkID, 0) && sp.look(tkColon, 1) {
		attr := sp.toks[sp.p].text
		if attr != "limit" && attr != "offset" {
			return tp.Errorf("Invalid attribute in for loop. Valid attributes are limit and offset")
		}
		sp.p += 2
		e, err := sp.expression()
		if err != nil {
			return err
		}
		n.setAttribute(tp, attr, e)
	}
	_, err = sp.consume(tkEnd)
	return err
}

// toInteger is Utils.to_integer.
func toInteger(v any) (int64, error) {
	if x, ok := v.(int64); ok {
		return x, nil
	}
	// Liquid's Utils.to_integer is Ruby's Integer(v.to_s); a Bignum is past
	// any collection's end, so it saturates.
	n, err := filter.ToInteger(v)
	if err != nil {
		return 0, &RuntimeError{Msg: "invalid integer"}
	}
	return rubyToI(n), nil
}

// sequence is a sliced collection iterated by for, tablerow and render.
type sequence struct {
	arr   []any
	rng   value.Range
	isRng bool
	start int64
	n     int64
}

func (s *sequence) at(i int64) any {
	if s.isRng {
		return s.rng.Start + s.start + i
	}
	return s.arr[s.start+i]
}

// sliceCollection is Utils.slice_collection: items from index from up to
// (excluding) to, with to < 0 meaning no end.
// addSaturated adds two integers, clamping at the int64 limits: Ruby's
// offset + limit grows into a Bignum, which is past any collection's end.
func addSaturated(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func sliceCollection(coll any, from int64, to int64, hasTo bool) sequence {
	var seq sequence
	var length int64
	switch c := coll.(type) {
	case []any:
		seq.arr, length = c, int64(len(c))
	case *value.Map:
		seq.arr = c.Pairs()
		length = int64(len(seq.arr))
	case value.Range:
		seq.rng, seq.isRng, length = c, true, c.Len()
	case string:
		// Ruby ignores offset and limit for strings.
		if c != "" {
			seq.arr, seq.n = []any{c}, 1
		}
		return seq
	default:
		return seq
	}
	start := max(from, 0)
	end := length
	if hasTo && to < end {
		end = to
	}
	if end > start {
		seq.start, seq.n = start, end-start
	}
	return seq
}

func (n *forNode) Render(rc *RenderContext) error {
	if rc.offsets == nil {
		rc.offsets = map[string]int64{}
	}
	var from int64
	if n.continued {
		from = rc.offsets[n.name]
	} else if n.offset != nil {
		v, err := n.offset.Evaluate(rc)
		if err != nil {
			return err
		}
		if v != nil {
			if from, err = toInteger(v); err != nil {
				return err
			}
		}
	}
	coll, err := n.collection.Evaluate(rc)
	if err != nil {
		return err
	}
	var to int64
	hasTo := false
	if n.limit != nil {
		v, err := n.limit.Evaluate(rc)
		if err != nil {
			return err
		}
		if v != nil {
			l, err := toInteger(v)
			if err != nil {
				return err
			}
			to, hasTo = addSaturated(l, from), true
		}
	}
	if _, lazy := coll.(value.Lister); lazy {
		limit := int64(-1)
		if hasTo {
			limit = max(to, 0)
		}
		if coll, err = rc.materialize(coll, limit, n.collection); err != nil {
			return err
		}
	}
	seq := sliceCollection(coll, from, to, hasTo)
	rc.offsets[n.name] = from + seq.n
	if seq.n == 0 {
		return rc.renderBody(n.elseBody)
	}
	if err := rc.PushScope(); err != nil {
		return err
	}
	defer rc.PopScope()
	var parent *forloopDrop
	if len(rc.forStack) > 0 {
		parent = rc.forStack[len(rc.forStack)-1]
	}
	loop := &forloopDrop{name: n.name, length: seq.n, parent: parent}
	rc.forStack = append(rc.forStack, loop)
	defer func() { rc.forStack = rc.forStack[:len(rc.forStack)-1] }()
	scope := rc.scopes[len(rc.scopes)-1]
	scope.Set("forloop", loop)
	for i := int64(0); i < seq.n; i++ {
		if err := rc.Step(1); err != nil {
			return err
		}
		idx := i
		if n.reversed {
			idx = seq.n - 1 - i
		}
		scope.Set(n.varName, seq.at(idx))
		if err := rc.renderBody(n.body); err != nil {
			return err
		}
		loop.index++
		if len(rc.interrupts) > 0 {
			if rc.popInterrupt() == interruptBreak {
				break
			}
		}
	}
	return nil
}

// ---- break / continue -------------------------------------------------

// maxInterrupts caps pending interrupts; only a few are ever popped.
const maxInterrupts = 1 << 12

type interruptNode int

func (n interruptNode) Render(rc *RenderContext) error {
	if len(rc.interrupts) < maxInterrupts {
		rc.interrupts = append(rc.interrupts, int(n))
	}
	return nil
}

// ---- cycle ------------------------------------------------------------

var (
	reCycleNamed  = regexp.MustCompile(`(?s)\A(` + reQuotedFragment + `)\s*\:\s*(.*)`)
	reCycleSimple = regexp.MustCompile(`\A(?:` + reQuotedFragment + `)+`)
	reCycleVar    = regexp.MustCompile(`\s*(` + reQuotedFragment + `)\s*`)
)

type cycleNode struct {
	name   Expression // nil: key is fixed
	key    string
	values []Expression
}

func parseCycle(tp *TagParser) (Node, error) {
	n := &cycleNode{}
	varsFrom := func(markup string) {
		for _, part := range strings.Split(markup, ",") {
			if m := reCycleVar.FindStringSubmatch(part); m != nil {
				n.values = append(n.values, tp.ParseExpression(m[1]))
			}
		}
	}
	if m := reCycleNamed.FindStringSubmatch(tp.Markup); m != nil {
		varsFrom(m[2])
		n.name = tp.ParseExpression(m[1])
	} else if reCycleSimple.MatchString(tp.Markup) {
		varsFrom(tp.Markup)
		// Ruby keys unnamed cycles by the inspected list of expressions:
		// equal for literal lists, unique per tag otherwise.
		parts := make([]string, len(n.values))
		allLit := true
		for i, v := range n.values {
			if l, ok := v.(*literalExpr); ok {
				parts[i] = value.Inspect(l.v)
			} else {
				allLit = false
			}
		}
		if allLit {
			n.key = "s[" + strings.Join(parts, ", ") + "]"
		} else {
			n.key = fmt.Sprintf("s#%p", n)
		}
	} else {
		return nil, tp.Errorf("Syntax Error in 'cycle' - Valid syntax: cycle [name :] var [, var2, var3 ...]")
	}
	return n, nil
}

func (n *cycleNode) Render(rc *RenderContext) error {
	key := n.key
	if n.name != nil {
		k, err := n.name.Evaluate(rc)
		if err != nil {
			return err
		}
		key = "n" + value.Inspect(k)
	}
	if rc.cycles == nil {
		rc.cycles = map[string]int{}
	}
	it := rc.cycles[key]
	var v any
	if it < len(n.values) {
		var err error
		if v, err = n.values[it].Evaluate(rc); err != nil {
			return err
		}
	}
	if err := rc.WriteValue(v); err != nil {
		return err
	}
	it++
	if it >= len(n.values) {
		it = 0
	}
	rc.cycles[key] = it
	return nil
}

// ---- increment / decrement --------------------------------------------

type counterNode struct {
	name  string
	delta int64
}

func (n *counterNode) Render(rc *RenderContext) error {
	if rc.counters == nil {
		rc.counters = value.NewMap(2)
	}
	cur, ok := rc.counters.Get(n.name)
	if !ok {
		cur, _ = rc.env.Get(n.name)
	}
	if !value.Truthy(cur) {
		cur = int64(0)
	}
	var b *big.Int
	switch x := cur.(type) {
	case int64:
		b = big.NewInt(x)
	case *big.Int:
		b = x
	default:
		return &RuntimeError{Msg: "internal"}
	}
	next := value.Int(new(big.Int).Add(b, big.NewInt(n.delta)))
	rc.counters.Set(n.name, next)
	if n.delta > 0 {
		return rc.WriteValue(cur)
	}
	return rc.WriteValue(next)
}

// ---- tablerow ---------------------------------------------------------

var reTablerowSyntax = regexp.MustCompile(`(\w+)\s+in\s+((?:` + reQuotedFragment + `)+)`)

type tablerowNode struct {
	varName    string
	collection Expression
	attrs      map[string]Expression
	body       *Body
	blank      bool
}

func (n *tablerowNode) Blank() bool { return n.blank }

func parseTablerow(tp *TagParser) (Node, error) {
	m := reTablerowSyntax.FindStringSubmatch(tp.Markup)
	if m == nil {
		return nil, tp.Errorf("Syntax Error in 'table_row loop' - Valid syntax: table_row [item] in [collection] cols=3")
	}
	n := &tablerowNode{varName: m[1], collection: tp.ParseExpression(m[2]), attrs: map[string]Expression{}}
	for _, a := range scanTagAttributes(tp.Markup) {
		n.attrs[a[0]] = tp.ParseExpression(a[1])
	}
	body, err := tp.ParseBlock()
	if err != nil {
		return nil, err
	}
	n.body, n.blank = body, body.Blank()
	return n, nil
}

// rubyToInt is to_i on an evaluated value.
func rubyToInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64, float64, string, *big.Int:
		return rubyToI(x), nil
	}
	// Ruby raises NoMethodError, which Liquid renders as an internal error.
	return 0, &RuntimeError{Msg: "internal"}
}

func (n *tablerowNode) attr(rc *RenderContext, k string) (int64, bool, error) {
	e, ok := n.attrs[k]
	if !ok {
		return 0, false, nil
	}
	v, err := e.Evaluate(rc)
	if err != nil {
		return 0, true, err
	}
	i, err := rubyToInt(v)
	return i, true, err
}

func (n *tablerowNode) Render(rc *RenderContext) error {
	coll, err := n.collection.Evaluate(rc)
	if err != nil || !value.Truthy(coll) {
		return err
	}
	from, _, err := n.attr(rc, "offset")
	if err != nil {
		return err
	}
	limit, hasLimit, err := n.attr(rc, "limit")
	if err != nil {
		return err
	}
	if _, lazy := coll.(value.Lister); lazy {
		want := int64(-1)
		if hasLimit {
			want = max(addSaturated(from, limit), 0)
		}
		if coll, err = rc.materialize(coll, want, n.collection); err != nil {
			return err
		}
	}
	seq := sliceCollection(coll, from, addSaturated(from, limit), hasLimit)
	cols, _, err := n.attr(rc, "cols")
	if err != nil {
		return err
	}
	if err := rc.WriteString("<tr class=\"row1\">\n"); err != nil {
		return err
	}
	if err := rc.PushScope(); err != nil {
		return err
	}
	defer rc.PopScope()
	loop := &tablerowDrop{length: seq.n, row: 1, col: 1, cols: cols}
	scope := rc.scopes[len(rc.scopes)-1]
	scope.Set("tablerowloop", loop)
	for i := int64(0); i < seq.n; i++ {
		if err := rc.Step(1); err != nil {
			return err
		}
		scope.Set(n.varName, seq.at(i))
		if err := rc.WriteString("<td class=\"col" + strconv.FormatInt(loop.col, 10) + "\">"); err != nil {
			return err
		}
		if err := rc.renderBody(n.body); err != nil {
			return err
		}
		if err := rc.WriteString("</td>"); err != nil {
			return err
		}
		if loop.col == loop.cols && loop.index != loop.length-1 {
			if err := rc.WriteString("</tr>\n<tr class=\"row" + strconv.FormatInt(loop.row+1, 10) + "\">"); err != nil {
				return err
			}
		}
		loop.index++
		if loop.col == loop.cols {
			loop.col = 1
			loop.row++
		} else {
			loop.col++
		}
	}
	return rc.WriteString("</tr>\n")
}

// ---- comment / raw / inline comment -----------------------------------

type emptyNode struct{ blankNode }

func (emptyNode) Render(*RenderContext) error { return nil }

func parseComment(tp *TagParser) (Node, error) {
	for {
		_, stop, _, err := tp.ParseBody()
		if err != nil {
			return nil, err
		}
		if stop == "endcomment" {
			return emptyNode{}, nil
		}
	}
}

type rawNode struct{ text string }

func (n *rawNode) Render(rc *RenderContext) error { return rc.WriteString(n.text) }
func (n *rawNode) Blank() bool                    { return n.text == "" }

func parseRaw(tp *TagParser) (Node, error) {
	if strings.TrimSpace(tp.Markup) != "" {
		return nil, tp.Errorf("Syntax Error in 'raw' - Valid syntax: raw")
	}
	s, err := tp.RawBody()
	if err != nil {
		return nil, err
	}
	return &rawNode{text: s}, nil
}

// parseDoc parses {% doc %}…{% enddoc %}, a documentation block whose body
// is neither parsed nor rendered. It is newer than Liquid 5.4 (where it is
// an unknown tag) and follows current Shopify Liquid.
func parseDoc(tp *TagParser) (Node, error) {
	if strings.TrimSpace(tp.Markup) != "" {
		return nil, tp.Errorf("Syntax Error in 'doc' - Valid syntax: {% doc %}{% enddoc %}")
	}
	if _, err := tp.RawBody(); err != nil {
		return nil, err
	}
	return emptyNode{}, nil
}

var reInlineCommentInvalid = regexp.MustCompile(`\n\s*[^#\s]`)

func parseInlineComment(tp *TagParser) (Node, error) {
	if reInlineCommentInvalid.MatchString(tp.Markup) {
		return nil, tp.Errorf("Syntax error in tag '#' - Each line of comments must be prefixed by the '#' character")
	}
	return emptyNode{}, nil
}

// ---- ifchanged --------------------------------------------------------

type ifchangedNode struct{ body *Body }

func (n *ifchangedNode) Blank() bool { return n.body.Blank() }

func parseIfchanged(tp *TagParser) (Node, error) {
	body, err := tp.ParseBlock()
	if err != nil {
		return nil, err
	}
	return &ifchangedNode{body: body}, nil
}

func (n *ifchangedNode) Render(rc *RenderContext) error {
	s, err := rc.RenderBody(n.body)
	if err != nil {
		return err
	}
	if rc.ifchanged == nil || *rc.ifchanged != s {
		rc.ifchanged = &s
		return rc.WriteString(s)
	}
	return nil
}
