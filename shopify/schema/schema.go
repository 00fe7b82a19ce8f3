// Package schema loads Shopify's Admin GraphQL schema from an introspection
// result and checks GraphQL documents against it: parsing and every standard
// validation rule (through github.com/vektah/gqlparser/v2), and Shopify's
// requested query cost.
//
// The schema is built from the introspection types directly (no SDL round
// trip): every type, field, argument, enum value and directive of the
// introspection result becomes a gqlparser definition; the spec's built-in
// scalars, directives and introspection types come from gqlparser's prelude.
package schema

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// maxSchemaBytes bounds the decompressed introspection JSON read by Load.
const maxSchemaBytes = 256 << 20

// EnvDir names the environment variable that points Locate at a folder of
// admin_<version>.json.gz files.
const EnvDir = "SPROCKET_SHOPIFY_SCHEMA_DIR"

// Schema is a loaded Admin GraphQL schema. It is immutable and safe for
// concurrent use.
type Schema struct {
	ast *ast.Schema
}

// Finding is one problem found in a GraphQL document: a syntax error or a
// failed validation rule, at a 1-based line and column of the document.
type Finding struct {
	Line    int
	Column  int
	Message string
	// Rule names the validation rule that failed ("" for syntax errors).
	Rule string
}

// String renders the finding as "line:column: message".
func (f Finding) String() string {
	return fmt.Sprintf("%d:%d: %s", f.Line, f.Column, f.Message)
}

// LoadFile loads a schema from an introspection JSON file, gzip-compressed
// or plain.
func LoadFile(path string) (*Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("shopify schema: %w", err)
	}
	defer f.Close()
	s, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Load reads an introspection result ({"data": {"__schema": …}} or a bare
// {"__schema": …}), gzip-compressed or plain, and builds the schema.
func Load(r io.Reader) (*Schema, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("shopify schema: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	raw, err := io.ReadAll(io.LimitReader(src, maxSchemaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("shopify schema: read: %w", err)
	}
	if len(raw) > maxSchemaBytes {
		return nil, fmt.Errorf("shopify schema: introspection JSON larger than %d bytes", maxSchemaBytes)
	}
	var doc struct {
		Data *struct {
			Schema *introSchema `json:"__schema"`
		} `json:"data"`
		Schema *introSchema `json:"__schema"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("shopify schema: decode introspection JSON: %w", err)
	}
	is := doc.Schema
	if doc.Data != nil && doc.Data.Schema != nil {
		is = doc.Data.Schema
	}
	if is == nil {
		return nil, errors.New(`shopify schema: no "__schema" in the introspection JSON (want {"data":{"__schema":…}})`)
	}
	as, err := build(is)
	if err != nil {
		return nil, err
	}
	return &Schema{ast: as}, nil
}

// Locate finds admin_<version>.json.gz: first in the folder named by
// $SPROCKET_SHOPIFY_SCHEMA_DIR, then in corpus/shopify/admin-schema of
// $SPROCKET_SHARED, then of a "shared" folder beside the repository (found
// by walking up from the working directory). The error lists every place it looked.
func Locate(version string) (string, error) {
	if version == "" || strings.ContainsAny(version, `/\`) {
		return "", fmt.Errorf("shopify schema: invalid API version %q", version)
	}
	name := "admin_" + version + ".json.gz"
	var looked []string
	try := func(dir string) (string, bool) {
		for _, n := range []string{name, strings.TrimSuffix(name, ".gz")} {
			p := filepath.Join(dir, n)
			looked = append(looked, p)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, true
			}
		}
		return "", false
	}
	if dir := os.Getenv(EnvDir); dir != "" {
		if p, ok := try(dir); ok {
			return p, nil
		}
	}
	if dir := os.Getenv("SPROCKET_SHARED"); dir != "" {
		if p, ok := try(filepath.Join(dir, "corpus", "shopify", "admin-schema")); ok {
			return p, nil
		}
	}
	wd, err := os.Getwd()
	if err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			shared := filepath.Join(dir, "..", "shared", "corpus", "shopify", "admin-schema")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				if p, ok := try(filepath.Clean(shared)); ok {
					return p, nil
				}
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if len(looked) == 0 {
		return "", fmt.Errorf("shopify schema: %s not found: $%s is unset and no ../shared/corpus/shopify/admin-schema above %s", name, EnvDir, wd)
	}
	return "", fmt.Errorf("shopify schema: %s not found; looked at %s", name, strings.Join(looked, ", "))
}

// AST returns the gqlparser schema. Callers must not modify it.
func (s *Schema) AST() *ast.Schema { return s.ast }

// Validate parses query and applies every standard validation rule; an
// empty result means the document is valid.
func (s *Schema) Validate(query string) []Finding {
	_, f := s.ParseAndValidate(query)
	return f
}

// ParseAndValidate parses and validates query. The document is nil when it
// does not parse; findings are empty when it is valid.
func (s *Schema) ParseAndValidate(query string) (*ast.QueryDocument, []Finding) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, []Finding{toFinding(ge)}
		}
		return nil, []Finding{{Line: 1, Column: 1, Message: err.Error()}}
	}
	errs := validator.Validate(s.ast, doc)
	if len(errs) == 0 {
		return doc, nil
	}
	out := make([]Finding, 0, len(errs))
	for _, e := range errs {
		f := toFinding(e)
		if e.Rule == "KnownArgumentNames" {
			f.Line, f.Column = argumentPosition(doc, e.Message, f.Line, f.Column)
		}
		out = append(out, f)
	}
	return doc, out
}

// argumentPosition moves an unknown-argument finding, which gqlparser
// reports at its field, onto the argument itself.
func argumentPosition(doc *ast.QueryDocument, msg string, line, col int) (int, int) {
	_, rest, ok := strings.Cut(msg, `argument "`)
	if !ok {
		return line, col
	}
	name, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return line, col
	}
	var found *ast.Position
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if found != nil {
				return
			}
			switch sel := sel.(type) {
			case *ast.Field:
				if sel.Position != nil && sel.Position.Line == line && sel.Position.Column == col {
					if a := sel.Arguments.ForName(name); a != nil && a.Position != nil {
						found = a.Position
						return
					}
				}
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, fr := range doc.Fragments {
		walk(fr.SelectionSet)
	}
	if found == nil {
		return line, col
	}
	return found.Line, found.Column
}

func toFinding(e *gqlerror.Error) Finding {
	f := Finding{Message: e.Message, Rule: e.Rule}
	if len(e.Locations) > 0 {
		f.Line, f.Column = e.Locations[0].Line, e.Locations[0].Column
	}
	return f
}

// introspection JSON shapes.
type introSchema struct {
	QueryType        *introName       `json:"queryType"`
	MutationType     *introName       `json:"mutationType"`
	SubscriptionType *introName       `json:"subscriptionType"`
	Types            []introType      `json:"types"`
	Directives       []introDirective `json:"directives"`
}

type introName struct {
	Name string `json:"name"`
}

type introType struct {
	Kind          string            `json:"kind"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Fields        []introField      `json:"fields"`
	InputFields   []introInputValue `json:"inputFields"`
	Interfaces    []introTypeRef    `json:"interfaces"`
	EnumValues    []introEnumValue  `json:"enumValues"`
	PossibleTypes []introTypeRef    `json:"possibleTypes"`
}

type introField struct {
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	Args              []introInputValue `json:"args"`
	Type              *introTypeRef     `json:"type"`
	IsDeprecated      bool              `json:"isDeprecated"`
	DeprecationReason *string           `json:"deprecationReason"`
}

type introInputValue struct {
	Name              string        `json:"name"`
	Description       string        `json:"description"`
	Type              *introTypeRef `json:"type"`
	DefaultValue      *string       `json:"defaultValue"`
	IsDeprecated      bool          `json:"isDeprecated"`
	DeprecationReason *string       `json:"deprecationReason"`
}

type introEnumValue struct {
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introTypeRef struct {
	Kind   string        `json:"kind"`
	Name   string        `json:"name"`
	OfType *introTypeRef `json:"ofType"`
}

type introDirective struct {
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	IsRepeatable bool              `json:"isRepeatable"`
	Locations    []string          `json:"locations"`
	Args         []introInputValue `json:"args"`
}

// build turns the introspection result into a validated gqlparser schema.
func build(is *introSchema) (*ast.Schema, error) {
	prelude := validator.PreludeDocument()
	builtinType := map[string]bool{}
	for _, d := range prelude.Definitions {
		builtinType[d.Name] = true
	}
	builtinDirective := map[string]bool{}
	for _, d := range prelude.Directives {
		builtinDirective[d.Name] = true
	}
	pos := &ast.Position{Src: &ast.Source{Name: "introspection"}}

	sd := &ast.SchemaDocument{}
	sd.Definitions = append(sd.Definitions, prelude.Definitions...)
	sd.Directives = append(sd.Directives, prelude.Directives...)

	var firstErr error
	typeRef := func(where string, t *introTypeRef) *ast.Type {
		out, err := convertTypeRef(t)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("shopify schema: %s: %w", where, err)
		}
		if out != nil {
			out.Position = pos
		}
		return out
	}
	args := func(where string, in []introInputValue) ast.ArgumentDefinitionList {
		out := make(ast.ArgumentDefinitionList, 0, len(in))
		for _, a := range in {
			ad := &ast.ArgumentDefinition{
				Name:        a.Name,
				Description: a.Description,
				Type:        typeRef(where+"("+a.Name+")", a.Type),
				Position:    pos,
			}
			if a.DefaultValue != nil {
				ad.DefaultValue = parseValue(*a.DefaultValue, pos)
			}
			if a.IsDeprecated {
				ad.Directives = deprecated(a.DeprecationReason, pos)
			}
			out = append(out, ad)
		}
		return out
	}

	for i := range is.Types {
		t := &is.Types[i]
		if t.Name == "" {
			return nil, fmt.Errorf("shopify schema: type #%d has no name", i)
		}
		if builtinType[t.Name] || strings.HasPrefix(t.Name, "__") {
			continue
		}
		def := &ast.Definition{
			Kind:        ast.DefinitionKind(t.Kind),
			Name:        t.Name,
			Description: t.Description,
			Position:    pos,
		}
		switch def.Kind {
		case ast.Scalar:
		case ast.Object, ast.Interface:
			for _, in := range t.Interfaces {
				def.Interfaces = append(def.Interfaces, in.Name)
			}
			for _, f := range t.Fields {
				where := t.Name + "." + f.Name
				fd := &ast.FieldDefinition{
					Name:        f.Name,
					Description: f.Description,
					Arguments:   args(where, f.Args),
					Type:        typeRef(where, f.Type),
					Position:    pos,
				}
				if f.IsDeprecated {
					fd.Directives = deprecated(f.DeprecationReason, pos)
				}
				def.Fields = append(def.Fields, fd)
			}
		case ast.Union:
			for _, p := range t.PossibleTypes {
				def.Types = append(def.Types, p.Name)
			}
		case ast.Enum:
			for _, v := range t.EnumValues {
				ev := &ast.EnumValueDefinition{Name: v.Name, Description: v.Description, Position: pos}
				if v.IsDeprecated {
					ev.Directives = deprecated(v.DeprecationReason, pos)
				}
				def.EnumValues = append(def.EnumValues, ev)
			}
		case ast.InputObject:
			for _, f := range t.InputFields {
				where := t.Name + "." + f.Name
				fd := &ast.FieldDefinition{
					Name:        f.Name,
					Description: f.Description,
					Type:        typeRef(where, f.Type),
					Position:    pos,
				}
				if f.DefaultValue != nil {
					fd.DefaultValue = parseValue(*f.DefaultValue, pos)
				}
				def.Fields = append(def.Fields, fd)
			}
		default:
			return nil, fmt.Errorf("shopify schema: type %s has unknown kind %q", t.Name, t.Kind)
		}
		sd.Definitions = append(sd.Definitions, def)
	}
	for _, d := range is.Directives {
		if builtinDirective[d.Name] {
			continue
		}
		dd := &ast.DirectiveDefinition{
			Name:         d.Name,
			Description:  d.Description,
			Arguments:    args("@"+d.Name, d.Args),
			IsRepeatable: d.IsRepeatable,
			Position:     pos,
		}
		for _, l := range d.Locations {
			dd.Locations = append(dd.Locations, ast.DirectiveLocation(l))
		}
		sd.Directives = append(sd.Directives, dd)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	root := &ast.SchemaDefinition{Position: pos}
	add := func(op ast.Operation, n *introName) {
		if n != nil && n.Name != "" {
			root.OperationTypes = append(root.OperationTypes, &ast.OperationTypeDefinition{Operation: op, Type: n.Name, Position: pos})
		}
	}
	if is.QueryType == nil || is.QueryType.Name == "" {
		return nil, errors.New("shopify schema: introspection has no queryType")
	}
	add(ast.Query, is.QueryType)
	add(ast.Mutation, is.MutationType)
	add(ast.Subscription, is.SubscriptionType)
	sd.Schema = append(sd.Schema, root)

	as, err := validator.ValidateSchemaDocument(sd)
	if err != nil {
		return nil, fmt.Errorf("shopify schema: invalid schema: %w", err)
	}
	return as, nil
}

func deprecated(reason *string, pos *ast.Position) ast.DirectiveList {
	d := &ast.Directive{Name: "deprecated", Position: pos, Location: ast.LocationFieldDefinition}
	if reason != nil {
		d.Arguments = ast.ArgumentList{{Name: "reason", Value: &ast.Value{Kind: ast.StringValue, Raw: *reason, Position: pos}, Position: pos}}
	}
	return ast.DirectiveList{d}
}

func convertTypeRef(t *introTypeRef) (*ast.Type, error) {
	if t == nil {
		return nil, errors.New("missing type")
	}
	switch t.Kind {
	case "NON_NULL":
		inner, err := convertTypeRef(t.OfType)
		if err != nil {
			return nil, err
		}
		inner.NonNull = true
		return inner, nil
	case "LIST":
		inner, err := convertTypeRef(t.OfType)
		if err != nil {
			return nil, err
		}
		return &ast.Type{Elem: inner}, nil
	default:
		if t.Name == "" {
			return nil, fmt.Errorf("named type of kind %s without a name", t.Kind)
		}
		return &ast.Type{NamedType: t.Name}, nil
	}
}

// parseValue parses a default value in GraphQL literal syntax; an
// unparsable one is kept as a raw string so that loading never fails on it.
func parseValue(lit string, pos *ast.Position) *ast.Value {
	doc, err := parser.ParseQuery(&ast.Source{Input: "{f(a:" + lit + ")}"})
	if err == nil && len(doc.Operations) == 1 && len(doc.Operations[0].SelectionSet) == 1 {
		if f, ok := doc.Operations[0].SelectionSet[0].(*ast.Field); ok && len(f.Arguments) == 1 {
			return f.Arguments[0].Value
		}
	}
	return &ast.Value{Kind: ast.StringValue, Raw: string(bytes.TrimSpace([]byte(lit))), Position: pos}
}
