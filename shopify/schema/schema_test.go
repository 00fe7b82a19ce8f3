package schema

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
)

var (
	loadOnce sync.Once
	loaded   map[string]*Schema
	loadErr  error
)

// testSchema loads an Admin schema version from the shared corpus once.
func testSchema(tb testing.TB, version string) *Schema {
	tb.Helper()
	path := shared.For(tb, "corpus", "shopify", "admin-schema", "admin_"+version+".json.gz")
	loadOnce.Do(func() { loaded = map[string]*Schema{} })
	if s := loaded[version]; s != nil {
		return s
	}
	s, err := LoadFile(path)
	if err != nil {
		loadErr = err
		tb.Fatalf("LoadFile(%s): %v", path, err)
	}
	loaded[version] = s
	return s
}

func TestLoadVersions(t *testing.T) {
	for _, v := range []string{"2025-10", "2026-01"} {
		t.Run(v, func(t *testing.T) {
			s := testSchema(t, v)
			a := s.AST()
			if a.Query == nil || a.Query.Name != "QueryRoot" {
				t.Fatalf("query type = %v, want QueryRoot", a.Query)
			}
			if a.Mutation == nil || a.Mutation.Name != "Mutation" {
				t.Fatalf("mutation type = %v, want Mutation", a.Mutation)
			}
			if len(a.Types) < 2900 {
				t.Errorf("%d types, want about 2,983", len(a.Types))
			}
			if a.Mutation.Fields.ForName("tagsAdd") == nil {
				t.Error("Mutation.tagsAdd missing")
			}
			if v == "2026-01" && a.Directives["idempotent"] == nil {
				t.Error("directive @idempotent missing")
			}
			if got := len(a.PossibleTypes["Node"]); got < 100 {
				t.Errorf("Node has %d possible types", got)
			}
		})
	}
}

func TestLoadPlainAndBare(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    string
	}{
		{"data wrapper", `{"data":{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"a","args":[],"type":{"kind":"SCALAR","name":"String"}}]}],"directives":[]}}}`, ""},
		{"bare", `{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"a","args":[],"type":{"kind":"SCALAR","name":"String"}}]}],"directives":[]}}`, ""},
		{"no schema", `{"data":{}}`, `no "__schema"`},
		{"not json", `{`, "decode introspection JSON"},
		{"no query type", `{"__schema":{"types":[],"directives":[]}}`, "no queryType"},
		{"unknown type ref", `{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"a","args":[],"type":{"kind":"OBJECT","name":"Missing"}}]}],"directives":[]}}`, "Missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.body)
				if gz {
					var b bytes.Buffer
					w := gzip.NewWriter(&b)
					w.Write([]byte(tt.body))
					w.Close()
					r = &b
				}
				s, err := Load(r)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("gzip=%v: err = %v, want it to contain %q", gz, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("gzip=%v: %v", gz, err)
				}
				if f := s.Validate("{ a }"); len(f) != 0 {
					t.Fatalf("gzip=%v: { a } findings %v", gz, f)
				}
				if f := s.Validate("{ b }"); len(f) != 1 {
					t.Fatalf("gzip=%v: { b } findings %v, want one", gz, f)
				}
			}
		})
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "admin_2099-01.json.gz")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	got, err := Locate("2099-01")
	if err != nil || got != p {
		t.Fatalf("Locate = %q, %v; want %q", got, err, p)
	}
	_, err = Locate("1999-01")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "admin_1999-01.json.gz")) {
		t.Fatalf("missing version error %v does not name where it looked", err)
	}
	if _, err := Locate("../x"); err == nil {
		t.Fatal("path-like version accepted")
	}
	t.Setenv(EnvDir, "")
	shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	got, err = Locate("2026-01")
	if err != nil || filepath.Base(got) != "admin_2026-01.json.gz" {
		t.Fatalf("Locate(2026-01) from the repository = %q, %v", got, err)
	}
}

// libraryQueries are GraphQL documents as library tasks render them.
var libraryQueries = []struct{ name, query string }{
	{"tagsAdd (auto-tag-orders-with-product-vendors)", `mutation {
  tagsAdd(
    id: "gid://shopify/Order/12345"
    tags: ["Apple", "Nike"]
  ) {
    userErrors {
      field
      message
    }
  }
}`},
	{"order read with line items", `query {
  order(id: "gid://shopify/Order/1234567890") {
    id
    name
    tags
    displayFinancialStatus
    customer { id email tags }
    lineItems(first: 250) {
      edges {
        node {
          id
          quantity
          sku
          variant { id sku product { id tags } }
        }
      }
    }
  }
}`},
	{"products paginated with cursor", `query ProductsPage($cursor: String) {
  products(first: 250, after: $cursor, query: "status:active tag:sale") {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      title
      tags
      variants(first: 100) { nodes { id sku inventoryQuantity price } }
    }
  }
}`},
	{"metafieldsSet", `mutation metafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value }
    userErrors { field message code }
  }
}`},
	{"node fragments", `query {
  node(id: "gid://shopify/Customer/1") {
    __typename
    ... on Customer { id displayName email tags amountSpent { amount currencyCode } }
    ...OrderBits
  }
}
fragment OrderBits on Order { id name }`},
	{"inventory adjust", `mutation {
  inventoryAdjustQuantities(input: {
    reason: "correction"
    name: "available"
    changes: [{ delta: -1, inventoryItemId: "gid://shopify/InventoryItem/1", locationId: "gid://shopify/Location/1" }]
  }) {
    inventoryAdjustmentGroup { createdAt reason changes { name delta } }
    userErrors { field message }
  }
}`},
}

func TestValidateLibraryQueries(t *testing.T) {
	for _, v := range []string{"2025-10", "2026-01"} {
		s := testSchema(t, v)
		for _, q := range libraryQueries {
			t.Run(v+"/"+q.name, func(t *testing.T) {
				if f := s.Validate(q.query); len(f) != 0 {
					t.Fatalf("findings for a valid query: %v", f)
				}
			})
		}
	}
}

func TestValidateFindings(t *testing.T) {
	s := testSchema(t, "2026-01")
	tests := []struct {
		name          string
		query         string
		line, column  int
		wantInMessage []string
		rule          string
	}{
		{"unknown field", "query {\n  shop {\n    name\n    nmae\n  }\n}", 4, 5,
			[]string{`"nmae"`, `"Shop"`}, "FieldsOnCorrectType"},
		{"unknown argument", "mutation {\n  tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"a\"], colour: 1) {\n    userErrors { message }\n  }\n}", 2, 53,
			[]string{`"colour"`, `"Mutation.tagsAdd"`}, "KnownArgumentNames"},
		{"missing required argument", "mutation {\n  tagsAdd(id: \"gid://shopify/Order/1\") { userErrors { message } }\n}", 2, 3,
			[]string{`"tags"`}, "ProvidedRequiredArguments"},
		{"syntax error", "query {\n  shop {\n    name\n", 4, 1, []string{"Expected Name"}, ""},
		{"unknown type in fragment", "{ node(id: \"1\") { ... on Ordr { id } } }", 1, 23, []string{`"Ordr"`}, "KnownTypeNames"},
		{"leaf without selection", "{ shop }", 1, 3, []string{`"shop"`, "subfields"}, "ScalarLeafs"},
		{"wrong enum value", "{ orders(first: 1, sortKey: NAMEZ) { nodes { id } } }", 1, 29, []string{"NAMEZ"}, "ValuesOfCorrectType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := s.Validate(tt.query)
			if len(f) == 0 {
				t.Fatal("no findings")
			}
			got := f[0]
			if got.Line != tt.line || got.Column != tt.column {
				t.Errorf("position %d:%d, want %d:%d (%s)", got.Line, got.Column, tt.line, tt.column, got.Message)
			}
			for _, w := range tt.wantInMessage {
				if !strings.Contains(got.Message, w) {
					t.Errorf("message %q does not contain %q", got.Message, w)
				}
			}
			if got.Rule != tt.rule {
				t.Errorf("rule %q, want %q", got.Rule, tt.rule)
			}
		})
	}
}

func TestCost(t *testing.T) {
	s := testSchema(t, "2026-01")
	tests := []struct {
		name  string
		query string
		op    string
		vars  map[string]any
		want  int
	}{
		{"scalars only on an object", `{ shop { id name email } }`, "", nil, 1},
		{"nested objects", `{ shop { id primaryDomain { host } } }`, "", nil, 2},
		{"typename only", `{ __typename }`, "", nil, 0},
		{"connection edges", `{ products(first: 10) { edges { cursor node { id title } } } }`, "", nil, 12},
		{"connection nodes and pageInfo", `{ products(first: 10) { nodes { id } pageInfo { hasNextPage } } }`, "", nil, 12},
		{"nested connection", `{ products(first: 10) { nodes { id variants(first: 5) { nodes { id } } } } }`, "", nil, 2 + 10*(1+2+5)},
		{"first from a variable", `query($n: Int) { orders(first: $n) { nodes { id } } }`, "", map[string]any{"n": float64(50)}, 52},
		{"first from a variable default", `query($n: Int = 3) { orders(first: $n) { nodes { id } } }`, "", nil, 5},
		{"last", `{ orders(last: 4) { edges { node { id customer { id } } } } }`, "", nil, 2 + 4*2},
		{"mutation", `mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["a"]) { node { id } userErrors { field message } } }`, "", nil, 10},
		{"mutation with a connection in the payload", `mutation { productUpdate(product: {id: "gid://shopify/Product/1"}) { product { id variants(first: 10) { nodes { id } } } } }`, "", nil, 10 + 2 + 10},
		{"nodes by ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "", map[string]any{"ids": []any{"a", "b", "c"}}, 3},
		{"interface fragments take the most expensive", `{ node(id: "x") { id ... on Order { customer { id } } ... on Product { variants(first: 3) { nodes { id } } } } }`, "", nil, 1 + 5},
		{"named operation", `query A { shop { id } } query B { products(first: 2) { nodes { id } } }`, "B", nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, f := s.ParseAndValidate(tt.query)
			if len(f) != 0 {
				t.Fatalf("invalid test query: %v", f)
			}
			got, err := s.Cost(doc, tt.op, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("cost %d, want %d", got, tt.want)
			}
		})
	}
	doc, _ := s.ParseAndValidate(`query A { shop { id } } query B { shop { id } }`)
	if _, err := s.Cost(doc, "", nil); err == nil {
		t.Error("two operations without a name: no error")
	}
	if _, err := s.Cost(doc, "C", nil); err == nil {
		t.Error("unknown operation name: no error")
	}
}

func BenchmarkLoad(b *testing.B) {
	path := shared.For(b, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	s := testSchema(b, "2026-01")
	q := libraryQueries[1].query
	b.ReportAllocs()
	for b.Loop() {
		if f := s.Validate(q); len(f) != 0 {
			b.Fatal(f)
		}
	}
}
