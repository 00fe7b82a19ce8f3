package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Cost values of Shopify's calculated query cost.
const (
	// CostObject is the cost of a field returning an object, interface or union.
	CostObject = 1
	// CostConnection is the fixed part of a connection field's cost.
	CostConnection = 2
	// CostMutation is the cost of a mutation's root field.
	CostMutation = 10
	// MaxQueryCost is the largest requested cost Shopify accepts for one query.
	MaxQueryCost = 1000
)

// Cost computes Shopify's requested query cost of one operation of doc (the
// only one when operationName is ""), following Shopify's documented
// calculation:
//
//   - scalars, enums and __typename cost 0;
//   - a field returning an object costs 1 plus its selection;
//   - a field of an interface or union costs 1 plus the selection common to
//     all types plus the most expensive type-specific fragment;
//   - a connection (a *Connection type taking first/last) costs 2 plus
//     first (or last) times the cost of one item: the edges' node or the
//     nodes selection; pageInfo and cursor are free;
//   - a list selected by ids (nodes(ids:)) costs its length times the item;
//   - a mutation's root field costs 10; the objects of its payload are free,
//     connections inside it are charged as above.
//
// Variables supply first/last/ids given as variables; a missing first/last
// counts as 0 (Shopify rejects such a connection when it runs).
func (s *Schema) Cost(doc *ast.QueryDocument, operationName string, variables map[string]any) (int, error) {
	op, err := pickOperation(doc, operationName)
	if err != nil {
		return 0, err
	}
	var root *ast.Definition
	switch op.Operation {
	case ast.Mutation:
		root = s.ast.Mutation
	case ast.Subscription:
		root = s.ast.Subscription
	default:
		root = s.ast.Query
	}
	if root == nil {
		return 0, fmt.Errorf("shopify schema: the schema has no %s type", op.Operation)
	}
	c := &coster{s: s.ast, doc: doc, vars: variables, op: op}
	total := c.selection(op.SelectionSet, root, op.Operation == ast.Mutation, false, 0)
	if total > math.MaxInt32 {
		total = math.MaxInt32
	}
	return total, nil
}

// PickOperation returns the operation named name, or the only operation of
// the document when name is "".
func PickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	return pickOperation(doc, name)
}

func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if doc == nil {
		return nil, fmt.Errorf("shopify schema: no document")
	}
	if name == "" {
		if len(doc.Operations) == 1 {
			return doc.Operations[0], nil
		}
		if len(doc.Operations) == 0 {
			return nil, fmt.Errorf("shopify schema: the document has no operation")
		}
		return nil, fmt.Errorf("shopify schema: the document has %d operations; an operationName is required", len(doc.Operations))
	}
	op := doc.Operations.ForName(name)
	if op == nil {
		return nil, fmt.Errorf("shopify schema: no operation named %q", name)
	}
	return op, nil
}

type coster struct {
	s    *ast.Schema
	doc  *ast.QueryDocument
	vars map[string]any
	op   *ast.OperationDefinition
}

const maxCostDepth = 64

// selection costs a selection set on parent. mutationRoot marks the root of
// a mutation; inPayload marks a mutation payload, whose objects are free.
func (c *coster) selection(set ast.SelectionSet, parent *ast.Definition, mutationRoot, inPayload bool, depth int) int {
	if depth > maxCostDepth || parent == nil {
		return 0
	}
	base, typed := 0, 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			base = add(base, c.field(sel, parent, mutationRoot, inPayload, depth))
		case *ast.InlineFragment:
			cond := parent
			if sel.TypeCondition != "" {
				cond = c.s.Types[sel.TypeCondition]
			}
			v := c.selection(sel.SelectionSet, cond, mutationRoot, inPayload, depth+1)
			if cond == parent {
				base = add(base, v)
			} else if v > typed {
				typed = v
			}
		case *ast.FragmentSpread:
			fd := c.doc.Fragments.ForName(sel.Name)
			if fd == nil {
				continue
			}
			cond := c.s.Types[fd.TypeCondition]
			v := c.selection(fd.SelectionSet, cond, mutationRoot, inPayload, depth+1)
			if cond == parent {
				base = add(base, v)
			} else if v > typed {
				typed = v
			}
		}
	}
	return add(base, typed)
}

func (c *coster) field(f *ast.Field, parent *ast.Definition, mutationRoot, inPayload bool, depth int) int {
	if strings.HasPrefix(f.Name, "__") {
		return 0
	}
	fd := parent.Fields.ForName(f.Name)
	if fd == nil {
		return 0
	}
	def := c.s.Types[fd.Type.Name()]
	if def == nil || def.IsLeafType() {
		return 0
	}
	if mutationRoot {
		return add(CostMutation, c.selection(f.SelectionSet, def, false, true, depth+1))
	}
	if IsConnection(def, fd) {
		n := c.intArg(f, fd, "first")
		if n == 0 {
			n = c.intArg(f, fd, "last")
		}
		item, once := 0, 0
		for _, sel := range flatten(c.doc, f.SelectionSet) {
			switch sel.Name {
			case "edges":
				edge := c.s.Types[def.Fields.ForName("edges").Type.Name()]
				item = add(item, c.selection(sel.SelectionSet, edge, false, false, depth+1))
			case "nodes":
				nd := c.s.Types[def.Fields.ForName("nodes").Type.Name()]
				item = add(item, add(CostObject, c.selection(sel.SelectionSet, nd, false, false, depth+1)))
			case "pageInfo":
			default:
				if sfd := def.Fields.ForName(sel.Name); sfd != nil {
					once = add(once, c.field(sel, def, false, false, depth+1))
				}
			}
		}
		return add(add(CostConnection, once), mul(n, item))
	}
	own := CostObject
	if inPayload {
		own = 0
	}
	item := add(own, c.selection(f.SelectionSet, def, false, inPayload, depth+1))
	if fd.Type.Elem != nil {
		if ids := c.listArgLen(f, "ids"); ids > 0 {
			return mul(ids, item)
		}
	}
	return item
}

// IsConnection reports whether a field returning def is a Relay connection
// sized by first/last.
func IsConnection(def *ast.Definition, fd *ast.FieldDefinition) bool {
	if def == nil || def.Kind != ast.Object || !strings.HasSuffix(def.Name, "Connection") {
		return false
	}
	if def.Fields.ForName("edges") == nil && def.Fields.ForName("nodes") == nil {
		return false
	}
	return fd == nil || fd.Arguments.ForName("first") != nil || fd.Arguments.ForName("last") != nil
}

// flatten returns the fields of a selection set, fragments expanded.
func flatten(doc *ast.QueryDocument, set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	var walk func(ast.SelectionSet, int)
	walk = func(set ast.SelectionSet, depth int) {
		if depth > maxCostDepth {
			return
		}
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				out = append(out, sel)
			case *ast.InlineFragment:
				walk(sel.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				if fd := doc.Fragments.ForName(sel.Name); fd != nil {
					walk(fd.SelectionSet, depth+1)
				}
			}
		}
	}
	walk(set, 0)
	return out
}

func (c *coster) argValue(f *ast.Field, name string) any {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return nil
	}
	v, err := a.Value.Value(c.vars)
	if err != nil {
		return nil
	}
	if a.Value.Kind == ast.Variable && v == nil {
		if vd := c.op.VariableDefinitions.ForName(a.Value.Raw); vd != nil && vd.DefaultValue != nil {
			v, _ = vd.DefaultValue.Value(nil)
		}
	}
	return v
}

func (c *coster) intArg(f *ast.Field, fd *ast.FieldDefinition, name string) int {
	v := c.argValue(f, name)
	if v == nil {
		if ad := fd.Arguments.ForName(name); ad != nil && ad.DefaultValue != nil {
			v, _ = ad.DefaultValue.Value(nil)
		}
	}
	n, _ := ToInt(v)
	if n < 0 {
		return 0
	}
	return n
}

func (c *coster) listArgLen(f *ast.Field, name string) int {
	switch v := c.argValue(f, name).(type) {
	case []any:
		return len(v)
	case []string:
		return len(v)
	}
	return 0
}

// ToInt converts a decoded JSON or GraphQL literal number to an int.
func ToInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

func add(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt32/b {
		return math.MaxInt32
	}
	return a * b
}
