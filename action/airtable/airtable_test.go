package airtable_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/airtable"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/integrations/standin"
)

func TestAirtable(t *testing.T) {
	mux := http.NewServeMux()
	o := &standin.OAuthServer{ClientID: "c", ClientSecret: "s", TokenTTL: time.Hour, BasicAuth: true}
	o.Mount(mux, "/airtable/oauth")
	at := &standin.Airtable{OAuth: o}
	at.Mount(mux, "/api")
	ts := httptest.NewServer(mux)
	defer ts.Close()
	m := actiontest.Manager(t, "airtable", ts.URL, o)
	actiontest.Connect(t, m, o, "airtable", "main", map[string]any{"email": "a@example.com"})
	p := airtable.New(airtable.Config{Tokens: m, BaseURL: ts.URL + "/api"})
	ctx := context.Background()
	res, err := p.Perform(ctx, actiontest.Request(t, "airtable", `{"account":"main","method":"POST","url_path":"/v0/meta/bases/app1/tables","headers":{"Content-Type":"application/json"},"body":{"name":"Checklist","fields":[{"name":"TODO","type":"singleLineText"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	table := strings.Split(strings.Split(actiontest.JSON(t, res.Value), `"id":"`)[1], `"`)[0]
	// The provider expired the token early: 401, one refresh, the call repeated.
	o.ExpireAll()
	res, err = p.Perform(ctx, actiontest.Request(t, "airtable", `{"account":"main","method":"POST","url_path":"/v0/app1/`+table+`","headers":{"Content-Type":"application/json"},"body":{"records":[{"fields":{"TODO":"Review"}}]}}`))
	if err != nil || o.Count("refresh") != 1 || len(at.Tables("app1")["Checklist"]) != 1 {
		t.Fatalf("after expiry: %v, refreshes %d, %v", err, o.Count("refresh"), at.Tables("app1"))
	}
	// Airtable's 422 is a failure that keeps the answer.
	_, err = p.Perform(ctx, actiontest.Request(t, "airtable", `{"account":"main","method":"POST","url_path":"/v0/app1/`+table+`","body":{"records":[]}}`))
	if r, ok := action.ResultOf(err); action.Classify(err) != action.KindFailed || !ok || !strings.Contains(actiontest.JSON(t, r.Value), "INVALID_RECORDS") {
		t.Fatalf("422: %v", err)
	}
	if err := p.Validate(actiontest.Request(t, "airtable", `{"account":"main","method":"GET","url_path":"/v1/bases"}`).Options); action.Classify(err) != action.KindInvalid {
		t.Fatalf("path outside /v0: %v", err)
	}
}
