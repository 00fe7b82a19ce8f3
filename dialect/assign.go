package dialect

import (
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// registerAssign replaces assign with Mechanic's, which also assigns into
// hash keys and array indexes (docs: platform/liquid/tags/assign.md):
//
//	{% assign h["k"] = v %}     {% assign h[key] = v %}     {% assign h.k = v %}
//	{% assign a[0] = v %}       {% assign a[a.size] = v %}  (append)
//	{% assign h["a"][0]["b"] = v %}                          (nested)
//
// A plain target ({% assign x = v %}) is handled by the standard tag, so it
// keeps Ruby Liquid's behaviour exactly, lax quirks included.
//
// Semantics, as decided here:
//   - The assigned value is copied deeply ("assignment into arrays and
//     hashes is always by value"): later changes to the source, or to the
//     container, do not reach each other.
//   - Hashes are changed in place, as Ruby does: another variable holding
//     the same hash sees the new key. Arrays are values: assigning into
//     an array another variable also holds leaves that other variable
//     unchanged (Go slices cannot share growth the way Ruby arrays do).
//   - Hash keys are strings; a non-string key is converted with to_s.
//   - Array indexes must be integers. Negative indexes count from the end;
//     an index past the end pads the array with nil, like Ruby's Array#[]=.
//   - Intermediate hashes are NOT created: assigning into a missing or nil
//     key, or into an undefined variable, is an error, as in Ruby (and every
//     library task creates its intermediate hashes with hash or array
//     first). Creating them silently would hide misspelt keys.
//   - Dotted targets (h.k = v) assign the key "k", like h["k"] = v; the
//     library never uses them, and Ruby Liquid would assign a variable
//     literally named "h.k", which no lookup can reach.
func registerAssign(e *liquid.Engine) {
	std, ok := e.Tag("assign")
	if !ok {
		return
	}
	e.RegisterTag("assign", liquid.TagFunc(func(tp *liquid.TagParser) (liquid.Node, error) {
		name, segs, src, ok := splitTarget(tp.Markup)
		if !ok || len(segs) == 0 {
			return std.Parse(tp)
		}
		n := &assignIntoNode{name: name}
		for _, s := range segs {
			if s.dotted {
				n.keys = append(n.keys, literal{s.text})
			} else {
				n.keys = append(n.keys, tp.ParseExpression(s.text))
			}
		}
		from, err := tp.ParseFilteredExpression(src)
		if err != nil {
			return nil, err
		}
		n.from = from
		n.target = strings.TrimSpace(tp.Markup[:len(tp.Markup)-len(src)-1])
		return n, nil
	}))
}

// literal is a constant expression.
type literal struct{ v any }

// Evaluate returns the constant.
func (l literal) Evaluate(*liquid.RenderContext) (any, error) { return l.v, nil }

// segment is one [expr] or .name step of an assignment target.
type segment struct {
	text   string
	dotted bool
}

// splitTarget parses "name[k1].k2… = source". ok is false when the markup
// does not have that shape (the standard assign then reports or tolerates
// it as Ruby does).
func splitTarget(markup string) (name string, segs []segment, src string, ok bool) {
	s := markup
	i := 0
	for i < len(s) && isSpaceByte(s[i]) {
		i++
	}
	j := i
	for j < len(s) && (isNameChar(s[j]) || s[j] == '-') {
		j++
	}
	if j == i {
		return "", nil, "", false
	}
	name = s[i:j]
	for j < len(s) {
		switch s[j] {
		case '[':
			end := matchBracket(s, j)
			if end < 0 {
				return "", nil, "", false
			}
			inner := strings.TrimSpace(s[j+1 : end])
			if inner == "" {
				return "", nil, "", false
			}
			segs = append(segs, segment{text: inner})
			j = end + 1
		case '.':
			k := j + 1
			for k < len(s) && (isNameChar(s[k]) || s[k] == '-') {
				k++
			}
			if k == j+1 {
				return "", nil, "", false
			}
			segs = append(segs, segment{text: s[j+1 : k], dotted: true})
			j = k
		default:
			k := j
			for k < len(s) && isSpaceByte(s[k]) {
				k++
			}
			if k < len(s) && s[k] == '=' && (k+1 >= len(s) || s[k+1] != '=') {
				return name, segs, s[k+1:], true
			}
			return "", nil, "", false
		}
	}
	return "", nil, "", false
}

// matchBracket returns the index of the ']' closing the '[' at open,
// skipping quoted strings and nested brackets; -1 if there is none.
func matchBracket(s string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// assignIntoNode is an assign whose target has keys or indexes.
type assignIntoNode struct {
	name   string
	target string
	keys   []liquid.Expression
	from   liquid.Expression
}

// Blank reports true: assign outputs nothing.
func (n *assignIntoNode) Blank() bool { return true }

// Render evaluates the value and stores a deep copy of it at the target.
func (n *assignIntoNode) Render(rc *liquid.RenderContext) error {
	v, err := n.from.Evaluate(rc)
	if err != nil {
		return err
	}
	if err := rc.CheckSize(v); err != nil {
		return err
	}
	keys := make([]any, len(n.keys))
	for i, k := range n.keys {
		if keys[i], err = k.Evaluate(rc); err != nil {
			return err
		}
	}
	root, found := rc.Get(n.name)
	if !found || root == nil {
		return &liquid.RuntimeError{Msg: "cannot assign to " + n.target + ": " + n.name + " is nil"}
	}
	a := &assigner{rc: rc, st: RunFrom(rc.Context()), target: n.target}
	cp := &copier{rc: rc}
	v = cp.deepCopy(v)
	if cp.err != nil {
		return cp.err
	}
	switch v.(type) {
	case []any, *value.Map:
		// The copy is new memory; strings are shared, not copied.
		if err := rc.ChargeValue(v); err != nil {
			return err
		}
	}
	rc.NoteInPlaceChange()
	newRoot, err := a.set(root, n.name, keys, v)
	if err != nil {
		return err
	}
	if !sameContainer(root, newRoot) {
		rc.Set(n.name, newRoot)
	}
	return nil
}

// sameContainer reports whether a and b are the same hash, or the same
// array header (same backing array and length).
func sameContainer(a, b any) bool {
	switch x := a.(type) {
	case *value.Map:
		y, ok := b.(*value.Map)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || cap(x) != cap(y) {
			return false
		}
		return cap(x) == 0 || &x[:1][0] == &y[:1][0]
	}
	return false
}

// maxPadding bounds the nils an assignment past the end of an array adds;
// padding also costs one render step per element.
const maxPadding = 1 << 20

type assigner struct {
	rc     *liquid.RenderContext
	st     *RunState
	target string
}

func (a *assigner) fail(msg string) error {
	return &liquid.RuntimeError{Msg: "cannot assign to " + a.target + ": " + msg}
}

// set stores v at keys inside container c (reached by path) and returns
// the container to store back in its parent: the same hash, or an array
// that may be new.
func (a *assigner) set(c any, path string, keys []any, v any) (any, error) {
	key := keys[0]
	last := len(keys) == 1
	switch o := c.(type) {
	case *value.Map:
		k, ok := key.(string)
		if !ok {
			k = value.ToS(key)
		}
		if last {
			o.Set(k, v)
			return o, nil
		}
		child, _ := o.Get(k)
		if child == nil {
			return nil, a.fail(path + "[" + value.Inspect(k) + "] is nil")
		}
		nc, err := a.set(child, path+"["+value.Inspect(k)+"]", keys[1:], v)
		if err != nil {
			return nil, err
		}
		if !sameContainer(child, nc) {
			o.Set(k, nc)
		}
		return o, nil
	case []any:
		idx, ok := key.(int64)
		if !ok {
			if f, isF := key.(float64); isF && f == float64(int64(f)) {
				idx, ok = int64(f), true
			}
		}
		if !ok {
			return nil, a.fail("no implicit conversion of " + value.TypeName(key) + " into Integer")
		}
		if idx < 0 {
			if idx+int64(len(o)) < 0 {
				return nil, a.fail("index " + strconv.FormatInt(idx, 10) + " too small for array; minimum: -" + strconv.Itoa(len(o)))
			}
			idx += int64(len(o))
		}
		if last {
			if pad := idx - int64(len(o)); pad > 0 {
				if pad > maxPadding {
					return nil, a.fail("index " + strconv.FormatInt(idx, 10) + " is too far past the end of the array (size " + strconv.Itoa(len(o)) + ")")
				}
				if err := a.rc.Step(pad); err != nil {
					return nil, err
				}
			}
			arr, err := a.own(o, int(max(idx+1, int64(len(o)))))
			if err != nil {
				return nil, err
			}
			arr[idx] = v
			a.record(arr)
			return arr, nil
		}
		if idx >= int64(len(o)) || o[idx] == nil {
			return nil, a.fail(path + "[" + strconv.FormatInt(idx, 10) + "] is nil")
		}
		child := o[idx]
		nc, err := a.set(child, path+"["+strconv.FormatInt(idx, 10)+"]", keys[1:], v)
		if err != nil {
			return nil, err
		}
		if sameContainer(child, nc) {
			return o, nil
		}
		arr, err := a.own(o, len(o))
		if err != nil {
			return nil, err
		}
		arr[idx] = nc
		a.record(arr)
		return arr, nil
	}
	return nil, a.fail(path + " is " + articleType(c) + ", not a hash or an array")
}

func articleType(v any) string {
	t := value.TypeName(v)
	if t == "" {
		return "a value"
	}
	switch t[0] {
	case 'A', 'E', 'I', 'O', 'U':
		return "an " + t
	}
	return "a " + t
}

// own returns an array with the elements of s and length n (padded with
// nil) that this assignment may write into. Arrays the run's earlier
// assignments created are grown in place (amortised appends); any other
// array — from the event, a filter, or held by another variable at a
// different length — is copied first, so that no other value changes.
func (a *assigner) own(s []any, n int) ([]any, error) {
	if a.st != nil && cap(s) > 0 {
		a.st.mu.Lock()
		l, ok := a.st.owned[&s[:1][0]]
		a.st.mu.Unlock()
		if ok && l == len(s) {
			if n <= cap(s) {
				return s[:n], nil
			}
			if err := a.rc.Charge(value.SliceHeaderBytes + value.SlotBytes*int64(2*n)); err != nil {
				return nil, err
			}
			grown := make([]any, n, 2*n)
			copy(grown, s)
			a.st.mu.Lock()
			delete(a.st.owned, &s[:1][0])
			a.st.mu.Unlock()
			return grown, nil
		}
	}
	c := 2 * n
	if a.st == nil {
		c = n
	}
	c = max(c, 4)
	if err := a.rc.Charge(value.SliceHeaderBytes + value.SlotBytes*int64(c)); err != nil {
		return nil, err
	}
	out := make([]any, n, c)
	copy(out, s)
	return out, nil
}

// record notes that arr, of its current length, belongs to the run.
func (a *assigner) record(arr []any) {
	if a.st == nil || cap(arr) == 0 {
		return
	}
	a.st.mu.Lock()
	if a.st.owned == nil {
		a.st.owned = map[*any]int{}
	}
	a.st.owned[&arr[:1][0]] = len(arr)
	a.st.mu.Unlock()
}

// copier copies hashes and arrays recursively, charging one render step
// per container and element copied, so that copying huge or deeply nested
// values stays within the run's limits.
type copier struct {
	rc    *liquid.RenderContext
	count int64
	err   error
}

func (c *copier) tick() bool {
	c.count++
	if c.err == nil && c.rc != nil {
		c.err = c.rc.Step(1)
	}
	return c.err == nil
}

// deepCopy copies hashes and arrays recursively; other values are
// immutable (or drops) and are shared.
func (c *copier) deepCopy(v any) any {
	if !c.tick() {
		return nil
	}
	switch x := v.(type) {
	case *value.Map:
		m := value.NewMap(x.Len())
		x.Each(func(k string, e any) bool {
			m.Set(k, c.deepCopy(e))
			return c.err == nil
		})
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.deepCopy(e)
			if c.err != nil {
				break
			}
		}
		return out
	}
	return v
}
