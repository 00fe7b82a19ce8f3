package google_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/google"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/integrations/standin"
)

func TestGoogle(t *testing.T) {
	mux := http.NewServeMux()
	o := &standin.OAuthServer{ClientID: "c", ClientSecret: "s", TokenTTL: time.Hour}
	o.Mount(mux, "/google/oauth")
	g := &standin.Google{OAuth: o}
	g.Mount(mux, "/g")
	ts := httptest.NewServer(mux)
	defer ts.Close()
	m := actiontest.Manager(t, "google", ts.URL, o)
	actiontest.Connect(t, m, o, "google", "", map[string]any{"email": "u@example.com"})
	p := google.New(google.Config{Tokens: m, DriveBaseURL: ts.URL + "/g", SheetsBaseURL: ts.URL + "/g"})
	steps := []struct {
		name, options string
		kind          action.Kind
		want          string
	}{
		{"sheets API", `{"account":"u@example.com","method":"POST","url_path":"/sheets/v4/spreadsheets","headers":{"Accept":"application/json"},"body":{"properties":{"title":"Demo"}}}`, action.KindNone, `"title":"Demo"`},
		{"upload media", `{"account":"u@example.com","method":"POST","url_path":"/upload/drive/v3/files?uploadType=media","headers":{"Content-Type":"text/plain"},"body":"Hello world!"}`, action.KindNone, `"status":200`},
		{"GET body becomes the query", `{"account":"u@example.com","method":"GET","url_path":"/drive/v3/files","body":{"q":"name contains 'Demo'","pageSize":10}}`, action.KindNone, `"name":"Demo"`},
		{"query string wins over body", `{"account":"u@example.com","method":"GET","url_path":"/drive/v3/files?q=name%20contains%20'Untitled'","body":{"q":"name contains 'Demo'"}}`, action.KindNone, `"name":"Untitled"`},
		{"API error fails with the result", `{"account":"u@example.com","method":"GET","url_path":"/drive/v3/files/nope","body":{}}`, action.KindFailed, "404"},
		{"bad method", `{"account":"u@example.com","method":"TRACE","url_path":"/drive/v3/files"}`, action.KindInvalid, `"method"`},
		{"authorization is Sprocket's", `{"account":"u@example.com","method":"GET","url_path":"/drive/v3/files","headers":{"Authorization":"Bearer x"}}`, action.KindInvalid, `"headers.Authorization"`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, err := p.Perform(context.Background(), actiontest.Request(t, "google", s.options))
			if action.Classify(err) != s.kind {
				t.Fatalf("kind %v, want %v: %v", action.Classify(err), s.kind, err)
			}
			got := ""
			if err != nil {
				got = err.Error()
				if r, ok := action.ResultOf(err); s.kind == action.KindFailed && (!ok || r.Value == nil) {
					t.Fatalf("failure without its result: %v", err)
				}
			} else {
				got = actiontest.JSON(t, res.Value)
			}
			if !strings.Contains(got, s.want) {
				t.Fatalf("got %s, want %q", got, s.want)
			}
		})
	}
}
