package shopify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	shopifyaction "github.com/sprocketrun/sprocket/action/shopify"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
)

// TestLibraryActionsValidate previews every library task and validates
// every shopify action the previews render: each must be accepted in one
// of the documented forms. It counts the forms seen.
func TestLibraryActionsValidate(t *testing.T) {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks in %s, want 360", len(files), dir)
	}
	r := &run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	p := shopifyaction.New(shopifyaction.Config{})
	forms := map[string]int{}
	tasks := map[string]bool{}
	restTasks := map[string]bool{}
	var nilIDs []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := task.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pv, err := r.Preview(context.Background(), run.PreviewInput{Task: tk})
		if err != nil {
			t.Fatalf("%s: preview: %v", name, err)
		}
		for _, pr := range pv.Runs {
			if pr.Err != nil || pr.Result == nil || pr.Result.Output == nil {
				continue
			}
			for _, a := range pr.Result.Output.Actions {
				if a.Type != shopifyaction.Type {
					continue
				}
				tasks[name] = true
				form := "graphql"
				switch o := a.Options.(type) {
				case []any:
					verb, _ := o[0].(string)
					form = "rest " + strings.ToLower(verb)
					restTasks[name] = true
				case string:
				default:
					form = "graphql query/variables"
				}
				forms[form]++
				if err := p.Validate(a.Options); err != nil {
					if strings.HasSuffix(err.Error(), "got nil") {
						// The id comes from a lazy lookup (fulfillment.order.id,
						// customer.orders …), which previews cannot make.
						nilIDs = append(nilIDs, name+" ("+pr.Event.Topic+")")
						continue
					}
					t.Errorf("%s (%s): %v", name, pr.Event.Topic, err)
				}
			}
		}
	}
	t.Logf("%d preview actions with a nil resource id (from lazy lookups previews cannot make): %s", len(nilIDs), strings.Join(nilIDs, ", "))
	t.Logf("%d tasks render shopify actions in preview (%d with REST forms); actions by form: %v", len(tasks), len(restTasks), forms)
	if len(restTasks) < 15 {
		t.Errorf("only %d tasks render REST forms in preview; the library has 21 that use them", len(restTasks))
	}
}
