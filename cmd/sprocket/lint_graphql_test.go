package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
)

// TestTaskLintGraphQL checks that lint validates the GraphQL a task renders
// against the Admin schema and reports the task's line.
func TestTaskLintGraphQL(t *testing.T) {
	t.Setenv("SPROCKET_SHOPIFY_SCHEMA_DIR", shared.For(t, "corpus", "shopify", "admin-schema"))
	dir := t.TempDir()
	script := "{% assign r = \"query { shop { name } }\" | shopify %}\n" +
		"{% action \"shopify\" %}\n" +
		"  mutation {\n" +
		"    tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"a\"], colour: \"red\") {\n" +
		"      userErrors { field messag }\n" +
		"    }\n" +
		"  }\n" +
		"{% endaction %}\n" +
		"{% action \"shopify\" %}mutation { tagsRemove(id: {{ event.data.missing | json }}, tags: [\"a\"]) { node { id } } }{% endaction %}"
	p := writeFile(t, dir, "gql.json", taskJSON(script, "mechanic/user/trigger", `{}`))
	var stdout, stderr bytes.Buffer
	if code := runTask(context.Background(), []string{"lint", p}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1; stderr: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		`script line 4: GraphQL (shopify action 1 (preview event 1), 2:55): Unknown argument "colour" on field "Mutation.tagsAdd".`,
		`script line 5: GraphQL (shopify action 1 (preview event 1), 3:26): Cannot query field "messag" on type "UserError". Did you mean "message"?`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "found null") {
		t.Errorf("lint reports a null that depends on preview data:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("lint printed %d lines, want 2:\n%s", n, out)
	}

	// A valid task passes; without a schema, lint says GraphQL was not checked.
	ok := writeFile(t, dir, "ok.json", taskJSON("{% action \"shopify\" %}mutation { tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"a\"]) { userErrors { message } } }{% endaction %}", "mechanic/user/trigger", `{}`))
	stdout.Reset()
	stderr.Reset()
	if code := runTask(context.Background(), []string{"lint", ok}, nil, &stdout, &stderr); code != 0 {
		t.Errorf("valid task: exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	t.Setenv("SPROCKET_SHOPIFY_SCHEMA_DIR", t.TempDir())
	t.Setenv("SPROCKET_SHARED", t.TempDir())
	t.Chdir(t.TempDir())
	stdout.Reset()
	stderr.Reset()
	runTask(context.Background(), []string{"lint", ok}, nil, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "GraphQL not checked") {
		t.Errorf("without a schema, stderr = %q", stderr.String())
	}
}
