// Package files implements Mechanic's files action (docs:
// core/actions/files.md): its options are a hash of filenames to file
// generators; the generated files are stored for a limited time (Store)
// and served at unguessable URLs (Handler), and the result describes them.
//
// The result has the options' keys, each with {"expires_at": ISO 8601
// time, "mime_type", "name", "size" (bytes), "url"}. URLs are
// BaseURL + PathPrefix + token + "/" + escaped filename; the token holds
// 256 random bits. Each file is limited to 20 MB (filegen.MaxFileBytes).
package files

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type name the files action is registered under.
const Type = "files"

// PathPrefix is the URL path under which Handler serves stored files:
// PathPrefix + token + "/" + filename.
const PathPrefix = "/files/"

// Config configures a Performer.
type Config struct {
	// Store keeps the generated files; required.
	Store *Store
	// Generators produce the files; nil means plaintext, base64 and zip only.
	Generators *filegen.Generators
	// BaseURL is the service's public URL (e.g. "https://sprocket.example.com"),
	// prefixed to file URLs; empty leaves URLs relative ("/files/…").
	BaseURL string
	// Logger receives one debug record per stored file; nil discards.
	Logger *slog.Logger
}

// Performer performs files actions. It is safe for concurrent use.
type Performer struct {
	cfg Config
	log *slog.Logger
}

// New returns a Performer; cfg.Store is required.
func New(cfg Config) (*Performer, error) {
	if cfg.Store == nil {
		return nil, errors.New("files action: no store configured")
	}
	if cfg.Generators == nil {
		cfg.Generators = &filegen.Generators{}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Performer{cfg: cfg, log: log}, nil
}

func parse(options any) (*value.Map, error) {
	m, ok := options.(*value.Map)
	if !ok {
		return nil, action.Invalid(Type, "", "must be a hash of filenames to file generators, got %s", value.TypeName(options))
	}
	if err := filegen.CheckAll(Type, "", m); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks that the options are a hash of filenames to valid file
// generators.
func (p *Performer) Validate(options any) error {
	_, err := parse(options)
	return err
}

// Perform generates and stores every file, then returns their descriptions.
// Nothing is stored unless every file could be generated.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	m, err := parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	gen := p.cfg.Generators.For(Type, "")
	generated, err := gen.GenerateAll(ctx, m)
	if err != nil {
		var ve *action.ValidationError
		if errors.As(err, &ve) {
			return action.Result{}, err // already names the action and option
		}
		return action.Result{}, fmt.Errorf("files action: %w", err)
	}
	res := value.NewMap(len(generated))
	for _, f := range generated {
		mt := filegen.ContentType(f)
		if base, _, err := mime.ParseMediaType(mt); err == nil {
			mt = base
		}
		sf, err := p.cfg.Store.Put(ctx, f.Name, mt, f.Data)
		if err != nil {
			return action.Result{}, fmt.Errorf("files action: store %q: %w", f.Name, err) // classified as failed: disk trouble is not transient
		}
		p.log.LogAttrs(ctx, slog.LevelDebug, "files action: stored",
			slog.String("run_id", req.RunID), slog.String("name", f.Name), slog.Int64("size", sf.Size))
		entry := value.NewMap(5)
		entry.Set("expires_at", sf.ExpiresAt.Format(time.RFC3339))
		entry.Set("mime_type", sf.MimeType)
		entry.Set("name", f.Name)
		entry.Set("size", sf.Size)
		entry.Set("url", p.URL(sf))
		res.Set(f.Name, entry)
	}
	return action.Result{Value: res}, nil
}

// URL is where f is served.
func (p *Performer) URL(f StoredFile) string {
	return p.cfg.BaseURL + PathPrefix + f.Token + "/" + url.PathEscape(f.Name)
}

// Handler serves stored files at PathPrefix + token + "/" + filename (GET
// and HEAD, with range requests); unknown, expired and misnamed files are
// 404. Mount it at PathPrefix.
type Handler struct {
	// Store holds the files.
	Store *Store
}

// activeTypes are media types a browser would run as a page; they are
// served as downloads in a sandbox, never inline.
var activeTypes = []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript", "application/javascript"}

// ServeHTTP implements http.Handler.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), PathPrefix)
	token, escName, ok2 := strings.Cut(rest, "/")
	name, err := url.PathUnescape(escName)
	if !ok || !ok2 || err != nil || strings.Contains(escName, "/") {
		http.NotFound(w, r)
		return
	}
	f, data, err := h.Store.Open(token)
	if errors.Is(err, ErrNotFound) || (err == nil && f.Name != name) {
		if data != nil {
			_ = data.Close()
		}
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "could not read the file", http.StatusInternalServerError)
		return
	}
	defer data.Close()
	hd := w.Header()
	hd.Set("Content-Type", f.MimeType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "private, max-age="+strconv.Itoa(max(0, int(time.Until(f.ExpiresAt).Seconds()))))
	disposition := "inline"
	for _, t := range activeTypes {
		if strings.EqualFold(f.MimeType, t) {
			disposition = "attachment"
			hd.Set("Content-Security-Policy", "sandbox; default-src 'none'")
		}
	}
	hd.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(w, r, "", time.Time{}, data)
}
