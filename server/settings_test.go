package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// waitRuns polls the successful runs of a kind for a task until there are n.
func waitRuns(t *testing.T, c *client, kind, taskID string, n int) []any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := c.want(http.StatusOK, "GET", "/v1/"+kind+"?task_id="+taskID+"&status=success", nil)[kind].([]any)
		if len(runs) >= n {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d successful %s for task %s, want %d", len(runs), kind, taskID, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGlobalsAndSecrets: globals and secrets set through the API reach
// task runs (variables and global/secret options); templates see secrets
// only as references, which the http action and the signing filters turn
// into the raw value, and the action result is redacted.
func TestGlobalsAndSecrets(t *testing.T) {
	const raw = "s3cr3t-token-value"
	gotAuth := make(chan string, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotAuth <- r.Header.Get("Authorization") + " " + string(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"echo": "`+r.Header.Get("Authorization")+`"}`)
	}))
	defer target.Close()
	_, c := startPipelineService(t)

	c.want(http.StatusOK, "PUT", "/v1/globals/shop_name", map[string]any{"global": map[string]any{"value": "Acme"}})
	c.want(http.StatusOK, "PUT", "/v1/globals/limits", map[string]any{"global": map[string]any{"value": map[string]any{"max": 3}}})
	sec := c.want(http.StatusOK, "PUT", "/v1/secrets/api_token", map[string]any{"secret": map[string]any{"value": raw}})
	if s := sec["secret"].(map[string]any); s["value_present"] != true || s["key"] != "api_token" {
		t.Fatalf("secret answer %v", sec)
	}
	out := c.want(http.StatusBadRequest, "PUT", "/v1/secrets/Bad-Key", map[string]any{"secret": map[string]any{"value": "x"}})
	if _, f := errorField(t, out); f != "key" {
		t.Fatalf("bad key field %v", f)
	}
	c.want(http.StatusBadRequest, "PUT", "/v1/secrets/other", map[string]any{"secret": map[string]any{"value": 5}})
	globals := c.want(http.StatusOK, "GET", "/v1/globals", nil)["globals"].([]any)
	if len(globals) != 2 || globals[1].(map[string]any)["value"] != "Acme" {
		t.Fatalf("globals %v", globals)
	}

	script := `{% log shop: globals.shop_name, max: globals.limits.max, opt: options.who__global_required, ref: secrets.api_token, sig: "x" | hmac_sha256: secrets.api_token %}
{% action "http" %}{"method": "post", "url": {{ "` + target.URL + `" | json }},
 "headers": {"Authorization": {{ "Bearer " | append: options.token__secret_required | json }}},
 "body": {"ref": {{ secrets.api_token | json }}}, "__perform_event": false}{% endaction %}`
	doc := map[string]any{
		"name": "Uses secrets", "script": script, "subscriptions": []string{"mechanic/user/trigger"},
		"options": map[string]any{"who__global_required": "shop_name", "token__secret_required": "api_token"},
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	if s := c.want(http.StatusOK, "GET", "/v1/secrets", nil)["secrets"].([]any); len(s) != 1 || s[0].(map[string]any)["approximate_task_reference_count"] != 1.0 {
		t.Fatalf("secrets list %v", s)
	} else if b, _ := json.Marshal(s); strings.Contains(string(b), raw) {
		t.Fatal("the secrets list shows the value")
	}
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})

	select {
	case got := <-gotAuth:
		if got != "Bearer "+raw+` {"ref":"`+raw+`"}` {
			t.Fatalf("the http action sent %q", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the http action was not performed")
	}
	run := waitRuns(t, c, "task_runs", id, 1)[0].(map[string]any)
	logs, _ := json.Marshal(run["logs"])
	mac := hmac.New(sha256.New, []byte(raw))
	mac.Write([]byte("x"))
	for _, want := range []string{`"shop":"Acme"`, `"max":3`, `"opt":"Acme"`, `"ref":"[[secret:api_token]]"`, `"sig":"` + hex.EncodeToString(mac.Sum(nil)) + `"`} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("task run logs %s lack %s", logs, want)
		}
	}
	if strings.Contains(string(logs), raw) {
		t.Errorf("task run logs show the secret: %s", logs)
	}
	ar := waitRuns(t, c, "action_runs", id, 1)[0].(map[string]any)
	res, _ := json.Marshal(ar["result"])
	if strings.Contains(string(res), raw) || !strings.Contains(string(res), "__mechanic_secret_value_redacted__") {
		t.Errorf("action result not redacted: %s", res)
	}
	c.want(http.StatusNoContent, "DELETE", "/v1/secrets/api_token", nil)
	c.want(http.StatusNotFound, "DELETE", "/v1/secrets/api_token", nil)
	c.want(http.StatusNoContent, "DELETE", "/v1/globals/limits", nil)
}

// TestEventFilters: an event filter rendering "false" stops matching
// events before any task runs.
func TestEventFilters(t *testing.T) {
	_, c := startPipelineService(t)
	c.want(http.StatusOK, "PUT", "/v1/event_filters/skip_tests", map[string]any{"template": `{% if event.data.test %}false{% endif %}`})
	if fs := c.want(http.StatusOK, "GET", "/v1/event_filters", nil)["event_filters"].([]any); len(fs) != 1 {
		t.Fatalf("event filters %v", fs)
	}
	doc := map[string]any{"name": "Counts", "script": `{% log n: event.data.n %}`, "subscriptions": []string{"user/orders/new"}, "options": map[string]any{}}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	stopped := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/orders/new", "data": map[string]any{"n": 1, "test": true}})
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/orders/new", "data": map[string]any{"n": 2}})
	runs := waitRuns(t, c, "task_runs", id, 1)
	deadline := time.Now().Add(20 * time.Second)
	for c.want(http.StatusOK, "GET", "/v1/runs/"+stopped["id"].(string), nil)["status"] != "success" {
		if time.Now().After(deadline) {
			t.Fatal("the filtered event's run did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	runs = c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+id, nil)["task_runs"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["event_id"] == stopped["id"] {
		t.Fatalf("task runs %v: the filtered event reached the task", runs)
	}
	// Deleting the filter applies at once.
	c.want(http.StatusNoContent, "DELETE", "/v1/event_filters/skip_tests", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/orders/new", "data": map[string]any{"n": 3, "test": true}})
	waitRuns(t, c, "task_runs", id, 2)
}

func TestShopTimeZone(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		loc        *time.Location
		iana, zone string
	}{
		{time.UTC, "UTC", "(GMT+00:00) UTC"},
		{chicago, "America/Chicago", "America/Chicago"},
		{time.FixedZone("IST", 5*3600+1800), "IST", "(GMT+05:30) IST"},
	} {
		shop := shopIn(tc.loc)
		iana, _ := shop.Get("iana_timezone")
		zone, _ := shop.Get("timezone")
		if iana != tc.iana || !strings.HasSuffix(zone.(string), tc.zone) || !strings.HasPrefix(zone.(string), "(GMT") {
			t.Errorf("%v: iana_timezone %v, timezone %v", tc.loc, iana, zone)
		}
	}
}
