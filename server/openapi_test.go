package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIRoutes checks /v1/openapi.json against the routes the
// service registers, both ways: every registered route is documented, and
// every documented operation reaches a registered route (not the API's
// catch-all 404). Routes added later must be documented in apiOps.
func TestOpenAPIRoutes(t *testing.T) {
	svc, c := openTestService(t, Config{})
	anon := &client{t: t, base: c.base}
	doc := anon.want(http.StatusOK, "GET", "/v1/openapi.json", nil)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	documented := map[string]bool{} // "METHOD /path"
	for p, item := range paths {
		for m := range item.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	mux, ok := svc.Handler().(*recordingMux)
	if !ok {
		t.Fatalf("the service handler is %T, not the recording mux", svc.Handler())
	}
	if len(svc.patterns) < 50 {
		t.Fatalf("only %d routes recorded", len(svc.patterns))
	}
	for _, pat := range svc.patterns {
		method, path, hasMethod := strings.Cut(pat, " ")
		if !hasMethod { // a prefix pattern: "/webhooks/" or the "/v1/" catch-all
			if pat == "/v1/" {
				continue
			}
			found := false
			for op := range documented {
				if _, p, _ := strings.Cut(op, " "); strings.HasPrefix(p, pat) {
					found = true
				}
			}
			if !found {
				t.Errorf("registered prefix %q is not documented", pat)
			}
			continue
		}
		if !documented[method+" "+path] {
			t.Errorf("registered route %q is not documented in /v1/openapi.json", pat)
		}
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "x1"), nil)
		_, got := mux.Handler(req)
		if got == "/v1/" || got == "" {
			t.Errorf("documented %s reaches no route (got %q)", op, got)
			continue
		}
		if got != op && !(strings.HasSuffix(got, "/") && strings.HasPrefix(path, got)) {
			t.Errorf("documented %s reaches %q", op, got)
		}
	}
}

// TestOpenAPIDocument: every $ref resolves, every path parameter is
// declared, every operation has an id (unique), a summary and responses.
func TestOpenAPIDocument(t *testing.T) {
	raw, err := json.Marshal(openAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
	var ids []string
	for p, item := range doc["paths"].(map[string]any) {
		want := regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(p, -1)
		for m, o := range item.(map[string]any) {
			op := o.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || op["summary"] == "" || len(op["responses"].(map[string]any)) == 0 {
				t.Errorf("%s %s: incomplete operation", m, p)
			}
			ids = append(ids, id)
			var declared []string
			if ps, ok := op["parameters"].([]any); ok {
				for _, x := range ps {
					if x.(map[string]any)["in"] == "path" {
						declared = append(declared, x.(map[string]any)["name"].(string))
					}
				}
			}
			for _, w := range want {
				if !slices.Contains(declared, w[1]) {
					t.Errorf("%s %s: path parameter %s not declared", m, p, w[1])
				}
			}
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("duplicate operationId")
	}
}
