package liquid

import (
	"regexp"
	"strconv"
	"strings"
)

// SyntaxError is a template that cannot be parsed. Line is 1-based; 0 means
// unknown.
type SyntaxError struct {
	Line int
	Msg  string
}

// Error formats the error as Ruby does, with the line when known.
func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return "Liquid syntax error (line " + strconv.Itoa(e.Line) + "): " + e.Msg
	}
	return "Liquid syntax error: " + e.Msg
}

// maxParseDepth is Ruby Liquid's Block::MAX_DEPTH.
const maxParseDepth = 100

// Node is a parsed piece of a template that renders itself into the
// render context's current output.
type Node interface {
	Render(rc *RenderContext) error
}

// Blanker is implemented by nodes that produce no output when rendered
// normally (like assign or comment): a block containing only blank nodes and
// whitespace drops that whitespace, as Ruby Liquid does.
type Blanker interface {
	Blank() bool
}

// Tag implements a tag registered with Engine.RegisterTag.
type Tag interface {
	// Parse builds the node for one occurrence of the tag. Block tags read
	// their body through the parser (ParseBody or RawBody).
	Parse(p *TagParser) (Node, error)
}

// TagFunc adapts a function to the Tag interface.
type TagFunc func(p *TagParser) (Node, error)

// Parse calls f.
func (f TagFunc) Parse(p *TagParser) (Node, error) { return f(p) }

// textNode is literal template text.
type textNode string

func (t textNode) Render(rc *RenderContext) error { return rc.WriteString(string(t)) }

// Body is a parsed list of nodes: a template, or the body of a block tag.
type Body struct {
	nodes []Node
	lines []int // line of each node, for error messages
	blank bool
}

func (b *Body) add(n Node, line int) {
	b.nodes = append(b.nodes, n)
	b.lines = append(b.lines, line)
}

// Blank reports whether the body renders only whitespace and blank tags.
func (b *Body) Blank() bool { return b == nil || b.blank }

func (b *Body) removeBlankStrings() {
	out, lines := b.nodes[:0], b.lines[:0]
	for i, n := range b.nodes {
		if _, ok := n.(textNode); !ok {
			out = append(out, n)
			lines = append(lines, b.lines[i])
		}
	}
	b.nodes, b.lines = out, lines
}

// tokenizer hands out the template's tokens, or the lines of a liquid tag.
type tokenizer struct {
	toks   []string
	pos    int
	liquid bool
	line   int
}

func (t *tokenizer) shift() (string, bool) {
	if t.pos >= len(t.toks) {
		return "", false
	}
	tok := t.toks[t.pos]
	t.pos++
	if t.liquid {
		t.line++
	} else {
		t.line += strings.Count(tok, "\n")
	}
	return tok, true
}

type parser struct {
	eng       *Engine
	strict    bool
	tz        *tokenizer
	line      int
	trimNext  bool
	depth     int
	exprCache map[string]Expression
}

// endTag is what stopped a body: an unregistered tag or the end of input.
type endTag struct {
	name, markup string
	eof          bool
}

func (p *parser) syntaxErr(msg string) *SyntaxError {
	return &SyntaxError{Line: p.line, Msg: msg}
}

// parseBody appends nodes to body until an unregistered tag or the end.
func (p *parser) parseBody(body *Body) (endTag, error) {
	p.line = p.tz.line
	if p.tz.liquid {
		return p.parseLiquidLines(body)
	}
	for {
		tok, ok := p.tz.shift()
		if !ok {
			return endTag{eof: true}, nil
		}
		if tok == "" {
			continue
		}
		switch {
		case strings.HasPrefix(tok, "{%"):
			p.whitespace(body, tok)
			ws1, name, ws2, markup, ok := splitFullToken(tok)
			if !ok {
				return endTag{}, p.syntaxErr("Tag '" + tok + "' was not properly terminated with regexp: /\\%\\}/")
			}
			p.line += strings.Count(ws1, "\n") + strings.Count(ws2, "\n")
			if name == "liquid" {
				if err := p.parseLiquidTag(body, markup); err != nil {
					return endTag{}, err
				}
				p.line = p.tz.line
				continue
			}
			t, ok := p.eng.tags[name]
			if !ok {
				return endTag{name: name, markup: markup}, nil
			}
			line := p.line
			n, err := p.parseTag(t, name, markup)
			if err != nil {
				return endTag{}, err
			}
			if n != nil {
				body.blank = body.blank && nodeBlank(n)
				body.add(n, line)
			}
		case strings.HasPrefix(tok, "{{"):
			p.whitespace(body, tok)
			inner, ok := contentOfVariable(tok)
			if !ok {
				return endTag{}, p.syntaxErr("Variable '" + tok + "' was not properly terminated with regexp: /\\}\\}/")
			}
			v, err := p.parseVariable(inner)
			if err != nil {
				return endTag{}, p.wrapErr(err)
			}
			body.add(&outputNode{v: v}, p.line)
			body.blank = false
		default:
			if p.trimNext {
				tok = strings.TrimLeft(tok, " \t\n\v\f\r\x00")
			}
			p.trimNext = false
			if tok != "" {
				body.add(textNode(tok), 0)
				if body.blank && strings.TrimLeft(tok, " \t\n\v\f\r") != "" {
					body.blank = false
				}
			}
		}
		p.line = p.tz.line
	}
}

func nodeBlank(n Node) bool {
	if b, ok := n.(Blanker); ok {
		return b.Blank()
	}
	return false
}

// wrapErr gives a SyntaxError the current line when it has none.
func (p *parser) wrapErr(err error) error {
	if se, ok := err.(*SyntaxError); ok && se.Line == 0 {
		se.Line = p.line
	}
	return err
}

func (p *parser) whitespace(body *Body, tok string) {
	if len(tok) > 2 && tok[2] == '-' && len(body.nodes) > 0 {
		if t, ok := body.nodes[len(body.nodes)-1].(textNode); ok {
			s := strings.TrimRight(string(t), " \t\n\v\f\r\x00")
			if s == "" {
				body.nodes = body.nodes[:len(body.nodes)-1]
				body.lines = body.lines[:len(body.lines)-1]
			} else {
				body.nodes[len(body.nodes)-1] = textNode(s)
			}
		}
	}
	p.trimNext = len(tok) >= 3 && tok[len(tok)-3] == '-'
}

// splitFullToken matches FullToken:
// \A{%-?(\s*)(#|\w+)(\s*)(.*?)-?%}\z
func splitFullToken(tok string) (ws1, name, ws2, markup string, ok bool) {
	if len(tok) < 4 || !strings.HasSuffix(tok, "%}") {
		return "", "", "", "", false
	}
	s := tok[2 : len(tok)-2]
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	ws1 = s[:i]
	j := i
	if j < len(s) && s[j] == '#' {
		j++
	} else {
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
	}
	if j == i {
		return "", "", "", "", false
	}
	name = s[i:j]
	k := j
	for k < len(s) && isSpace(s[k]) {
		k++
	}
	ws2 = s[j:k]
	markup = s[k:]
	if strings.HasSuffix(markup, "-") {
		markup = markup[:len(markup)-1]
	}
	return ws1, name, ws2, markup, true
}

// contentOfVariable matches ContentOfVariable: \A{{-?(.*?)-?}}\z
func contentOfVariable(tok string) (string, bool) {
	if len(tok) < 4 || !strings.HasSuffix(tok, "}}") {
		return "", false
	}
	s := tok[2 : len(tok)-2]
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if strings.HasSuffix(s, "-") {
		s = s[:len(s)-1]
	}
	return s, true
}

var reLiquidTagToken = regexp.MustCompile(`\A\s*(#|\w+)\s*(.*?)\z`)

func (p *parser) parseLiquidLines(body *Body) (endTag, error) {
	for {
		tok, ok := p.tz.shift()
		if !ok {
			return endTag{eof: true}, nil
		}
		if strings.TrimSpace(tok) != "" {
			m := reLiquidTagToken.FindStringSubmatch(tok)
			if m == nil {
				return endTag{name: tok, markup: tok}, nil
			}
			if m[1] == "liquid" {
				// A liquid tag inside a liquid tag (newer than Liquid 5.4,
				// where it is an unknown tag): its markup is more lines.
				if p.depth >= maxParseDepth {
					return endTag{}, &SyntaxError{Line: p.line, Msg: "Nesting too deep"}
				}
				p.depth++
				err := p.parseLiquidTag(body, m[2])
				p.depth--
				if err != nil {
					return endTag{}, err
				}
				p.line = p.tz.line
				continue
			}
			t, ok := p.eng.tags[m[1]]
			if !ok {
				return endTag{name: m[1], markup: m[2]}, nil
			}
			line := p.line
			n, err := p.parseTag(t, m[1], m[2])
			if err != nil {
				return endTag{}, err
			}
			if n != nil {
				body.blank = body.blank && nodeBlank(n)
				body.add(n, line)
			}
		}
		p.line = p.tz.line
	}
}

// parseLiquidTag parses {% liquid … %} lines into body.
func (p *parser) parseLiquidTag(body *Body, markup string) error {
	saved := p.tz
	p.tz = &tokenizer{toks: strings.Split(markup, "\n"), liquid: true, line: p.line}
	if markup == "" {
		p.tz.toks = nil
	}
	defer func() { p.tz = saved }()
	end, err := p.parseBody(body)
	if err != nil {
		return err
	}
	if !end.eof {
		return p.unknownTagErr(end.name, "liquid", "%}")
	}
	return nil
}

func (p *parser) unknownTagErr(tag, block, delim string) error {
	switch {
	case tag == "else":
		return p.syntaxErr(block + " tag does not expect 'else' tag")
	case strings.HasPrefix(tag, "end"):
		return p.syntaxErr("'" + tag + "' is not a valid delimiter for " + block + " tags. use " + delim)
	}
	return p.syntaxErr("Unknown tag '" + tag + "'")
}

func (p *parser) parseTag(t Tag, name, markup string) (Node, error) {
	tp := &TagParser{Name: name, Markup: markup, Line: p.line, p: p}
	n, err := t.Parse(tp)
	if err != nil {
		return nil, p.wrapErr(err)
	}
	return n, nil
}

// parseDocument parses a whole template.
func (p *parser) parseDocument(src string) (*Body, error) {
	p.tz = &tokenizer{toks: splitTemplate(src), line: 1}
	body := &Body{blank: true}
	for {
		end, err := p.parseBody(body)
		if err != nil {
			return nil, err
		}
		if end.eof {
			return body, nil
		}
		if end.name == "else" || end.name == "end" {
			return nil, p.syntaxErr("Unexpected outer '" + end.name + "' tag")
		}
		return nil, p.syntaxErr("Unknown tag '" + end.name + "'")
	}
}

// TagParser is what a tag's Parse sees: its name, raw markup and line, and
// helpers to parse expressions and read its body.
type TagParser struct {
	Name   string
	Markup string
	Line   int
	p      *parser
}

// Strict reports whether the template is parsed in strict error mode.
func (tp *TagParser) Strict() bool { return tp.p.strict }

// Errorf returns a syntax error at the tag's line.
func (tp *TagParser) Errorf(msg string) error {
	return &SyntaxError{Line: tp.Line, Msg: msg}
}

// ParseExpression parses a single expression (literal, variable lookup or
// range) as Ruby Liquid's Expression.parse does.
func (tp *TagParser) ParseExpression(markup string) Expression {
	return tp.p.parseExpressionMarkup(markup)
}

// ParseFilteredExpression parses an expression followed by filters, like
// the inside of {{ … }}.
func (tp *TagParser) ParseFilteredExpression(markup string) (Expression, error) {
	v, err := tp.p.parseVariable(markup)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ParseCondition parses an if-style condition ("a == b and c").
func (tp *TagParser) ParseCondition(markup string) (Expression, error) {
	c, err := tp.p.parseCondition(markup)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Argument is one "key: value" pair from a tag's markup.
type Argument struct {
	Key   string
	Value Expression
}

// ParseArguments finds every "key: value" pair in markup.
func (tp *TagParser) ParseArguments(markup string) []Argument {
	var out []Argument
	for _, m := range scanTagAttributes(markup) {
		out = append(out, Argument{Key: m[0], Value: tp.p.parseExpressionMarkup(m[1])})
	}
	return out
}

// ParseBody parses the tag's body up to the next tag that is not a
// registered tag, returning the body and that tag's name and markup. The
// caller decides whether the stopping tag is valid (an end tag, else, …);
// ParseBody fails with "'name' tag was never closed" at the end of input.
func (tp *TagParser) ParseBody() (body *Body, stopName, stopMarkup string, err error) {
	p := tp.p
	if p.depth >= maxParseDepth {
		return nil, "", "", &SyntaxError{Line: p.line, Msg: "Nesting too deep"}
	}
	p.depth++
	defer func() { p.depth-- }()
	body = &Body{blank: true}
	end, err := p.parseBody(body)
	if err != nil {
		return nil, "", "", err
	}
	if end.eof {
		return nil, "", "", p.syntaxErr("'" + tp.Name + "' tag was never closed")
	}
	return body, end.name, end.markup, nil
}

// ParseBlock parses a body that must end with "end<name>".
func (tp *TagParser) ParseBlock() (*Body, error) {
	body, stop, _, err := tp.ParseBody()
	if err != nil {
		return nil, err
	}
	if stop != "end"+tp.Name {
		return nil, tp.UnknownTag(stop)
	}
	return body, nil
}

// UnknownTag is the error for an unexpected tag inside this block.
func (tp *TagParser) UnknownTag(name string) error {
	return tp.p.unknownTagErr(name, tp.Name, "end"+tp.Name)
}

// RawBody reads the tag's body as raw text up to {% end<name> %}, without
// parsing it as Liquid. For tags other than raw, the end tag may use
// whitespace control ({%- end<name> -%}), which trims as usual.
func (tp *TagParser) RawBody() (string, error) {
	p := tp.p
	end := "end" + tp.Name
	dash := tp.Name != "raw"
	var b strings.Builder
	for {
		tok, ok := p.tz.shift()
		if !ok {
			return "", p.syntaxErr("'" + tp.Name + "' tag was never closed")
		}
		if pre, ok := matchRawEnd(tok, end, dash); ok {
			b.WriteString(pre)
			out := b.String()
			if dash {
				rest := tok[len(pre):]
				if strings.HasPrefix(rest, "{%-") {
					out = strings.TrimRight(out, " \t\n\v\f\r")
				}
				if strings.HasSuffix(rest, "-%}") {
					p.trimNext = true
				}
			}
			return out, nil
		}
		b.WriteString(tok)
	}
}

// matchRawEnd is Raw's FullTokenPossiblyInvalid check:
// \A(.*){%\s*(\w+)\s*(.*)?%}\z with $2 == end; dash also allows "{%-".
func matchRawEnd(tok, end string, dash bool) (string, bool) {
	if !strings.HasSuffix(tok, "%}") {
		return "", false
	}
	k := strings.LastIndex(tok[:len(tok)-2], "{%")
	for k >= 0 {
		s := tok[k+2 : len(tok)-2]
		if dash {
			s = strings.TrimPrefix(s, "-")
		}
		s = strings.TrimLeft(s, " \t\n\v\f\r")
		j := 0
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j > 0 && s[:j] == end {
			return tok[:k], true
		}
		k = strings.LastIndex(tok[:k], "{%")
	}
	return "", false
}
