package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
)

var (
	// blockRE finds the bodies of shopify actions and captures.
	blockRE = regexp.MustCompile(`(?s)\{%-?\s*(action\s+"shopify"|capture\s+\w+)\s*-?%\}(.*?)\{%-?\s*end(?:action|capture)\s*-?%\}`)
	// docRE recognizes a GraphQL document (not JSON).
	docRE = regexp.MustCompile(`^\s*(query|mutation)\b|^\s*\{\s*[A-Za-z_]`)
)

// libraryDoc is a GraphQL document a library task writes literally.
type libraryDoc struct {
	task, query string
	// bulk marks a query captured for bulkOperationRunQuery.
	bulk bool
}

// libraryDocuments returns the GraphQL documents library tasks write
// literally (no Liquid inside).
func libraryDocuments(t *testing.T) []libraryDoc {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tasks in %s: %v", dir, err)
	}
	var out []libraryDoc
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var task struct{ Script string }
		if err := json.Unmarshal(raw, &task); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, m := range blockRE.FindAllStringSubmatch(task.Script, -1) {
			body := strings.TrimSpace(m[2])
			if strings.Contains(body, "{{") || strings.Contains(body, "{%") || !docRE.MatchString(body) {
				continue
			}
			out = append(out, libraryDoc{task: filepath.Base(f), query: body, bulk: strings.Contains(m[1], "bulk")})
		}
	}
	return out
}

// TestLibraryDocumentsExecute runs every literal GraphQL document of the
// library against the sandbox (bulk queries through bulkOperationRunQuery):
// each must validate and execute without an error other than an operation
// the sandbox does not implement. Known differences are listed in
// knownLibraryErrors with the reason.
func TestLibraryDocumentsExecute(t *testing.T) {
	docs := libraryDocuments(t)
	f := newFixture(t, func(o *Options) { o.BucketSize = 1e9; o.RestoreRate = 1e9 })
	tasks := map[string]bool{}
	total, ok, bulk, known := 0, 0, 0, 0
	notImpl := map[string]int{}
	for _, d := range docs {
		total++
		tasks[d.task] = true
		var r gqlResponse
		if d.bulk {
			bulk++
			r = f.gql(t, `mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } userErrors { field message } } }`, map[string]any{"q": d.query})
			if ue, _ := dig(r.Data, "bulkOperationRunQuery", "userErrors").([]any); len(ue) > 0 {
				t.Errorf("%s: bulk query rejected: %v\n%s", d.task, ue, d.query)
				continue
			}
		} else {
			r = f.gql(t, d.query, nil)
		}
		if r.Status != 200 {
			t.Errorf("%s: HTTP %d", d.task, r.Status)
			continue
		}
		failed := false
		for _, e := range r.Errors {
			switch {
			case e.Extensions["code"] == "NOT_IMPLEMENTED":
				notImpl[e.Message]++
			case knownLibraryErrors[e.Extensions["code"].(string)] != "":
				known++
				t.Logf("%s: %s (known: %s)", d.task, e.Message, knownLibraryErrors[e.Extensions["code"].(string)])
			default:
				failed = true
				t.Errorf("%s: %s\n%s", d.task, e.Message, d.query)
			}
		}
		if !failed {
			ok++
		}
	}
	t.Logf("library literal GraphQL documents: %d (%d bulk queries) from %d tasks; %d ran without unexpected errors; known differences %d; not implemented: %v", total, bulk, len(tasks), ok, known, notImpl)
	if total < 40 {
		t.Errorf("only %d literal documents found; the extraction is broken", total)
	}
}

// knownLibraryErrors are error codes library documents get from the
// sandbox for a documented reason.
var knownLibraryErrors = map[string]string{
	"MAX_COST_EXCEEDED": "publications(first: 250) with catalog { ... on AppCatalog { apps(first: 1) } } computes 1252 by Shopify's documented default costs; Shopify's per-field cost overrides are not published",
}
