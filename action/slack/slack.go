// Package slack implements the slack action: Slack Web API calls
// (chat.postMessage, chat.update, chat.delete, the methods Mechanic
// supports) made with a connected Slack account's token. Options:
// account, method, url_path (e.g. "/chat.postMessage"), headers, body;
// the result is {"status", "body"}. Slack reports failures in a 200
// answer's "ok": false; those fail the run with Slack's error code.
package slack

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/action/internal/pathapi"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type.
const Type = "slack"

// DefaultBaseURL is Slack's Web API.
const DefaultBaseURL = "https://slack.com/api"

// Methods are the Web API methods the action supports.
var Methods = []string{"/chat.postMessage", "/chat.update", "/chat.delete"}

// Config configures the action.
type Config struct {
	// Tokens supplies the connected accounts' tokens.
	Tokens apicall.Tokens
	// BaseURL overrides DefaultBaseURL (tests).
	BaseURL string
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// authErrors are Slack's error codes for a token it does not accept.
var authErrors = []string{"invalid_auth", "token_expired", "token_revoked", "not_authed", "account_inactive"}

// New returns the slack action's performer.
func New(cfg Config) *pathapi.Performer {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return pathapi.New(pathapi.Spec{
		Type: Type, Provider: "slack",
		Resolve: func(path string) (string, error) {
			if !slices.Contains(Methods, path) {
				return "", fmt.Errorf("Slack method %q is not supported; use one of %s", path, strings.Join(Methods, ", "))
			}
			return pathapi.JoinBase(base, path), nil
		},
		Check: func(body any) error {
			m, ok := body.(*value.Map)
			if !ok {
				return errors.New("slack action: Slack answered without a JSON object")
			}
			if okv, _ := m.Get("ok"); okv == true {
				return nil
			}
			code, _ := m.Get("error")
			return fmt.Errorf("slack action: Slack answered ok: false, error %v", code)
		},
		Unauthorized: func(status int, body []byte) bool {
			if status == http.StatusUnauthorized {
				return true
			}
			m, ok := pathapi.DecodeBody(body).(*value.Map)
			if !ok {
				return false
			}
			code, _ := m.Get("error")
			s, _ := code.(string)
			return slices.Contains(authErrors, s)
		},
	}, cfg.Tokens, cfg.HTTP)
}
