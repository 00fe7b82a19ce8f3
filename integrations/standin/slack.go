package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Slack serves Slack's Web API methods chat.postMessage, chat.update and
// chat.delete: JSON bodies, bearer tokens of OAuth, answers with "ok"
// (errors as 200 {"ok": false, "error": code}, as Slack does) and 429 with
// Retry-After when rate limited.
type Slack struct {
	// OAuth issues and checks tokens.
	OAuth *OAuthServer
	// RateLimit makes the next n calls answer 429 with Retry-After.
	RateLimit int

	mu       sync.Mutex
	messages map[string]map[string]any // channel:ts → message
	ts       int
	// Log lists each call: "team method channel".
	Log []string
}

// Mount adds the methods under prefix (the API base, e.g. "/slack/api").
func (s *Slack) Mount(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("POST "+prefix+"/{method}", s.serve)
}

// Messages returns the messages currently posted, by channel:ts.
func (s *Slack) Messages() map[string]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]any{}
	for k, v := range s.messages {
		out[k] = v
	}
	return out
}

func slackErr(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func (s *Slack) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.RateLimit > 0 {
		s.RateLimit--
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	s.mu.Unlock()
	id, ok := s.OAuth.Valid(r)
	if !ok {
		slackErr(w, "invalid_auth")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		slackErr(w, "invalid_form_data")
		return
	}
	var in map[string]any
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &in); err != nil {
		slackErr(w, "invalid_json")
		return
	}
	channel, _ := in["channel"].(string)
	if channel == "" {
		slackErr(w, "channel_not_found")
		return
	}
	team := fmt.Sprint(id["team"])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.messages == nil {
		s.messages = map[string]map[string]any{}
	}
	method := r.PathValue("method")
	s.Log = append(s.Log, team+" "+method+" "+channel)
	switch method {
	case "chat.postMessage":
		if in["text"] == nil && in["blocks"] == nil && in["attachments"] == nil {
			slackErr(w, "no_text")
			return
		}
		s.ts++
		ts := fmt.Sprintf("1700000000.%06d", s.ts)
		msg := map[string]any{"type": "message", "text": in["text"], "ts": ts, "team": team}
		if in["blocks"] != nil {
			msg["blocks"] = in["blocks"]
		}
		s.messages[channel+":"+ts] = msg
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts, "message": msg})
	case "chat.update":
		ts, _ := in["ts"].(string)
		msg := s.messages[channel+":"+ts]
		if msg == nil {
			slackErr(w, "message_not_found")
			return
		}
		msg["text"] = in["text"]
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts, "text": in["text"]})
	case "chat.delete":
		ts, _ := in["ts"].(string)
		if s.messages[channel+":"+ts] == nil {
			slackErr(w, "message_not_found")
			return
		}
		delete(s.messages, channel+":"+ts)
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts})
	default:
		slackErr(w, "unknown_method")
	}
}
