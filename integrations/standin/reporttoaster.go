package standin

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

// ReportToaster receives the report_toaster action's requests: a JSON POST
// with a bearer API key, answered {"ok": true, "queued": [...]} for
// reports and {"ok": true, "updated": n} for updates.
type ReportToaster struct {
	// APIKey is the key requests must carry.
	APIKey string

	mu       sync.Mutex
	Requests []map[string]any
}

// ServeHTTP implements http.Handler.
func (rt *ReportToaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+rt.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error": "invalid api key"})
		return
	}
	var in map[string]any
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	rt.mu.Lock()
	rt.Requests = append(rt.Requests, in)
	rt.mu.Unlock()
	switch in["operation"] {
	case "report":
		batch, _ := in["batch"].([]any)
		if batch == nil {
			batch, _ = in["reports"].([]any)
		}
		ids := []any{}
		for _, item := range batch {
			m, _ := item.(map[string]any)
			ids = append(ids, m["id"])
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "queued": ids})
	case "update":
		orders, _ := in["Order"].([]any)
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "updated": len(orders)})
	default:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"ok": false, "error": "unknown operation"})
	}
}
