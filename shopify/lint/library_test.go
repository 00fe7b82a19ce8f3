package lint

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify/schema"
	"github.com/sprocketrun/sprocket/task"
)

// knownFinding explains a GraphQL problem of one library task.
type knownFinding struct {
	message, class, why string
}

// Classes of findings that are not Sprocket's.
const (
	classLibraryBug = "library bug"
	classSampled    = "sampled options" // preview fills empty required options with "sample"-like values
	classNull       = "preview data"    // the preview event lacks a value the GraphQL interpolates
	classNewer      = "newer API"       // valid on 2026-01, the version the task is written for
)

// knownLibraryFindings lists the findings of library tasks, by task, that
// are neither preview data nor newer-API uses, with why they are not
// Sprocket's rendering. Every other finding fails the test.
var knownLibraryFindings = map[string][]knownFinding{
	"auto-prefix-tracking-numbers-for-each-new-fulfillment": {
		{`Unknown argument "trackingInfoUpdateInput"`, classLibraryBug, "the argument was renamed trackingInfoInput in the Admin API; the task still uses the old name"},
		{`argument "trackingInfoInput" of type "FulfillmentTrackingInput!" is required`, classLibraryBug, "same: the required new argument is missing"},
	},
	"auto-recurring-draft-orders": {
		{`Value "Grams" does not exist in "WeightUnit!" enum`, classLibraryBug, "the task's own preview stub data writes the enum value in the wrong case"},
	},
	"auto-tag-products-when-their-skus-change": {
		{`Cannot query field "sample" on type "ProductVariant"`, classSampled, "the variant attribute to watch is a required option; preview samples it as \"sample\""},
	},
	"copy-prefixed-tags-to-metafields": {
		{`Cannot query field "samples" on type "QueryRoot"`, classSampled, "the Shopify object type is a required option; preview samples it"},
		{`Unknown type "Sample"`, classSampled, "same"},
	},
	"copy-product-metafields-to-each-products-tags": {
		{`Expected Name, found Int`, classSampled, "metafield keys come from a required keyval option that preview samples with numbers"},
	},
	"set-product-or-variant-metafields-in-bulk": {
		{`Expected Name, found {`, classSampled, "the metafield type comes from a required option that preview samples"},
	},
}

// TestLibraryGraphQL previews every library task and validates the GraphQL
// it renders (shopify filter queries, shopify actions, bulk operation
// queries) against the Admin schemas 2026-01 and 2025-10, printing the
// counts and every finding.
func TestLibraryGraphQL(t *testing.T) {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks, want 360", len(files))
	}
	r := &run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	type taskDocs struct {
		name, script string
		docs         []Document
	}
	var all []taskDocs
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := task.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pv, err := r.Preview(context.Background(), run.PreviewInput{Task: tk})
		if err != nil {
			t.Fatalf("%s: preview: %v", f, err)
		}
		all = append(all, taskDocs{strings.TrimSuffix(filepath.Base(f), ".json"), tk.Script, Documents(pv)})
	}
	latest, err := schema.LoadFile(shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"2026-01", "2025-10"} {
		t.Run(version, func(t *testing.T) {
			sch, err := schema.LoadFile(shared.For(t, "corpus", "shopify", "admin-schema", "admin_"+version+".json.gz"))
			if err != nil {
				t.Fatal(err)
			}
			withGraphQL, valid, documents := 0, 0, 0
			var failing []string
			classes := map[string]int{}
			for _, td := range all {
				if len(td.docs) == 0 {
					continue
				}
				withGraphQL++
				documents += len(td.docs)
				fs := Check(sch, td.script, td.docs)
				if len(fs) == 0 {
					valid++
					continue
				}
				failing = append(failing, td.name)
				for _, f := range fs {
					class, why := classify(td.name, td.script, td.docs, f, version, latest)
					if class == "" {
						t.Errorf("%s: %s", td.name, f)
						continue
					}
					classes[class]++
					t.Logf("%s: %s (%s: %s)", td.name, f, class, why)
				}
			}
			sort.Strings(failing)
			t.Logf("API %s: %d tasks render GraphQL (%d documents); %d validate, %d do not: %s",
				version, withGraphQL, documents, valid, len(failing), strings.Join(failing, ", "))
			t.Logf("API %s: findings by class: %v", version, classes)
		})
	}
}

// classify says why a finding is not Sprocket's, or "" when it may be.
func classify(name, script string, docs []Document, f Finding, version string, latest *schema.Schema) (class, why string) {
	if strings.Contains(f.Message, "found null") {
		return classNull, "the preview event has no value where the query interpolates one"
	}
	for _, k := range knownLibraryFindings[name] {
		if strings.Contains(f.Message, k.message) {
			return k.class, k.why
		}
	}
	if version != "2026-01" {
		for _, lf := range Check(latest, script, docs) {
			if lf.Message == f.Message {
				return "", ""
			}
		}
		return classNewer, "the same GraphQL validates against 2026-01"
	}
	return "", ""
}
