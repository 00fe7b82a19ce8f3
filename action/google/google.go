// Package google implements the google action: calls to the Google Drive,
// Sheets and Docs REST APIs with a connected Google account's token.
// Options: account, method, url_path, headers, body; the result is
// {"status", "body"}. url_path selects the API: "/sheets/v4/..." goes to
// the Sheets API, "/docs/v1/..." to the Docs API, anything else (e.g.
// "/drive/v3/files", "/upload/drive/v3/files") to www.googleapis.com. A
// GET's body hash becomes its query string unless url_path has one.
package google

import (
	"net/http"
	"strings"

	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/action/internal/pathapi"
)

// Type is the action type.
const Type = "google"

// Default API base URLs.
const (
	DefaultDriveBaseURL  = "https://www.googleapis.com"
	DefaultSheetsBaseURL = "https://sheets.googleapis.com"
	DefaultDocsBaseURL   = "https://docs.googleapis.com"
)

// Config configures the action.
type Config struct {
	// Tokens supplies the connected accounts' tokens.
	Tokens apicall.Tokens
	// DriveBaseURL, SheetsBaseURL and DocsBaseURL override the defaults (tests).
	DriveBaseURL, SheetsBaseURL, DocsBaseURL string
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// New returns the google action's performer.
func New(cfg Config) *pathapi.Performer {
	drive := or(cfg.DriveBaseURL, DefaultDriveBaseURL)
	sheets := or(cfg.SheetsBaseURL, DefaultSheetsBaseURL)
	docs := or(cfg.DocsBaseURL, DefaultDocsBaseURL)
	return pathapi.New(pathapi.Spec{
		Type: Type, Provider: "google", BodyAsQuery: true,
		Resolve: func(path string) (string, error) {
			if rest, ok := strings.CutPrefix(path, "/sheets/"); ok {
				return pathapi.JoinBase(sheets, "/"+rest), nil
			}
			if rest, ok := strings.CutPrefix(path, "/docs/"); ok {
				return pathapi.JoinBase(docs, "/"+rest), nil
			}
			return pathapi.JoinBase(drive, path), nil
		},
	}, cfg.Tokens, cfg.HTTP)
}
