package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Storefront JavaScript (docs: core/tasks/advanced-settings/javascript.md):
// each enabled task's online_store_javascript (and order_status_javascript)
// is rendered as Liquid with only the shop and options variables, and the
// results are served together from a stable URL, which the service
// registers with the shop as a script tag.

// Paths of the rendered scripts.
const (
	storefrontJSPath  = "/shopify/storefront.js"
	orderStatusJSPath = "/shopify/order_status.js"
	scriptCacheTTL    = 30 * time.Second
)

// scripts renders and caches the tasks' storefront JavaScript.
type scripts struct {
	s   *Service
	eng *liquid.Engine

	mu    sync.Mutex
	at    time.Time
	cache map[string]string // path → script
}

func newScripts(s *Service) *scripts {
	return &scripts{s: s, eng: dialect.NewEngine(dialect.Options{})}
}

// serve answers GET of either script path.
func (sc *scripts) serve(w http.ResponseWriter, r *http.Request) {
	body, err := sc.get(r.Context(), r.URL.Path)
	if err != nil {
		sc.s.log.Error("storefront javascript", "error", err)
		http.Error(w, "the script could not be rendered", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	fmt.Fprint(w, body)
}

// get returns the script of path, rendering all of them when the cache is old.
func (sc *scripts) get(ctx context.Context, path string) (string, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.cache == nil || time.Since(sc.at) > scriptCacheTTL {
		out, err := sc.render(ctx)
		if err != nil {
			return "", err
		}
		sc.cache, sc.at = out, time.Now()
	}
	return sc.cache[path], nil
}

// invalidate drops the cache (after a task change).
func (sc *scripts) invalidate() {
	sc.mu.Lock()
	sc.cache = nil
	sc.mu.Unlock()
}

// render renders every enabled task's scripts.
func (sc *scripts) render(ctx context.Context) (map[string]string, error) {
	var shop any = shopIn(sc.s.cfg.Location)
	if m, err := liveShop(ctx, sc.s.shop, shopIn(sc.s.cfg.Location)); err == nil {
		shop = m
	}
	var online, status strings.Builder
	enabled := true
	cursor := ""
	for {
		list, next, err := sc.s.st.ListTasks(ctx, store.TaskFilter{Enabled: &enabled, Page: store.Page{Cursor: cursor, Limit: store.MaxPageLimit}})
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		for _, st := range list {
			t, err := task.Parse(st.Definition)
			if err != nil {
				continue
			}
			for _, part := range []struct {
				src *string
				out *strings.Builder
			}{{t.OnlineStoreJavaScript, &online}, {t.OrderStatusJavaScript, &status}} {
				if part.src == nil || strings.TrimSpace(*part.src) == "" {
					continue
				}
				js, err := sc.renderOne(ctx, *part.src, t, shop)
				if err != nil {
					// One broken task must not take the others' scripts down.
					sc.s.log.Warn("task javascript not rendered", "task", st.ID, "error", err)
					fmt.Fprintf(part.out, "/* task %s: javascript not rendered: %s */\n", st.ID, jsComment(err.Error()))
					continue
				}
				fmt.Fprintf(part.out, "/* task %s: %s */\n;(function(){\n%s\n})();\n", st.ID, jsComment(st.Name), js)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return map[string]string{storefrontJSPath: online.String(), orderStatusJSPath: status.String()}, nil
}

func (sc *scripts) renderOne(ctx context.Context, src string, t *task.Task, shop any) (string, error) {
	tmpl, err := sc.eng.Parse(src)
	if err != nil {
		return "", err
	}
	opts := t.Options
	if opts == nil {
		opts = value.NewMap(0)
	}
	var errs []error
	out, err := tmpl.Render(ctx, map[string]any{"shop": shop, "options": opts}, &liquid.RenderOptions{Errors: &errs})
	if err != nil {
		return "", err
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return out, nil
}

// jsComment makes s safe inside a /* */ comment.
func jsComment(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "*/", "* /"), "\n", " ")
}

// syncScriptTags registers (or removes) the service's script tags with the
// shop: one per script that has content.
func (sc *scripts) syncScriptTags(ctx context.Context, api ShopifyAPI, base string) map[string]string {
	failed := map[string]string{}
	for _, s := range []struct{ path, scope string }{{storefrontJSPath, "online_store"}, {orderStatusJSPath, "order_status"}} {
		src := strings.TrimRight(base, "/") + s.path
		body, err := sc.get(ctx, s.path)
		if err != nil {
			failed[s.path] = err.Error()
			continue
		}
		if err := ensureScriptTag(ctx, api, src, s.scope, strings.TrimSpace(body) != ""); err != nil {
			failed[s.path] = err.Error()
		}
	}
	return failed
}

// ensureScriptTag makes a script tag for src exist (want) or not.
func ensureScriptTag(ctx context.Context, api ShopifyAPI, src, scope string, want bool) error {
	resp, err := api.REST(ctx, shopify.RESTRequest{Method: "GET", Path: "script_tags.json", Query: url.Values{"src": {src}}})
	if err != nil {
		return fmt.Errorf("list script tags: %w", err)
	}
	var list struct {
		ScriptTags []struct {
			ID  int64  `json:"id"`
			Src string `json:"src"`
		} `json:"script_tags"`
	}
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return fmt.Errorf("list script tags: %w", err)
	}
	have := 0
	for _, st := range list.ScriptTags {
		if st.Src != src {
			continue
		}
		if want && have == 0 {
			have++
			continue
		}
		if _, err := api.REST(ctx, shopify.RESTRequest{Method: "DELETE", Path: fmt.Sprintf("script_tags/%d.json", st.ID)}); err != nil {
			return fmt.Errorf("delete script tag: %w", err)
		}
	}
	if want && have == 0 {
		body, _ := json.Marshal(map[string]any{"script_tag": map[string]any{"event": "onload", "src": src, "display_scope": scope}})
		if _, err := api.REST(ctx, shopify.RESTRequest{Method: "POST", Path: "script_tags.json", Body: body}); err != nil {
			return fmt.Errorf("create script tag: %w", err)
		}
	}
	return nil
}
