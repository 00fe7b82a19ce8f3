package http

import (
	"context"
	"errors"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// tokens is a two-token source: the first is rejected by the server.
type tokens struct {
	refreshed int
	fail      error
}

func (t *tokens) Token(context.Context, string, string) (string, error) {
	if t.fail != nil {
		return "", t.fail
	}
	return "stale", nil
}

func (t *tokens) Refresh(_ context.Context, _, _, stale string) (string, error) {
	t.refreshed++
	if stale != "stale" {
		return "", errors.New("refreshed the wrong token")
	}
	return "fresh", nil
}

func TestOAuthOption(t *testing.T) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	opts := func(s string) any {
		v, err := value.FromJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, options string
		tok           *tokens
		kind          action.Kind
		want          string
	}{
		{"signed after one refresh", `{"method":"get","url":"` + srv.URL + `","headers":{"Authorization":"Bearer task-set"},"oauth":{"provider":"hubspot","account":"main"}}`, &tokens{}, action.KindNone, `"status":200`},
		{"not a hash", `{"method":"get","url":"` + srv.URL + `","oauth":"hubspot"}`, &tokens{}, action.KindInvalid, `"oauth"`},
		{"no account", `{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"hubspot"}}`, &tokens{}, action.KindInvalid, `"oauth.account"`},
		{"bad provider", `{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"Hub Spot","account":"a"}}`, &tokens{}, action.KindInvalid, `"oauth.provider"`},
		{"no such account", `{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"hubspot","account":"x"}}`, &tokens{fail: oauth.ErrNoAccount}, action.KindFailed, `account "x"`},
		{"must reconnect", `{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"hubspot","account":"x"}}`, &tokens{fail: oauth.ErrReconnect}, action.KindFailed, "connected again"},
		{"token endpoint down", `{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"hubspot","account":"x"}}`, &tokens{fail: errors.New("dial tcp: refused")}, action.KindTransient, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Config{OAuth: tt.tok, Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})
			res, err := p.Perform(context.Background(), action.Request{Type: Type, Options: opts(tt.options)})
			if action.Classify(err) != tt.kind {
				t.Fatalf("kind %v, want %v: %v", action.Classify(err), tt.kind, err)
			}
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				b, _ := value.ToJSON(res.Value)
				got = string(b)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %s, want %q", got, tt.want)
			}
		})
	}
	// Without a token source the option fails clearly.
	_, err := New(Config{}).Perform(context.Background(), action.Request{Type: Type, Options: opts(`{"method":"get","url":"` + srv.URL + `","oauth":{"provider":"a","account":"b"}}`)})
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "oauth option") {
		t.Fatalf("no OAuth: %v", err)
	}
}
