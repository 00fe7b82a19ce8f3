package liquid

import (
	"strings"
)

// splitTemplate cuts source into text, "{{…}}" and "{%…%}" tokens the way
// Ruby Liquid's tokenizer does: a tag runs to the first "%}", an output to
// the first "}" (taking a second "}" when present), and an opening
// delimiter without its end is a token of its own.
func splitTemplate(src string) []string {
	var toks []string
	i := 0
	for i < len(src) {
		j := nextDelim(src, i)
		if j < 0 {
			toks = append(toks, src[i:])
			break
		}
		if j > i {
			toks = append(toks, src[i:j])
		}
		if src[j+1] == '%' {
			k := strings.Index(src[j+2:], "%}")
			if k < 0 {
				toks = append(toks, "{%")
				i = j + 2
				continue
			}
			end := j + 2 + k + 2
			toks = append(toks, src[j:end])
			i = end
			continue
		}
		k := strings.IndexByte(src[j+2:], '}')
		if k < 0 {
			toks = append(toks, "{{")
			i = j + 2
			continue
		}
		end := j + 2 + k + 1
		if end < len(src) && src[end] == '}' {
			end++
		}
		toks = append(toks, src[j:end])
		i = end
	}
	return toks
}

// nextDelim finds the next "{{" or "{%" at or after i.
func nextDelim(s string, i int) int {
	for {
		k := strings.IndexByte(s[i:], '{')
		if k < 0 {
			return -1
		}
		p := i + k
		if p+1 < len(s) && (s[p+1] == '{' || s[p+1] == '%') {
			return p
		}
		i = p + 1
	}
}

// token kinds of the strict expression lexer.
const (
	tkEnd = iota
	tkComparison
	tkString
	tkNumber
	tkID
	tkDotDot
	tkPipe
	tkDot
	tkColon
	tkComma
	tkOpenSquare
	tkCloseSquare
	tkOpenRound
	tkCloseRound
	tkQuestion
	tkDash
)

var tokenNames = [...]string{
	tkEnd: "end_of_string", tkComparison: "comparison", tkString: "string", tkNumber: "number",
	tkID: "id", tkDotDot: "dotdot", tkPipe: "pipe", tkDot: "dot", tkColon: "colon",
	tkComma: "comma", tkOpenSquare: "open_square", tkCloseSquare: "close_square",
	tkOpenRound: "open_round", tkCloseRound: "close_round", tkQuestion: "question", tkDash: "dash",
}

type lexToken struct {
	kind int
	text string
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lexStrict tokenizes markup as Ruby Liquid's Lexer does.
func lexStrict(s string) ([]lexToken, error) {
	toks := make([]lexToken, 0, 8)
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		start := i
		switch {
		case c == '=' && i+1 < len(s) && s[i+1] == '=',
			c == '!' && i+1 < len(s) && s[i+1] == '=',
			c == '<' && i+1 < len(s) && s[i+1] == '>':
			i += 2
			toks = append(toks, lexToken{tkComparison, s[start:i]})
			continue
		case c == '<' || c == '>':
			i++
			if i < len(s) && s[i] == '=' {
				i++
			}
			toks = append(toks, lexToken{tkComparison, s[start:i]})
			continue
		case c == 'c' && strings.HasPrefix(s[i:], "contains") && i+8 < len(s) && isSpace(s[i+8]):
			i += 8
			toks = append(toks, lexToken{tkComparison, "contains"})
			continue
		case c == '\'' || c == '"':
			if k := strings.IndexByte(s[i+1:], c); k >= 0 {
				i += k + 2
				toks = append(toks, lexToken{tkString, s[start:i]})
				continue
			}
		}
		if c == '-' && i+1 < len(s) && isDigit(s[i+1]) || isDigit(c) {
			j := i
			if c == '-' {
				j++
			}
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				j++
				for j < len(s) && isDigit(s[j]) {
					j++
				}
			}
			i = j
			toks = append(toks, lexToken{tkNumber, s[start:i]})
			continue
		}
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] == '?' {
				j++
			}
			i = j
			toks = append(toks, lexToken{tkID, s[start:i]})
			continue
		}
		if c == '.' && i+1 < len(s) && s[i+1] == '.' {
			i += 2
			toks = append(toks, lexToken{tkDotDot, ".."})
			continue
		}
		var k int
		switch c {
		case '|':
			k = tkPipe
		case '.':
			k = tkDot
		case ':':
			k = tkColon
		case ',':
			k = tkComma
		case '[':
			k = tkOpenSquare
		case ']':
			k = tkCloseSquare
		case '(':
			k = tkOpenRound
		case ')':
			k = tkCloseRound
		case '?':
			k = tkQuestion
		case '-':
			k = tkDash
		default:
			r := []rune(s[i:])
			return nil, &SyntaxError{Msg: "Unexpected character " + string(r[0])}
		}
		i++
		toks = append(toks, lexToken{k, s[start:i]})
	}
	toks = append(toks, lexToken{kind: tkEnd})
	return toks, nil
}

// strictParser mirrors Ruby Liquid's Parser: it rebuilds expression markup
// from tokens, which is then parsed by parseExpressionMarkup.
type strictParser struct {
	toks []lexToken
	p    int
}

func newStrictParser(s string) (*strictParser, error) {
	toks, err := lexStrict(s)
	if err != nil {
		return nil, err
	}
	return &strictParser{toks: toks}, nil
}

func (p *strictParser) look(kind, ahead int) bool {
	i := p.p + ahead
	return i < len(p.toks) && p.toks[i].kind == kind
}

func (p *strictParser) consume(kind int) (string, error) {
	t := p.toks[p.p]
	if kind >= 0 && t.kind != kind {
		return "", &SyntaxError{Msg: "Expected " + tokenNames[kind] + " but found " + tokenNames[t.kind]}
	}
	if p.p < len(p.toks)-1 {
		p.p++
	}
	return t.text, nil
}

func (p *strictParser) consumeIf(kind int) (string, bool) {
	t := p.toks[p.p]
	if t.kind != kind {
		return "", false
	}
	p.p++
	return t.text, true
}

func (p *strictParser) idIs(s string) bool {
	t := p.toks[p.p]
	if t.kind == tkID && t.text == s {
		p.p++
		return true
	}
	return false
}

func (p *strictParser) expression() (string, error) {
	t := p.toks[p.p]
	switch t.kind {
	case tkID:
		p.p++
		rest, err := p.variableLookups()
		return t.text + rest, err
	case tkOpenSquare:
		p.p++
		inner, err := p.expression()
		if err != nil {
			return "", err
		}
		if _, err := p.consume(tkCloseSquare); err != nil {
			return "", err
		}
		rest, err := p.variableLookups()
		return "[" + inner + "]" + rest, err
	case tkString, tkNumber:
		p.p++
		return t.text, nil
	case tkOpenRound:
		p.p++
		first, err := p.expression()
		if err != nil {
			return "", err
		}
		if _, err := p.consume(tkDotDot); err != nil {
			return "", err
		}
		last, err := p.expression()
		if err != nil {
			return "", err
		}
		if _, err := p.consume(tkCloseRound); err != nil {
			return "", err
		}
		return "(" + first + ".." + last + ")", nil
	}
	return "", &SyntaxError{Msg: tokenDesc(t) + " is not a valid expression"}
}

// tokenDesc renders a token as Ruby's Array#to_s would, e.g. [:pipe, "|"].
func tokenDesc(t lexToken) string {
	if t.kind == tkEnd {
		return "[:end_of_string]"
	}
	return "[:" + tokenNames[t.kind] + ", " + strQuote(t.text) + "]"
}

func strQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func (p *strictParser) variableLookups() (string, error) {
	var b strings.Builder
	for {
		if p.look(tkOpenSquare, 0) {
			p.p++
			inner, err := p.expression()
			if err != nil {
				return "", err
			}
			if _, err := p.consume(tkCloseSquare); err != nil {
				return "", err
			}
			b.WriteString("[" + inner + "]")
		} else if p.look(tkDot, 0) {
			p.p++
			id, err := p.consume(tkID)
			if err != nil {
				return "", err
			}
			b.WriteString("." + id)
		} else {
			return b.String(), nil
		}
	}
}

// argument parses "expr" or "key: expr".
func (p *strictParser) argument() (string, error) {
	prefix := ""
	if p.look(tkID, 0) && p.look(tkColon, 1) {
		prefix = p.toks[p.p].text + ": "
		p.p += 2
	}
	e, err := p.expression()
	return prefix + e, err
}
