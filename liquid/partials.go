package liquid

import (
	"regexp"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

var (
	reRenderSyntax  = regexp.MustCompile(`((?:"[^"]*"|'[^']*')+)(\s+(with|for)\s+((?:` + reQuotedFragment + `)+))?(\s+(?:as)\s+([\w\-]+))?`)
	reIncludeSyntax = regexp.MustCompile(`((?:` + reQuotedFragment + `)+)(\s+(?:with|for)\s+((?:` + reQuotedFragment + `)+))?(\s+(?:as)\s+([\w\-]+))?`)
)

type renderNode struct {
	name     string
	variable Expression
	isFor    bool
	alias    string
	attrs    []Argument
}

func parseRender(tp *TagParser) (Node, error) {
	m := reRenderSyntax.FindStringSubmatch(tp.Markup)
	if m == nil {
		return nil, tp.Errorf("Syntax error in tag 'render' - Template name must be a quoted string")
	}
	n := &renderNode{isFor: m[3] == "for", alias: m[6]}
	if m[4] != "" {
		n.variable = presentExpr(tp.ParseExpression(m[4]))
	}
	if l, ok := tp.ParseExpression(m[1]).(*literalExpr); ok {
		n.name, _ = l.v.(string)
	}
	n.attrs = tp.ParseArguments(tp.Markup)
	return n, nil
}

func (n *renderNode) Render(rc *RenderContext) error {
	partial, err := rc.loadPartial(n.name)
	if err != nil {
		return err
	}
	varName := n.alias
	if varName == "" {
		varName = n.name[strings.LastIndexByte(n.name, '/')+1:]
	}
	renderOne := func(v any, loop *forloopDrop) error {
		inner := &RenderContext{
			sh:           rc.sh,
			env:          value.NewMap(0),
			scopes:       []*value.Map{value.NewMap(len(n.attrs) + 2)},
			buf:          rc.buf,
			depth:        rc.depth + 1,
			noInclude:    true,
			template:     partial,
			templateName: n.name,
		}
		if rc.depth+len(rc.scopes) > rc.sh.limits.Depth {
			return rc.depthError()
		}
		scope := inner.scopes[0]
		if loop != nil {
			scope.Set("forloop", loop)
		}
		for _, a := range n.attrs {
			av, err := a.Value.Evaluate(rc)
			if err != nil {
				return err
			}
			scope.Set(a.Key, av)
		}
		if v != nil {
			scope.Set(varName, v)
		}
		rc.sh.frames = append(rc.sh.frames, inner)
		err := inner.renderBody(partial.root)
		rc.sh.frames = rc.sh.frames[:len(rc.sh.frames)-1]
		rc.buf = inner.buf
		if loop != nil {
			loop.index++
		}
		return err
	}
	var v any
	if n.variable != nil {
		if v, err = n.variable.Evaluate(rc); err != nil {
			return err
		}
	}
	if n.isFor {
		if v, err = rc.materialize(v, -1, n.variable); err != nil {
			return err
		}
		var items []any
		isColl := true
		switch c := v.(type) {
		case []any:
			items = c
		case *value.Map:
			items = c.Pairs()
		case value.Range:
			seq := sliceCollection(c, 0, 0, false)
			loop := &forloopDrop{name: n.name, length: seq.n}
			for i := int64(0); i < seq.n; i++ {
				if err := rc.Step(1); err != nil {
					return err
				}
				if err := renderOne(seq.at(i), loop); err != nil {
					return err
				}
			}
			return nil
		default:
			isColl = false
		}
		if isColl {
			loop := &forloopDrop{name: n.name, length: int64(len(items))}
			for _, it := range items {
				if err := rc.Step(1); err != nil {
					return err
				}
				if err := renderOne(it, loop); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return renderOne(v, nil)
}

type includeNode struct {
	name     Expression
	variable Expression
	alias    string
	attrs    []Argument
}

func parseInclude(tp *TagParser) (Node, error) {
	m := reIncludeSyntax.FindStringSubmatch(tp.Markup)
	if m == nil {
		return nil, tp.Errorf("Error in tag 'include' - Valid syntax: include '[template]' (with|for) [object|collection]")
	}
	n := &includeNode{name: tp.ParseExpression(m[1]), alias: m[5]}
	if m[3] != "" {
		n.variable = presentExpr(tp.ParseExpression(m[3]))
	}
	n.attrs = tp.ParseArguments(tp.Markup)
	return n, nil
}

func (n *includeNode) Render(rc *RenderContext) error {
	if rc.noInclude {
		return &RuntimeError{Msg: "include usage is not allowed in this context"}
	}
	nv, err := n.name.Evaluate(rc)
	if err != nil {
		return err
	}
	if !value.Truthy(nv) {
		return &RuntimeError{Msg: "Argument error in tag 'include' - Illegal template name"}
	}
	name := value.ToS(nv)
	partial, err := rc.loadPartial(name)
	if err != nil {
		return err
	}
	varName := n.alias
	if varName == "" {
		varName = name[strings.LastIndexByte(name, '/')+1:]
	}
	var v any
	if n.variable != nil {
		if v, err = n.variable.Evaluate(rc); err != nil {
			return err
		}
	} else {
		v, _ = rc.findVariable(name)
	}
	if err := rc.PushScope(); err != nil {
		return err
	}
	defer rc.PopScope()
	scope := rc.scopes[len(rc.scopes)-1]
	for _, a := range n.attrs {
		av, err := a.Value.Evaluate(rc)
		if err != nil {
			return err
		}
		scope.Set(a.Key, av)
	}
	savedTmpl, savedName := rc.template, rc.templateName
	rc.template, rc.templateName = partial, name
	defer func() { rc.template, rc.templateName = savedTmpl, savedName }()
	if arr, ok := v.([]any); ok {
		for _, it := range arr {
			if err := rc.Step(1); err != nil {
				return err
			}
			scope.Set(varName, it)
			if err := rc.renderBody(partial.root); err != nil {
				return err
			}
		}
		return nil
	}
	scope.Set(varName, v)
	return rc.renderBody(partial.root)
}

// presentExpr drops a literal nil or false "with"/"for" expression, which
// Ruby Liquid treats as if there were none (the expression object itself
// is falsy).
func presentExpr(e Expression) Expression {
	if l, ok := e.(*literalExpr); ok && !value.Truthy(l.v) {
		return nil
	}
	return e
}
