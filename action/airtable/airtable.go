// Package airtable implements the airtable action: calls to the Airtable
// Web API (records, comments, base schemas) with a connected Airtable
// account's token. Options: account, method, url_path (e.g.
// "/v0/meta/bases/{base}/tables"), headers, body; the result is
// {"status", "body"}.
package airtable

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/action/internal/pathapi"
)

// Type is the action type.
const Type = "airtable"

// DefaultBaseURL is Airtable's Web API.
const DefaultBaseURL = "https://api.airtable.com"

// Config configures the action.
type Config struct {
	// Tokens supplies the connected accounts' tokens.
	Tokens apicall.Tokens
	// BaseURL overrides DefaultBaseURL (tests).
	BaseURL string
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// New returns the airtable action's performer.
func New(cfg Config) *pathapi.Performer {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return pathapi.New(pathapi.Spec{
		Type: Type, Provider: "airtable",
		Resolve: func(path string) (string, error) {
			if !strings.HasPrefix(path, "/v0/") {
				return "", fmt.Errorf("Airtable API paths start with /v0/, got %q", path)
			}
			return pathapi.JoinBase(base, path), nil
		},
	}, cfg.Tokens, cfg.HTTP)
}
