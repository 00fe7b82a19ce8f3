package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// Run links (Mechanic's platform/integrations/run-links.md): URLs that
// start a task run, for bookmarks, emails and other apps. Mechanic's links
// live in the Shopify admin, behind its login; Sprocket's are minted
// through the API and signed, so they work without a session but only as
// issued:
//
//   - /run/tasks/{id}: a mechanic/user/trigger event for the task, or with
//     ?data=… a mechanic/user/text event carrying that text;
//   - /run/tasks?resource_type=order&ids[]=1&ids[]=2: what Shopify admin
//     action links send (mechanic/user/order events for subscribed tasks).
//
// Opening a link (GET) shows what it will do; the page's button POSTs
// the same URL, which creates the events. Links carry exp (Unix time) and
// sig (HMAC-SHA256 of the path and the other parameters under a key kept
// sealed in the store).
const (
	runLinkPath       = "/run/tasks"
	runLinkDefaultTTL = 30 * 24 * time.Hour
	runLinkMaxTTL     = 366 * 24 * time.Hour
	settingRunLinkKey = store.SettingKind("run_link_key")
)

// runLinkKey returns the signing key, creating it on first use.
func (s *Service) runLinkKey(ctx context.Context) ([]byte, error) {
	st, err := s.st.GetSetting(ctx, settingRunLinkKey, "key")
	if err == nil {
		var sealed string
		if err := json.Unmarshal(st.Value, &sealed); err != nil {
			return nil, fmt.Errorf("read run link key: %w", err)
		}
		return s.box.Open(sealed, "run_link/key")
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read run link key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("run link key: %w", err)
	}
	raw, _ := json.Marshal(s.box.Seal(key, "run_link/key"))
	if _, err := s.st.PutSetting(ctx, settingRunLinkKey, "key", raw); err != nil {
		return nil, fmt.Errorf("store run link key: %w", err)
	}
	return key, nil
}

// runLinkSig signs a link's path and its parameters other than sig.
func runLinkSig(key []byte, path string, q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(path))
	for _, k := range keys {
		for _, v := range q[k] {
			fmt.Fprintf(m, "\n%s=%s", k, v)
		}
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// createRunLink answers POST /v1/run_links {"task_id", "data",
// "resource_type", "ids", "expires_in"} with {"url", "expires_at"}.
func (s *Service) createRunLink(r *http.Request) (int, any, error) {
	var in struct {
		TaskID       string  `json:"task_id"`
		Data         *string `json:"data"`
		ResourceType string  `json:"resource_type"`
		IDs          []any   `json:"ids"`
		ExpiresIn    int64   `json:"expires_in"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	ttl := runLinkDefaultTTL
	if in.ExpiresIn != 0 {
		ttl = time.Duration(in.ExpiresIn) * time.Second
		if ttl <= 0 || ttl > runLinkMaxTTL {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "expires_in", "expires_in must be 1 to %d seconds", int64(runLinkMaxTTL.Seconds()))
		}
	}
	q := url.Values{}
	path := runLinkPath
	switch {
	case in.ResourceType != "":
		if _, ok := actionLinkResources[in.ResourceType]; !ok {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "resource_type", "resource_type %q is not one of customer, order, draft_order, product, variant, collection", in.ResourceType)
		}
		if len(in.IDs) == 0 || len(in.IDs) > maxActionLinkIDs {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "ids", "give 1 to %d resource ids", maxActionLinkIDs)
		}
		q.Set("resource_type", in.ResourceType)
		for _, id := range in.IDs {
			q.Add("ids[]", strings.Trim(fmt.Sprint(id), " "))
		}
		if in.TaskID != "" {
			q.Set("task_id", in.TaskID)
		}
	case in.TaskID != "":
		t, err := s.st.GetTask(r.Context(), in.TaskID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return 0, nil, errorf(http.StatusUnprocessableEntity, "task_id", "task %q not found", in.TaskID)
			}
			return 0, nil, err
		}
		topic := topicUserTrigger
		if in.Data != nil {
			topic = topicUserText
			q.Set("data", *in.Data)
		}
		if !subscribes(t, topic) {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "task_id", "task %q does not subscribe to %s", in.TaskID, topic)
		}
		path += "/" + url.PathEscape(in.TaskID)
	default:
		return 0, nil, errorf(http.StatusUnprocessableEntity, "task_id", "give task_id, or resource_type and ids")
	}
	exp := time.Now().Add(ttl).UTC()
	q.Set("exp", strconv.FormatInt(exp.Unix(), 10))
	key, err := s.runLinkKey(r.Context())
	if err != nil {
		return 0, nil, err
	}
	q.Set("sig", runLinkSig(key, path, q))
	return http.StatusCreated, map[string]any{"url": s.publicURL(r) + path + "?" + q.Encode(), "expires_at": exp}, nil
}

// subscribes reports whether a stored task subscribes to topic.
func subscribes(t store.Task, topic string) bool {
	for _, sub := range t.Subscriptions {
		if base, _, _ := strings.Cut(sub, "+"); strings.TrimSpace(base) == topic {
			return true
		}
	}
	return false
}

// serveRunLink shows (GET) or follows (POST) a signed run link.
func (s *Service) serveRunLink(w http.ResponseWriter, r *http.Request) {
	page := func(status int, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>Sprocket run link</title><p>%s</p>\n", body)
	}
	q := r.URL.Query()
	key, err := s.runLinkKey(r.Context())
	if err != nil {
		page(http.StatusInternalServerError, "The run link could not be checked.")
		return
	}
	exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64)
	if !hmac.Equal([]byte(q.Get("sig")), []byte(runLinkSig(key, r.URL.Path, q))) {
		page(http.StatusForbidden, "This run link is not valid (it was changed, or not issued by this Sprocket).")
		return
	}
	if time.Now().Unix() > exp {
		page(http.StatusGone, "This run link has expired; ask for a new one.")
		return
	}
	what := describeRunLink(r.PathValue("id"), q)
	if r.Method == http.MethodGet {
		page(http.StatusOK, html.EscapeString(what)+`</p><form method="post"><button>Run</button></form><p>`)
		return
	}
	ids, err := s.followRunLink(r.Context(), r.PathValue("id"), q)
	if err != nil {
		var ae *apiError
		status := http.StatusInternalServerError
		if errors.As(err, &ae) {
			status = ae.status
		}
		page(status, "The run did not start: "+html.EscapeString(err.Error()))
		return
	}
	page(http.StatusOK, fmt.Sprintf("Started: %s (events %s).", html.EscapeString(what), html.EscapeString(strings.Join(ids, ", "))))
}

func describeRunLink(taskID string, q url.Values) string {
	switch {
	case q.Get("resource_type") != "":
		return fmt.Sprintf("send %d %s resource(s) to the subscribed tasks", len(q["ids[]"]), q.Get("resource_type"))
	case q.Has("data"):
		return fmt.Sprintf("run task %s with the text %q", taskID, q.Get("data"))
	}
	return "run task " + taskID
}

// followRunLink creates the link's events and returns their ids.
func (s *Service) followRunLink(ctx context.Context, taskID string, q url.Values) ([]string, error) {
	if rt := q.Get("resource_type"); rt != "" {
		body := map[string]any{"resource_type": rt, "ids": q["ids[]"]}
		if id := q.Get("task_id"); id != "" {
			body["task_ids"] = []string{id}
		}
		raw, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/v1/shop/send", bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		_, out, err := s.sendResources(req)
		if err != nil {
			return nil, err
		}
		ids, _ := out.(map[string]any)["event_ids"].([]string)
		return ids, nil
	}
	topic, data := topicUserTrigger, json.RawMessage("null")
	if q.Has("data") {
		topic = topicUserText
		data, _ = json.Marshal(q.Get("data"))
	}
	if _, err := s.st.GetTask(ctx, taskID); err != nil {
		return nil, errorf(http.StatusNotFound, "", "task %s no longer exists", taskID)
	}
	evs, err := s.st.InsertEvents(ctx, []store.NewEvent{{Topic: topic, Data: data, Source: sourceUser, TaskIDs: []string{taskID}}})
	if err != nil || len(evs) != 1 {
		return nil, fmt.Errorf("insert run link event: %w", err)
	}
	s.wake()
	return []string{evs[0].ID}, nil
}
