package slack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/action/slack"
	"github.com/sprocketrun/sprocket/integrations/standin"
)

func TestSlack(t *testing.T) {
	mux := http.NewServeMux()
	o := &standin.OAuthServer{ClientID: "c", ClientSecret: "s"}
	o.Mount(mux, "/slack/oauth")
	sl := &standin.Slack{OAuth: o}
	sl.Mount(mux, "/api")
	ts := httptest.NewServer(mux)
	defer ts.Close()
	m := actiontest.Manager(t, "slack", ts.URL, o)
	actiontest.Connect(t, m, o, "slack", "Acme", map[string]any{"team": "Acme"})
	p := slack.New(slack.Config{Tokens: m, BaseURL: ts.URL + "/api"})
	ctx := context.Background()

	tests := []struct {
		name, options string
		rateLimit     int
		kind          action.Kind
		want          string
	}{
		{"post", `{"account":"Acme","method":"POST","url_path":"/chat.postMessage","headers":{"Content-Type":"application/json"},"body":{"channel":"C1","text":"hi"}}`, 0, action.KindNone, `"ok":true`},
		{"slack error is a failure", `{"account":"Acme","method":"POST","url_path":"/chat.postMessage","body":{"text":"hi"}}`, 0, action.KindFailed, "channel_not_found"},
		{"rate limited is transient", `{"account":"Acme","method":"POST","url_path":"/chat.postMessage","body":{"channel":"C1","text":"hi"}}`, 1, action.KindTransient, "Retry-After 1s"},
		{"unsupported method", `{"account":"Acme","method":"POST","url_path":"/conversations.list","body":{}}`, 0, action.KindInvalid, "not supported"},
		{"account required", `{"method":"POST","url_path":"/chat.postMessage","body":{}}`, 0, action.KindInvalid, `"account"`},
		{"unknown account", `{"account":"Other","method":"POST","url_path":"/chat.postMessage","body":{"channel":"C1","text":"x"}}`, 0, action.KindFailed, `connected: "Acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl.RateLimit = tt.rateLimit
			res, err := p.Perform(ctx, actiontest.Request(t, "slack", tt.options))
			if action.Classify(err) != tt.kind {
				t.Fatalf("kind %v, want %v (%v)", action.Classify(err), tt.kind, err)
			}
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = actiontest.JSON(t, res.Value)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %s, want %q", got, tt.want)
			}
		})
	}
	if len(sl.Messages()) != 1 {
		t.Fatalf("messages: %v", sl.Messages())
	}
	// A revoked installation: Slack answers invalid_auth; the token cannot be refreshed.
	o.RevokeAll()
	_, err := p.Perform(ctx, actiontest.Request(t, "slack", `{"account":"Acme","method":"POST","url_path":"/chat.postMessage","body":{"channel":"C1","text":"hi"}}`))
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "connected again") {
		t.Fatalf("revoked: %v", err)
	}
}
