package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// stageUpload creates a staged target and uploads content to it as
// Shopify's staged upload parameters say: a multipart POST of the
// parameters, then the file. It returns the target's key.
func (f *fixture) stageUpload(t *testing.T, content string) string {
	t.Helper()
	d := f.mustData(t, `mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "vars.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) {
  stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }`, nil)
	target := dig(d, "stagedUploadsCreate", "stagedTargets", 0).(map[string]any)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	key := ""
	for _, p := range target["parameters"].([]any) {
		name, value := dig(p, "name").(string), dig(p, "value").(string)
		if name == "key" {
			key = value
		}
		mw.WriteField(name, value)
	}
	fw, _ := mw.CreateFormFile("file", "vars.jsonl")
	io.WriteString(fw, content)
	mw.Close()
	// No access token: the signed fields authorise the upload.
	resp, err := f.srv.Client().Post(target["url"].(string), mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(raw), "<Key>"+key+"</Key>") {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	if !strings.HasSuffix(key, "/bulk_op_vars") {
		t.Errorf("key %q", key)
	}
	return key
}

func TestStagedUploadRejectsForgedSignature(t *testing.T) {
	f := newFixture(t, nil)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", "tmp/1/bulk_mutation_variables/x/bulk_op_vars")
	mw.WriteField("x-goog-signature", "forged")
	fw, _ := mw.CreateFormFile("file", "vars.jsonl")
	io.WriteString(fw, "{}\n")
	mw.Close()
	resp, err := f.srv.Client().Post(f.srv.URL+stagedPathPrefix, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged upload: %d, want 403", resp.StatusCode)
	}
}

func TestBulkMutationThroughStagedUpload(t *testing.T) {
	f := newFixture(t, func(o *Options) { fastRetries(o); o.BulkDelay = 30 * time.Millisecond })
	rc := newReceiver(t, nil)
	f.subscribe(t, "bulk_operations/finish", rc.srv.URL)
	f.subscribe(t, "orders/updated", rc.srv.URL)
	lines := strings.Join([]string{
		`{"id": "gid://shopify/Order/1001", "tags": ["bulk-a"]}`,
		`{"id": "gid://shopify/Order/1002", "tags": ["bulk-b"]}`,
		`{"id": "gid://shopify/Order/999999", "tags": ["nope"]}`,
		`{"id": "gid://shopify/Order/1003"}`,
	}, "\n") + "\n"
	key := f.stageUpload(t, lines)

	const run = `mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { bulkOperation { id status type } userErrors { field message code } } }`
	inner := `mutation call($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }`
	for _, tc := range []struct{ name, mutation, path, code string }{
		{"unknown path", inner, "tmp/nope/bulk_op_vars", "NO_SUCH_FILE"},
		{"query not mutation", `query { shop { id } }`, key, "INVALID_MUTATION"},
		{"invalid mutation", `mutation { tagsAdd(id: 1) { nothing } }`, key, "INVALID_MUTATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, run, map[string]any{"m": tc.mutation, "p": tc.path})
			if code := dig(d, "bulkOperationRunMutation", "userErrors", 0, "code"); code != tc.code {
				t.Errorf("code %v, want %s: %v", code, tc.code, d)
			}
		})
	}

	d := f.mustData(t, run, map[string]any{"m": inner, "p": key})
	if ue := dig(d, "bulkOperationRunMutation", "userErrors").([]any); len(ue) > 0 {
		t.Fatalf("userErrors %v", ue)
	}
	id := dig(d, "bulkOperationRunMutation", "bulkOperation", "id").(string)
	if st := dig(d, "bulkOperationRunMutation", "bulkOperation", "status"); st != "RUNNING" {
		t.Errorf("status at start %v, want RUNNING (BulkDelay is set)", st)
	}
	// Completion is asynchronous: wait for the finish webhook.
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(rc.topics(), "bulk_operations/finish") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.wait(t)
	var finish map[string]any
	for _, g := range rc.all() {
		if g.Header.Get("X-Shopify-Topic") == "bulk_operations/finish" {
			verifyHMAC(t, DefaultAPISecret, g)
			json.Unmarshal(g.Body, &finish)
		}
	}
	want := map[string]any{"admin_graphql_api_id": id, "status": "completed", "type": "mutation", "error_code": nil}
	for k, v := range want {
		if finish[k] != v {
			t.Errorf("finish %s = %v, want %v (%v)", k, finish[k], v, finish)
		}
	}
	if finish["completed_at"] == nil || finish["created_at"] == nil || len(finish) != 6 {
		t.Errorf("finish payload %v", finish)
	}
	if n := len(slices.DeleteFunc(rc.topics(), func(s string) bool { return s != "orders/updated" })); n != 2 {
		t.Errorf("%d orders/updated deliveries from the bulk mutation, want 2", n)
	}

	poll := f.mustData(t, `query($id: ID!) { node(id: $id) { ... on BulkOperation { status type objectCount url errorCode } } }`, map[string]any{"id": id})
	if dig(poll, "node", "status") != "COMPLETED" || dig(poll, "node", "type") != "MUTATION" || dig(poll, "node", "objectCount") != "4" {
		t.Fatalf("poll %v", poll)
	}
	resp, err := f.srv.Client().Get(dig(poll, "node", "url").(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var results []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("result line %q: %v", sc.Text(), err)
		}
		results = append(results, m)
	}
	if len(results) != 4 {
		t.Fatalf("%d result lines, want 4", len(results))
	}
	for i, r := range results {
		if r["__lineNumber"] != float64(i) {
			t.Errorf("line %d: __lineNumber %v", i, r["__lineNumber"])
		}
	}
	if dig(results[0], "data", "tagsAdd", "node", "id") != "gid://shopify/Order/1001" {
		t.Errorf("line 0: %v", results[0])
	}
	if dig(results[2], "data", "tagsAdd", "userErrors", 0, "message") != "Resource does not exist" {
		t.Errorf("line 2 (unknown order): %v", results[2])
	}
	if results[3]["data"] != nil || dig(results[3], "errors", 0, "message") == nil {
		t.Errorf("line 3 (missing variable): %v", results[3])
	}
	o, _ := f.sb.Object("gid://shopify/Order/1002")
	if !slices.Contains(o["tags"].([]any), any("bulk-b")) {
		t.Errorf("order 1002 tags %v", o["tags"])
	}
}

func TestBulkQueryFinishWebhook(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delay  time.Duration
		cancel bool
		status string
	}{
		{"immediate", 0, false, "completed"},
		{"delayed", 20 * time.Millisecond, false, "completed"},
		{"canceled while running", time.Hour, true, "canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { fastRetries(o); o.BulkDelay = tc.delay })
			rc := newReceiver(t, nil)
			f.subscribe(t, "bulk_operations/finish", rc.srv.URL)
			d := f.mustData(t, `mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }") { bulkOperation { id status } userErrors { message } } }`, nil)
			id := dig(d, "bulkOperationRunQuery", "bulkOperation", "id").(string)
			if tc.cancel {
				c := f.mustData(t, `mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }`, map[string]any{"id": id})
				if dig(c, "bulkOperationCancel", "bulkOperation", "status") != "CANCELED" {
					t.Fatalf("cancel: %v", c)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(rc.all()) == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			f.wait(t)
			got := rc.all()
			if len(got) != 1 {
				t.Fatalf("%d finish deliveries, want 1", len(got))
			}
			var p map[string]any
			json.Unmarshal(got[0].Body, &p)
			if p["status"] != tc.status || p["type"] != "query" || p["admin_graphql_api_id"] != id {
				t.Errorf("finish payload %v", p)
			}
		})
	}
}
