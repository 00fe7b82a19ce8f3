package dialect

import (
	"fmt"
	"strings"

	"github.com/sprocketrun/sprocket/action"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Control parameters of the action tag (docs:
// core/tasks/code/action-objects.md, "Control parameters").
const (
	ctrlPerformEvent = action.ControlPerformEvent
	ctrlMeta         = action.ControlMeta
)

// PerformEventKey is the field of a rendered action object that carries
// __perform_event: false. The action tag moves the control parameter out of
// the options (which may be an array or a string) into the action object,
// where run.ParseOutput reads it.
const PerformEventKey = "__perform_event"

// actionNode is one {% action %} tag.
type actionNode struct {
	typ  liquid.Expression // nil: untyped block, the body has type/options/meta
	args []arg
	body *liquid.Body // nil for the tag forms
}

// parseAction parses the six syntaxes of the action tag (docs:
// platform/liquid/tags/action.md):
//
//	{% action %}{"type": …, "options": …, "meta": …}{% endaction %}
//	{% action "http" %}{…options JSON…}{% endaction %}
//	{% action "cache", "set", "k", v %}          positional → options array
//	{% action "echo", a: 1, b: x %}              mapped → options hash
//	{% action "echo", value %}                   single option
//	{% action "http", options: o, meta: m %}     or {% action "http", o, m %}
//
// The comma after the type is optional ({% action "shopify" mutation %}).
// A tag whose only arguments are control parameters (__meta,
// __perform_event) is a typed block.
func parseAction(tp *liquid.TagParser) (liquid.Node, error) {
	n := &actionNode{}
	markup := strings.TrimSpace(tp.Markup)
	if markup != "" {
		loc := reFirstFragment.FindStringSubmatchIndex(markup)
		if loc == nil {
			return nil, tp.Errorf("Syntax Error in 'action' - Valid syntax: action [type], [options]")
		}
		typeSrc, rest := markup[loc[2]:loc[3]], strings.TrimSpace(markup[loc[1]:])
		if strings.HasPrefix(rest, "|") {
			// A filtered type: it runs to the first top-level comma.
			parts := splitTopLevel(rest)
			typeSrc += " " + parts[0]
			rest = strings.TrimSpace(strings.TrimPrefix(rest[len(parts[0]):], ","))
		} else {
			rest = strings.TrimSpace(strings.TrimPrefix(rest, ","))
		}
		t, err := tp.ParseFilteredExpression(typeSrc)
		if err != nil {
			return nil, err
		}
		n.typ = t
		if n.args, err = parseArgs(tp, rest); err != nil {
			return nil, err
		}
	}
	if n.typ == nil || onlyControl(n.args) {
		body, err := tp.ParseBlock()
		if err != nil {
			return nil, err
		}
		n.body = body
	}
	return n, nil
}

// onlyControl reports whether every argument is a control parameter.
func onlyControl(args []arg) bool {
	for _, a := range args {
		if a.key != ctrlPerformEvent && a.key != ctrlMeta {
			return false
		}
	}
	return true
}

// Render writes the action object as JSON.
func (n *actionNode) Render(rc *liquid.RenderContext) error {
	obj, err := n.build(rc)
	if err != nil {
		return err
	}
	return writeObject(rc, "action", obj)
}

func (n *actionNode) build(rc *liquid.RenderContext) (*value.Map, error) {
	if n.typ == nil {
		src, err := rc.RenderBody(n.body)
		if err != nil {
			return nil, err
		}
		v, err := parseBodyJSON("action", src)
		if err != nil {
			return nil, err
		}
		m, ok := v.(*value.Map)
		if !ok {
			return nil, &liquid.RuntimeError{Msg: "action: the body of an untyped action block must be a JSON object with type and options, got " + value.TypeName(v)}
		}
		if opts, ok := m.Get("options"); ok {
			opts, meta, hasMeta, performEvent := extractControl(opts)
			m.Set("options", opts)
			if hasMeta {
				m.Set("meta", meta)
			}
			if !performEvent {
				m.Set(PerformEventKey, false)
			}
		}
		return m, nil
	}
	tv, err := n.typ.Evaluate(rc)
	if err != nil {
		return nil, err
	}
	typ, ok := tv.(string)
	if !ok || typ == "" {
		return nil, &liquid.RuntimeError{Msg: "action: the action type must be a non-empty string, got " + value.Inspect(tv)}
	}
	pos, kw, err := evalArgs(rc, n.args)
	if err != nil {
		return nil, err
	}
	var meta any
	hasMeta := false
	performEvent := true
	if v, ok := kw.Get(ctrlMeta); ok {
		meta, hasMeta = v, true
		kw.Delete(ctrlMeta)
	}
	if v, ok := kw.Get(ctrlPerformEvent); ok {
		performEvent = !performEventOff(v)
		kw.Delete(ctrlPerformEvent)
	}
	var options any
	switch {
	case n.body != nil:
		src, err := rc.RenderBody(n.body)
		if err != nil {
			return nil, err
		}
		options, err = typedBody(typ, src)
		if err != nil {
			return nil, err
		}
	case len(pos) == 0 && kw.Has("options") && onlyKeys(kw, "options", "meta"):
		// {% action "http", options: o, meta: m %}
		options, _ = kw.Get("options")
		if m, ok := kw.Get("meta"); ok && !hasMeta {
			meta, hasMeta = m, true
		}
	case len(pos) == 0:
		options = kw
	case len(pos) == 1 && kw.Len() == 0:
		options = pos[0]
	case len(pos) == 2 && kw.Len() == 0 && isMap(pos[0]):
		// {% action "http", options, meta %}: a hash, then meta.
		options = pos[0]
		if !hasMeta {
			meta, hasMeta = pos[1], true
		}
	default:
		// Positional options; keyword arguments given alongside become a
		// trailing hash, as in a Ruby method call.
		arr := append([]any(nil), pos...)
		if kw.Len() > 0 {
			arr = append(arr, kw)
		}
		options = arr
	}
	// Control parameters given inside an options hash (a JSON body, or a
	// hash variable) count too.
	options, bodyMeta, bodyHasMeta, bodyPerform := extractControl(options)
	if bodyHasMeta && !hasMeta {
		meta, hasMeta = bodyMeta, true
	}
	performEvent = performEvent && bodyPerform
	m := value.NewMap(4)
	m.Set("type", typ)
	m.Set("options", options)
	if hasMeta && meta != nil {
		m.Set("meta", meta)
	}
	if !performEvent {
		m.Set(PerformEventKey, false)
	}
	return m, nil
}

// extractControl removes the control parameters from an options hash,
// returning the options without them (a copy when changed), the __meta
// value and the __perform_event setting, with the action package's rules.
func extractControl(options any) (out any, meta any, hasMeta bool, performEvent bool) {
	out, c := action.SplitControl(options)
	return out, c.Meta, c.HasMeta, c.PerformEvent
}

// performEventOff reports whether a __perform_event value turns the
// mechanic/actions/perform event off: false, or the string "false".
func performEventOff(v any) bool {
	return v == false || v == "false"
}

func onlyKeys(m *value.Map, keys ...string) bool {
	for _, k := range m.Keys() {
		found := false
		for _, want := range keys {
			if k == want {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func isMap(v any) bool {
	_, ok := v.(*value.Map)
	return ok
}

// typedBody interprets the rendered body of a typed action block: JSON
// options, or — for the shopify action only — GraphQL text, whose options
// are the trimmed text (docs: core/actions/shopify.md). A body that is
// not JSON for any other type is an error: Mechanic documents the typed
// block as "action options given in JSON in the tag's body".
func typedBody(typ, src string) (any, error) {
	trimmed := strings.TrimSpace(src)
	if typ == "shopify" {
		if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") || strings.HasPrefix(trimmed, "\"") {
			if v, err := value.FromJSON([]byte(trimmed)); err == nil {
				return v, nil
			}
		}
		if trimmed == "" {
			return nil, &liquid.RuntimeError{Msg: "action \"shopify\": the body is empty"}
		}
		return trimmed, nil
	}
	return parseBodyJSON(fmt.Sprintf("action %q", typ), src)
}

// parseBodyJSON parses the rendered body of a block tag as one JSON value.
func parseBodyJSON(what, src string) (any, error) {
	trimmed := strings.TrimSpace(src)
	if trimmed == "" {
		return nil, &liquid.RuntimeError{Msg: what + ": the body is empty, expected JSON"}
	}
	v, err := value.FromJSON([]byte(trimmed))
	if err != nil {
		return nil, &liquid.RuntimeError{Msg: what + ": the body is not valid JSON: " + err.Error() + " in " + excerpt(trimmed)}
	}
	return v, nil
}

func excerpt(s string) string {
	const max = 60
	r := []rune(s)
	if len(r) > max {
		return fmt.Sprintf("%q…", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}

// writeObject writes {"<key>": v} as JSON.
func writeObject(rc *liquid.RenderContext, key string, v any) error {
	m := value.NewMap(1)
	m.Set(key, v)
	b, err := value.ToJSON(m)
	if err != nil {
		return &liquid.RuntimeError{Msg: key + ": " + err.Error()}
	}
	return rc.WriteString(string(b))
}

// objectNode is a {% log %} or {% error %} tag.
type objectNode struct {
	key  string // "log" or "error"
	args []arg
	body *liquid.Body
}

// parseObjectTag parses log and error, which share their three forms
// (docs: platform/liquid/tags/log.md, error.md): a block whose rendered
// body is JSON, a single value, or "key: value" pairs giving a hash.
func parseObjectTag(tp *liquid.TagParser, key string) (liquid.Node, error) {
	n := &objectNode{key: key}
	if strings.TrimSpace(tp.Markup) == "" {
		body, err := tp.ParseBlock()
		if err != nil {
			return nil, err
		}
		n.body = body
		return n, nil
	}
	args, err := parseArgs(tp, tp.Markup)
	if err != nil {
		return nil, err
	}
	positional := 0
	for _, a := range args {
		if a.key == "" {
			positional++
		}
	}
	if positional > 1 || positional == 1 && len(args) > 1 {
		return nil, tp.Errorf("Syntax Error in '" + key + "' - Valid syntax: " + key + " [value] or " + key + " key: value, key: value")
	}
	n.args = args
	return n, nil
}

// Render writes {"log": …} or {"error": …}.
func (n *objectNode) Render(rc *liquid.RenderContext) error {
	var v any
	if n.body != nil {
		src, err := rc.RenderBody(n.body)
		if err != nil {
			return err
		}
		if v, err = parseBodyJSON(n.key, src); err != nil {
			return err
		}
	} else {
		pos, kw, err := evalArgs(rc, n.args)
		if err != nil {
			return err
		}
		if len(pos) == 1 {
			v = pos[0]
		} else {
			v = kw
		}
	}
	return writeObject(rc, n.key, v)
}

// permissionsNode is {% permissions %}: static, never rendered.
type permissionsNode struct{ scopes []string }

// Render outputs nothing.
func (permissionsNode) Render(*liquid.RenderContext) error { return nil }

// Blank reports true: the tag outputs nothing.
func (permissionsNode) Blank() bool { return true }

func parsePermissions(tp *liquid.TagParser) (liquid.Node, error) {
	raw, err := tp.RawBody()
	if err != nil {
		return nil, err
	}
	return permissionsNode{scopes: Permissions("{% permissions %}" + raw + "{% endpermissions %}")}, nil
}
