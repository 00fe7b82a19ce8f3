// Package gapi is the Google API client shared by the google_sheets and
// google_drive actions: JSON calls to the Sheets and Drive APIs with a
// connected Google account's token, Mechanic's retry policy (ambiguous
// writes are not retried except after 429), and Drive folder paths.
package gapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/internal/apicall"
)

// Default API base URLs.
const (
	DefaultDriveBaseURL  = "https://www.googleapis.com"
	DefaultSheetsBaseURL = "https://sheets.googleapis.com"
	// FolderMIME is the MIME type of Drive folders.
	FolderMIME = "application/vnd.google-apps.folder"
)

// Client calls the Sheets and Drive APIs for one action type.
type Client struct {
	// API performs the authorised calls.
	API *apicall.Client
	// DriveBase and SheetsBase are the API base URLs.
	DriveBase, SheetsBase string
}

// NewClient returns a client; empty bases mean the defaults.
func NewClient(typ string, tokens apicall.Tokens, httpc *http.Client, driveBase, sheetsBase string, maxResponse int64) *Client {
	if driveBase == "" {
		driveBase = DefaultDriveBaseURL
	}
	if sheetsBase == "" {
		sheetsBase = DefaultSheetsBaseURL
	}
	return &Client{
		API:       &apicall.Client{Type: typ, Provider: "google", Tokens: tokens, HTTP: httpc, MaxResponse: maxResponse},
		DriveBase: strings.TrimRight(driveBase, "/"), SheetsBase: strings.TrimRight(sheetsBase, "/"),
	}
}

// Call is one JSON call.
type Call struct {
	// Account names the connected Google account.
	Account string
	// Method and URL say what to call.
	Method, URL string
	// Body is encoded as JSON when not nil; Raw is sent as is with
	// ContentType instead.
	Body        any
	Raw         []byte
	ContentType string
	// Retry says whether a transport failure or 5xx may be retried (reads
	// and idempotent writes); 429 is always retried.
	Retry bool
}

// Do performs c and decodes a JSON answer into out (when not nil); it
// returns the raw body too.
func (g *Client) Do(ctx context.Context, c Call, out any) ([]byte, error) {
	h := http.Header{"Accept": {"application/json"}}
	body := c.Raw
	if c.Body != nil {
		b, err := json.Marshal(c.Body)
		if err != nil {
			return nil, action.Failed(fmt.Errorf("%s action: encode request: %w", g.API.Type, err))
		}
		body = b
		h.Set("Content-Type", "application/json")
	} else if c.ContentType != "" {
		h.Set("Content-Type", c.ContentType)
	}
	resp, err := g.API.Do(ctx, apicall.Request{Account: c.Account, Method: c.Method, URL: c.URL, Header: h, Body: body})
	if err != nil {
		var notSent *apicall.NotSentError
		if !c.Retry && action.Classify(err) == action.KindTransient && !errors.As(err, &notSent) {
			return nil, action.Failed(fmt.Errorf("%w (not retried: Google may already have applied this change)", err))
		}
		return nil, err
	}
	if err := apicall.StatusError(g.API.Type, resp); err != nil {
		if !c.Retry && resp.Status != http.StatusTooManyRequests && action.Classify(err) == action.KindTransient {
			return nil, action.Failed(fmt.Errorf("%w (not retried: Google may already have applied this change)", err))
		}
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, action.Failed(fmt.Errorf("%s action: %s %s: decode answer: %w", g.API.Type, c.Method, c.URL, err))
		}
	}
	return resp.Body, nil
}

// InvalidPathChars are not allowed in folder and file names.
const InvalidPathChars = `<>:"\|?*`

// SplitPath splits "a/b/c.txt" into folders ["a","b"] and name "c.txt",
// checking each part.
func SplitPath(p string) (folders []string, name string, err error) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for _, s := range parts {
		if s == "" || s == "." || s == ".." {
			return nil, "", fmt.Errorf("path %q has an empty or relative part", p)
		}
		if strings.ContainsAny(s, InvalidPathChars) {
			return nil, "", fmt.Errorf("path %q contains a character that is not allowed (%s)", p, InvalidPathChars)
		}
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}

func quoteQ(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

type fileList struct {
	Files []File `json:"files"`
}

// File is a Drive file's metadata.
type File struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	MimeType    string   `json:"mimeType"`
	WebViewLink string   `json:"webViewLink"`
	Parents     []string `json:"parents"`
}

// Find returns the first non-trashed file named name in parent (folders
// only when folder is set), or nil.
func (g *Client) Find(ctx context.Context, account, parent, name string, folder bool) (*File, error) {
	q := fmt.Sprintf("name = %s and %s in parents and trashed = false", quoteQ(name), quoteQ(parent))
	if folder {
		q += " and mimeType = " + quoteQ(FolderMIME)
	} else {
		q += " and mimeType != " + quoteQ(FolderMIME)
	}
	v := url.Values{"q": {q}, "fields": {"files(id,name,mimeType,webViewLink,parents)"}, "spaces": {"drive"}, "pageSize": {"10"}}
	var out fileList
	if _, err := g.Do(ctx, Call{Account: account, Method: "GET", URL: g.DriveBase + "/drive/v3/files?" + v.Encode(), Retry: true}, &out); err != nil {
		return nil, err
	}
	if len(out.Files) == 0 {
		return nil, nil
	}
	return &out.Files[0], nil
}

// EnsureFolders finds or creates the folder path below the Drive's root
// and returns the last folder's id ("root" for an empty path).
func (g *Client) EnsureFolders(ctx context.Context, account string, folders []string) (string, error) {
	parent := "root"
	for _, name := range folders {
		f, err := g.Find(ctx, account, parent, name, true)
		if err != nil {
			return "", err
		}
		if f == nil {
			var created File
			_, err := g.Do(ctx, Call{Account: account, Method: "POST", URL: g.DriveBase + "/drive/v3/files?fields=id,name",
				Body: map[string]any{"name": name, "mimeType": FolderMIME, "parents": []string{parent}}}, &created)
			if err != nil {
				return "", fmt.Errorf("create folder %q: %w", name, err)
			}
			if created.ID == "" {
				return "", action.Failed(errors.New("create folder: Drive answered no id"))
			}
			parent = created.ID
			continue
		}
		parent = f.ID
	}
	return parent, nil
}

// Move puts file id into folder, out of its current parents.
func (g *Client) Move(ctx context.Context, account, id, folder string) error {
	var f File
	if _, err := g.Do(ctx, Call{Account: account, Method: "GET", URL: g.DriveBase + "/drive/v3/files/" + url.PathEscape(id) + "?fields=parents", Retry: true}, &f); err != nil {
		return err
	}
	v := url.Values{"addParents": {folder}, "fields": {"id,parents"}}
	if len(f.Parents) > 0 {
		v.Set("removeParents", strings.Join(f.Parents, ","))
	}
	_, err := g.Do(ctx, Call{Account: account, Method: "PATCH", URL: g.DriveBase + "/drive/v3/files/" + url.PathEscape(id) + "?" + v.Encode(), Body: map[string]any{}, Retry: true}, nil)
	return err
}
