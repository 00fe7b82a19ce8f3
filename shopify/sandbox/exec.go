package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// gqlError is one entry of a response's top-level "errors".
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []location     `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// omap is a JSON object that keeps its keys in selection order.
type omap struct {
	keys []string
	vals map[string]any
}

func newOmap(n int) *omap { return &omap{vals: make(map[string]any, n)} }

func (m *omap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// MarshalJSON writes the keys in insertion order.
func (m *omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// maxExecDepth bounds the nesting of resolved selections.
const maxExecDepth = 40

// executor runs one operation against the store. The caller holds the
// sandbox's lock.
type executor struct {
	sb     *Sandbox
	sch    *schema.Schema
	schema *ast.Schema
	doc    *ast.QueryDocument
	op     *ast.OperationDefinition
	vars   map[string]any
	errs   []gqlError
	// actual is the actual query cost: objects and connections resolved.
	actual int
	// inMutation stops object counting inside mutation payloads.
	inMutation bool
	// bulk runs a bulk query: connections need no first/last and are not
	// paged.
	bulk bool
	// version is the Admin API version of the request.
	version string
}

func (e *executor) addErr(msg string, pos *ast.Position, path []any, code string) {
	ge := gqlError{Message: msg, Path: slices.Clone(path)}
	if pos != nil {
		ge.Locations = []location{{pos.Line, pos.Column}}
	}
	if code != "" {
		ge.Extensions = map[string]any{"code": code}
	}
	e.errs = append(e.errs, ge)
}

// run executes the operation and returns its data.
func (e *executor) run() *omap {
	var root *ast.Definition
	switch e.op.Operation {
	case ast.Mutation:
		root = e.schema.Mutation
	default:
		root = e.schema.Query
	}
	return e.selectionSet(root, object{"__typename": root.Name}, e.op.SelectionSet, nil)
}

type fieldGroup struct {
	key    string
	fields []*ast.Field
}

// collect groups the fields of a selection set that apply to the concrete
// type by response key, honouring @skip/@include and fragments.
func (e *executor) collect(concrete *ast.Definition, set ast.SelectionSet, groups []fieldGroup, index map[string]int, seen map[string]bool) []fieldGroup {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !e.included(sel.Directives) {
				continue
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			if i, ok := index[key]; ok {
				groups[i].fields = append(groups[i].fields, sel)
				continue
			}
			index[key] = len(groups)
			groups = append(groups, fieldGroup{key: key, fields: []*ast.Field{sel}})
		case *ast.InlineFragment:
			if !e.included(sel.Directives) || !e.applies(sel.TypeCondition, concrete) {
				continue
			}
			groups = e.collect(concrete, sel.SelectionSet, groups, index, seen)
		case *ast.FragmentSpread:
			if !e.included(sel.Directives) || seen[sel.Name] {
				continue
			}
			fd := e.doc.Fragments.ForName(sel.Name)
			if fd == nil || !e.applies(fd.TypeCondition, concrete) {
				continue
			}
			seen[sel.Name] = true
			groups = e.collect(concrete, fd.SelectionSet, groups, index, seen)
		}
	}
	return groups
}

func (e *executor) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		switch d.Name {
		case "skip":
			if v, _ := d.ArgumentMap(e.vars)["if"].(bool); v {
				return false
			}
		case "include":
			if v, _ := d.ArgumentMap(e.vars)["if"].(bool); !v {
				return false
			}
		}
	}
	return true
}

func (e *executor) applies(cond string, concrete *ast.Definition) bool {
	if cond == "" || cond == concrete.Name {
		return true
	}
	def := e.schema.Types[cond]
	if def == nil || !def.IsAbstractType() {
		return false
	}
	for _, p := range e.schema.GetPossibleTypes(def) {
		if p.Name == concrete.Name {
			return true
		}
	}
	return false
}

func (e *executor) selectionSet(concrete *ast.Definition, obj object, set ast.SelectionSet, path []any) *omap {
	groups := e.collect(concrete, set, nil, map[string]int{}, map[string]bool{})
	out := newOmap(len(groups))
	for _, g := range groups {
		f := g.fields[0]
		sub := f.SelectionSet
		if len(g.fields) > 1 {
			sub = nil
			for _, x := range g.fields {
				sub = append(sub, x.SelectionSet...)
			}
		}
		out.set(g.key, e.field(concrete, obj, f, sub, append(path, g.key)))
	}
	return out
}

// field resolves one field of obj (of the concrete type parent).
func (e *executor) field(parent *ast.Definition, obj object, f *ast.Field, sub ast.SelectionSet, path []any) any {
	if len(path) > maxExecDepth*2 {
		e.addErr("selection nested too deeply", f.Position, path, "MAX_DEPTH_EXCEEDED")
		return nil
	}
	switch f.Name {
	case "__typename":
		return parent.Name
	case "__schema", "__type":
		e.addErr("the sandbox answers introspection only for __typename; load the schema file instead", f.Position, path, "NOT_IMPLEMENTED")
		return nil
	}
	fd := parent.Fields.ForName(f.Name)
	if fd == nil {
		e.addErr(fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, parent.Name), f.Position, path, "undefinedField")
		return nil
	}
	args := f.ArgumentMap(e.vars)
	def := e.schema.Types[fd.Type.Name()]

	var raw any
	var err error
	switch {
	case parent == e.schema.Mutation:
		raw, err = e.mutation(fd, args)
		if err == nil {
			e.actual += schema.CostMutation
			e.inMutation = true
			defer func() { e.inMutation = false }()
		}
	case e.sb.resolvers[parent.Name+"."+f.Name] != nil:
		raw, err = e.sb.resolvers[parent.Name+"."+f.Name](e, obj, args)
	case e.sb.resolvers["*."+f.Name] != nil:
		raw, err = e.sb.resolvers["*."+f.Name](e, obj, args)
	case parent == e.schema.Query:
		raw, err = e.root(fd, def, args)
	default:
		var ok bool
		raw, ok = obj[f.Name]
		if !ok && def != nil && def.Name == "Count" {
			raw = e.countOf(obj, f.Name)
		}
	}
	if err != nil {
		e.addErr(err.Error(), f.Position, path, errCode(err))
		return nil
	}
	if schema.IsConnection(def, fd) {
		raw, err = e.connection(def, raw, args)
		if err != nil {
			e.addErr(err.Error(), f.Position, path, errCode(err))
			return nil
		}
		if !e.inMutation {
			e.actual += schema.CostConnection
		}
	} else if fd.Type.Elem != nil && args["first"] != nil {
		if n, ok := schema.ToInt(args["first"]); ok {
			if l, isList := raw.([]any); isList && n >= 0 && n < len(l) {
				raw = l[:n]
			}
		}
	}
	return e.complete(fd.Type, raw, sub, path)
}

// codedError is an error with a GraphQL extensions.code.
type codedError struct {
	code, msg string
}

func (c codedError) Error() string { return c.msg }

func errCode(err error) string {
	if c, ok := err.(codedError); ok {
		return c.code
	}
	return ""
}

// countOf answers an xCount field from the list field x(s) of obj.
func (e *executor) countOf(obj object, name string) any {
	base := strings.TrimSuffix(name, "Count")
	l, ok := obj[base].([]any)
	if !ok {
		l, ok = obj[base+"s"].([]any)
	}
	if !ok {
		return nil
	}
	return object{"__typename": "Count", "count": len(l), "precision": "EXACT"}
}

func (e *executor) complete(t *ast.Type, v any, sub ast.SelectionSet, path []any) any {
	if r, ok := v.(ref); ok {
		if o := e.sb.st.get(string(r)); o != nil {
			v = o
		} else {
			v = nil
		}
	}
	if v == nil {
		if !t.NonNull {
			return nil
		}
		v = e.zero(t)
		if v == nil {
			return nil
		}
	}
	if t.Elem != nil {
		items := toSlice(v)
		out := make([]any, 0, len(items))
		for i, x := range items {
			out = append(out, e.complete(t.Elem, x, sub, append(path, i)))
		}
		return out
	}
	def := e.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar:
		return scalarOut(def.Name, v)
	case ast.Enum:
		return fmt.Sprint(v)
	}
	obj, ok := v.(object)
	if !ok {
		e.addErr(fmt.Sprintf("sandbox: stored value for %s is not an object", def.Name), nil, path, "INTERNAL_SERVER_ERROR")
		return nil
	}
	concrete := e.concrete(def, obj)
	if concrete == nil {
		e.addErr(fmt.Sprintf("sandbox: no concrete type of %s for %v", def.Name, obj["__typename"]), nil, path, "INTERNAL_SERVER_ERROR")
		return nil
	}
	if !e.inMutation && !schema.IsConnection(concrete, nil) && !strings.HasSuffix(concrete.Name, "Edge") && concrete.Name != "PageInfo" {
		e.actual++
	}
	return e.selectionSet(concrete, obj, sub, path)
}

func toSlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	case []object:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

func (e *executor) concrete(def *ast.Definition, obj object) *ast.Definition {
	if def.Kind == ast.Object {
		return def
	}
	if name, _ := obj["__typename"].(string); name != "" {
		if c := e.schema.Types[name]; c != nil && c.Kind == ast.Object {
			return c
		}
	}
	if p := e.schema.GetPossibleTypes(def); len(p) > 0 {
		return p[0]
	}
	return nil
}

// zero is the value of a non-null field the store has no value for.
func (e *executor) zero(t *ast.Type) any {
	if t.Elem != nil {
		return []any{}
	}
	def := e.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar:
		switch def.Name {
		case "Int":
			return 0
		case "Float":
			return 0.0
		case "Boolean":
			return false
		case "Money", "Decimal":
			return "0.0"
		case "UnsignedInt64", "BigInt":
			return "0"
		case "DateTime":
			return timestamp(e.sb.epoch)
		case "Date":
			return e.sb.epoch.Format("2006-01-02")
		case "JSON":
			return map[string]any{}
		}
		return ""
	case ast.Enum:
		if len(def.EnumValues) > 0 {
			return def.EnumValues[0].Name
		}
		return ""
	case ast.Object:
		return object{"__typename": def.Name}
	default:
		if p := e.schema.GetPossibleTypes(def); len(p) > 0 {
			return object{"__typename": p[0].Name}
		}
	}
	return nil
}

// scalarOut renders a stored value as the scalar type name serializes.
func scalarOut(name string, v any) any {
	switch name {
	case "Int":
		if n, ok := schema.ToInt(v); ok {
			return n
		}
		if f, ok := parseMoney(v); ok {
			return int(f)
		}
		return 0
	case "Float":
		if f, ok := parseMoney(v); ok {
			return f
		}
		return 0.0
	case "Boolean":
		b, _ := v.(bool)
		return b
	case "Money", "Decimal":
		if s, ok := v.(string); ok {
			return s
		}
		if f, ok := parseMoney(v); ok {
			return money(f)
		}
	case "UnsignedInt64", "BigInt":
		if n, ok := schema.ToInt(v); ok {
			return strconv.Itoa(n)
		}
	case "JSON":
		return plain(v)
	}
	switch v := v.(type) {
	case string:
		return v
	case ref:
		return string(v)
	case map[string]int, object, []any:
		b, _ := json.Marshal(plain(v))
		return string(b)
	}
	return fmt.Sprint(v)
}

// cursorOf encodes an item's cursor.
func cursorOf(item any, index int) string {
	var key string
	switch v := item.(type) {
	case object:
		if id, ok := v["id"].(string); ok {
			key = "id:" + id
		}
	case string:
		key = "s:" + v
	}
	if key == "" {
		key = "i:" + strconv.Itoa(index)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// maxPage is Shopify's largest page of a connection; pageLimits lists the
// connections that allow larger pages (the library reads customer segment
// members 1000 at a time).
const maxPage = 250

var pageLimits = map[string]int{
	"CustomerSegmentMemberConnection": 1000,
	"StringConnection":                1000, // productTypes, productVendors, productTags: library tasks page them by 1000
}

// filtered is a list a resolver already filtered by the field's query
// argument (in a syntax other than the search syntax).
type filtered []any

// connection filters, sorts and paginates a list into a connection value.
func (e *executor) connection(def *ast.Definition, raw any, args map[string]any) (any, error) {
	var items []any
	_, prefiltered := raw.(filtered)
	if f, ok := raw.(filtered); ok {
		raw = []any(f)
	}
	if raw != nil {
		if c, ok := raw.(object); ok && c["__typename"] == def.Name {
			return c, nil
		}
		for _, x := range toSlice(raw) {
			if r, ok := x.(ref); ok {
				if o := e.sb.st.get(string(r)); o != nil {
					items = append(items, o)
				}
				continue
			}
			items = append(items, x)
		}
	}
	first, hasFirst := intArg(args, "first")
	last, hasLast := intArg(args, "last")
	if e.bulk {
		hasFirst, hasLast = false, false
	} else if !hasFirst && !hasLast {
		return nil, codedError{"BAD_REQUEST", "you must provide one of first or last"}
	}
	limit := maxPage
	if l, ok := pageLimits[def.Name]; ok {
		limit = l
	}
	if (hasFirst && (first < 0 || first > limit)) || (hasLast && (last < 0 || last > limit)) {
		return nil, codedError{"BAD_REQUEST", fmt.Sprintf("first and last must be between 0 and %d", limit)}
	}
	if q, _ := args["query"].(string); q != "" && !prefiltered {
		items = filterQuery(e.sb, items, q)
	}
	if sk, _ := args["sortKey"].(string); sk != "" {
		sortItems(items, sk)
	}
	if rev, _ := args["reverse"].(bool); rev {
		slices.Reverse(items)
	}
	type entry struct {
		item   any
		cursor string
	}
	all := make([]entry, len(items))
	for i, it := range items {
		all[i] = entry{it, cursorOf(it, i)}
	}
	start, end := 0, len(all)
	if a, _ := args["after"].(string); a != "" {
		i := slices.IndexFunc(all, func(x entry) bool { return x.cursor == a })
		if i < 0 {
			return nil, codedError{"BAD_REQUEST", fmt.Sprintf("Invalid cursor for current pagination sort: %q", a)}
		}
		start = i + 1
	}
	if b, _ := args["before"].(string); b != "" {
		i := slices.IndexFunc(all, func(x entry) bool { return x.cursor == b })
		if i < 0 {
			return nil, codedError{"BAD_REQUEST", fmt.Sprintf("Invalid cursor for current pagination sort: %q", b)}
		}
		end = i
	}
	if start > end {
		start = end
	}
	page := all[start:end]
	hasNext, hasPrev := end < len(all), start > 0
	if hasFirst && first < len(page) {
		page = page[:first]
		hasNext = true
	}
	if hasLast && last < len(page) {
		page = page[len(page)-last:]
		hasPrev = true
	}
	edgeType := "Edge"
	if ef := def.Fields.ForName("edges"); ef != nil {
		edgeType = ef.Type.Name()
	}
	edges := make([]any, len(page))
	nodes := make([]any, len(page))
	for i, x := range page {
		edges[i] = object{"__typename": edgeType, "node": x.item, "cursor": x.cursor}
		nodes[i] = x.item
	}
	pi := object{"__typename": "PageInfo", "hasNextPage": hasNext, "hasPreviousPage": hasPrev, "startCursor": nil, "endCursor": nil}
	if len(page) > 0 {
		pi["startCursor"] = page[0].cursor
		pi["endCursor"] = page[len(page)-1].cursor
	}
	return object{"__typename": def.Name, "edges": edges, "nodes": nodes, "pageInfo": pi}, nil
}

func intArg(args map[string]any, name string) (int, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false
	}
	return schema.ToInt(v)
}

// root resolves a QueryRoot field without a dedicated resolver.
func (e *executor) root(fd *ast.FieldDefinition, def *ast.Definition, args map[string]any) (any, error) {
	st := e.sb.st
	if def == nil {
		return nil, fmt.Errorf("sandbox: unknown type of QueryRoot.%s", fd.Name)
	}
	if schema.IsConnection(def, fd) {
		return e.allOf(nodeTypeOf(def)), nil
	}
	if def.Name == "Count" && strings.HasSuffix(fd.Name, "Count") {
		base := e.schema.Query.Fields.ForName(strings.TrimSuffix(fd.Name, "Count"))
		if base == nil {
			base = e.schema.Query.Fields.ForName(strings.TrimSuffix(fd.Name, "Count") + "s")
		}
		if base != nil {
			if cdef := e.schema.Types[base.Type.Name()]; schema.IsConnection(cdef, base) {
				items := e.allOf(nodeTypeOf(cdef))
				if q, _ := args["query"].(string); q != "" {
					items = filterQuery(e.sb, items, q)
				}
				n := len(items)
				if lim, ok := intArg(args, "limit"); ok && lim >= 0 && n > lim {
					n = lim
				}
				return object{"__typename": "Count", "count": n, "precision": "EXACT"}, nil
			}
		}
	}
	if fd.Type.Elem != nil {
		if ids, ok := args["ids"].([]any); ok {
			out := make([]any, len(ids))
			for i, id := range ids {
				s, _ := id.(string)
				if o := st.get(s); o != nil && e.typeMatches(o, e.schema.Types[fd.Type.Name()]) {
					out[i] = o
				}
			}
			return out, nil
		}
	}
	if idv, ok := args["id"]; ok && def.IsCompositeType() {
		id, _ := idv.(string)
		o := st.get(id)
		if o == nil || !e.typeMatches(o, def) {
			return nil, nil
		}
		return o, nil
	}
	return nil, codedError{"NOT_IMPLEMENTED", fmt.Sprintf("the sandbox does not implement QueryRoot.%s", fd.Name)}
}

// nodeTypeOf returns the node type name of a connection type.
func nodeTypeOf(def *ast.Definition) string {
	if f := def.Fields.ForName("nodes"); f != nil {
		return f.Type.Name()
	}
	if f := def.Fields.ForName("edges"); f != nil {
		return strings.TrimSuffix(f.Type.Name(), "Edge")
	}
	return ""
}

// allOf returns every stored object of the named type or, for an
// abstract type, of its possible types.
func (e *executor) allOf(name string) []any {
	def := e.schema.Types[name]
	if def == nil {
		return nil
	}
	var types []string
	if def.Kind == ast.Object {
		types = []string{name}
	} else {
		for _, p := range e.schema.GetPossibleTypes(def) {
			types = append(types, p.Name)
		}
	}
	var out []any
	for _, t := range types {
		for _, o := range e.sb.st.list(t) {
			out = append(out, o)
		}
	}
	return out
}

func (e *executor) typeMatches(o object, def *ast.Definition) bool {
	if def == nil {
		return false
	}
	name, _ := o["__typename"].(string)
	if def.Kind == ast.Object {
		return name == def.Name
	}
	for _, p := range e.schema.GetPossibleTypes(def) {
		if p.Name == name {
			return true
		}
	}
	return false
}
