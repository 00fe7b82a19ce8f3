package dialect

import (
	"regexp"
	"strings"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// arg is one comma-separated argument of a Mechanic tag: a positional value
// or a "key: value" pair. The value may carry a filter chain.
type arg struct {
	key  string // "" for a positional argument
	expr liquid.Expression
}

// splitTopLevel splits markup at the commas that are outside quotes,
// brackets and parentheses. Empty pieces are kept so that callers can
// reject them.
func splitTopLevel(markup string) []string {
	var out []string
	depth := 0
	var quote byte
	start := 0
	for i := 0; i < len(markup); i++ {
		c := markup[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			out = append(out, markup[start:i])
			start = i + 1
		}
	}
	return append(out, markup[start:])
}

// reFirstFragment is Liquid's QuotedFragment anchored at the start: the
// first expression of a tag's markup (a quoted string or a lookup).
var reFirstFragment = regexp.MustCompile(`\A\s*("[^"]*"|'[^']*'|(?:[^\s,\|'":]|"[^"]*"|'[^']*')+)`)

// rePair is a "key: value" argument; the key is a word, as in Liquid's
// TagAttributes.
var rePair = regexp.MustCompile(`(?s)\A\s*(\w[\w-]*)\s*:(.*)\z`)

// parseArgs parses comma-separated arguments. A piece of the form
// "key: value" is a keyword argument; anything else is positional. Values
// are parsed as filtered expressions (value | filter: a), so a filter
// argument list cannot itself contain commas inside these tags.
func parseArgs(tp *liquid.TagParser, markup string) ([]arg, error) {
	if strings.TrimSpace(markup) == "" {
		return nil, nil
	}
	var out []arg
	for _, piece := range splitTopLevel(markup) {
		if strings.TrimSpace(piece) == "" {
			return nil, tp.Errorf("Syntax Error in '" + tp.Name + "' - empty argument in \"" + strings.TrimSpace(tp.Markup) + "\"")
		}
		a := arg{}
		src := piece
		if m := rePair.FindStringSubmatch(piece); m != nil && !strings.HasPrefix(strings.TrimSpace(m[2]), ":") {
			a.key, src = m[1], m[2]
			if strings.TrimSpace(src) == "" {
				return nil, tp.Errorf("Syntax Error in '" + tp.Name + "' - missing value for \"" + a.key + "\"")
			}
		}
		e, err := tp.ParseFilteredExpression(src)
		if err != nil {
			return nil, err
		}
		a.expr = e
		out = append(out, a)
	}
	return out, nil
}

// evalArgs evaluates positional arguments into a slice and keyword
// arguments into an ordered map.
func evalArgs(rc *liquid.RenderContext, args []arg) ([]any, *value.Map, error) {
	var pos []any
	kw := value.NewMap(0)
	for _, a := range args {
		v, err := a.expr.Evaluate(rc)
		if err != nil {
			return nil, nil, err
		}
		if a.key == "" {
			pos = append(pos, v)
		} else {
			kw.Set(a.key, v)
		}
	}
	return pos, kw, nil
}
