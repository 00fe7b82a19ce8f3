package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Globals, secrets and event filters, in the shape of Mechanic's v1 API
// (platform/mechanic-task-sync-api.md): GET /v1/globals answers
// {"globals": [{key, value, created_at, updated_at}]}, PUT
// /v1/globals/{key} takes {"global": {"value": …}}; GET /v1/secrets
// answers metadata only, {"secrets": [{key, value_present,
// approximate_task_reference_count, created_at, updated_at}]}, PUT
// /v1/secrets/{key} takes {"secret": {"value": "…"}}. Event filters
// (platform/events/filters.md) are {"name", "template"} at
// /v1/event_filters/{name}.

func settingKeyParam(r *http.Request) (string, error) {
	key := r.PathValue("key")
	if !settingKey.MatchString(key) {
		return "", errorf(http.StatusBadRequest, "key", "keys are lower snake case starting with a letter (a-z, 0-9, _), got %q", key)
	}
	return key, nil
}

type globalJSON struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func (s *Service) listGlobals(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "globals", p,
		func(p store.Page) ([]store.Setting, string, error) {
			return s.st.ListSettingsPage(r.Context(), store.SettingGlobal, p)
		}, settingCursor, func(g store.Setting) (any, error) {
			return globalJSON{Key: g.Key, Value: g.Value, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}, nil
		})
	if err != nil {
		return 0, nil, pageError("list globals", err)
	}
	return http.StatusOK, body, nil
}

func (s *Service) putGlobal(r *http.Request) (int, any, error) {
	key, err := settingKeyParam(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Global *struct {
			Value json.RawMessage `json:"value"`
		} `json:"global"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Global == nil || len(in.Global.Value) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "global.value", `send {"global": {"value": ...}}`)
	}
	g, err := s.st.PutSetting(r.Context(), store.SettingGlobal, key, in.Global.Value)
	if err != nil {
		return 0, nil, fmt.Errorf("put global: %w", err)
	}
	s.vault.invalidate()
	return http.StatusOK, map[string]any{"global": globalJSON{Key: g.Key, Value: g.Value, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}}, nil
}

func (s *Service) deleteSetting(kind store.SettingKind, what string) apiHandler {
	return func(r *http.Request) (int, any, error) {
		key := r.PathValue("key")
		err := s.st.DeleteSetting(r.Context(), kind, key)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, errorf(http.StatusNotFound, "key", "%s %q not found", what, key)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("delete %s: %w", what, err)
		}
		s.vault.invalidate()
		return http.StatusNoContent, nil, nil
	}
}

type secretJSON struct {
	Key                           string    `json:"key"`
	ValuePresent                  bool      `json:"value_present"`
	ApproximateTaskReferenceCount int       `json:"approximate_task_reference_count"`
	CreatedAt                     time.Time `json:"created_at"`
	UpdatedAt                     time.Time `json:"updated_at"`
}

// secretReferences counts, for each key, the tasks whose definition
// mentions it as secrets.<key> or as the value of a secret option.
func (s *Service) secretReferences(r *http.Request, keys []string) (map[string]int, error) {
	counts := make(map[string]int, len(keys))
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		ts, next, err := s.st.ListTasks(r.Context(), store.TaskFilter{Page: p})
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		for _, t := range ts {
			def := string(t.Definition)
			var chosen map[string]bool
			if parsed, err := task.Parse(t.Definition); err == nil && parsed.Options != nil {
				parsed.Options.Each(func(k string, v any) bool {
					if ok, err := task.ParseOptionKey(k); err == nil && ok.Kind() == task.KindSecret {
						if name, isStr := v.(string); isStr {
							if chosen == nil {
								chosen = map[string]bool{}
							}
							chosen[name] = true
						}
					}
					return true
				})
			}
			for _, k := range keys {
				if strings.Contains(def, "secrets."+k) || strings.Contains(def, `secrets[\"`+k+`\"]`) ||
					strings.Contains(def, "secrets['"+k+"']") || chosen[k] {
					counts[k]++
				}
			}
		}
		if next == "" {
			return counts, nil
		}
		p.Cursor = next
	}
}

func (s *Service) listSecrets(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	ss, next, err := s.st.ListSettingsPage(r.Context(), store.SettingSecret, p)
	if err != nil {
		return 0, nil, pageError("list secrets", err)
	}
	keys := make([]string, len(ss))
	for i, x := range ss {
		keys[i] = x.Key
	}
	refs, err := s.secretReferences(r, keys)
	if err != nil {
		return 0, nil, err
	}
	body, err := listOut(s.cfg.MaxListBytes, "secrets", ss, next, settingCursor, func(x store.Setting) (any, error) {
		return secretJSON{Key: x.Key, ValuePresent: len(x.Value) > 0, ApproximateTaskReferenceCount: refs[x.Key], CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}, nil
	})
	return http.StatusOK, body, err
}

func (s *Service) putSecret(r *http.Request) (int, any, error) {
	key, err := settingKeyParam(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Secret *struct {
			Value *string `json:"value"`
		} `json:"secret"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Secret == nil || in.Secret.Value == nil {
		return 0, nil, errorf(http.StatusBadRequest, "secret.value", `send {"secret": {"value": "..."}} with a string value`)
	}
	x, err := s.PutSecret(r.Context(), key, *in.Secret.Value)
	if err != nil {
		return 0, nil, err
	}
	refs, err := s.secretReferences(r, []string{key})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"secret": secretJSON{Key: x.Key, ValuePresent: true, ApproximateTaskReferenceCount: refs[key], CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}}, nil
}

type eventFilterJSON struct {
	Name      string    `json:"name"`
	Template  string    `json:"template"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s *Service) listEventFilters(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "event_filters", p,
		func(p store.Page) ([]store.Setting, string, error) {
			return s.st.ListSettingsPage(r.Context(), store.SettingEventFilter, p)
		}, settingCursor, func(f store.Setting) (any, error) {
			var v struct{ Name, Template string }
			if err := json.Unmarshal(f.Value, &v); err != nil {
				return nil, fmt.Errorf("read event filter %q: %w", f.Key, err)
			}
			return eventFilterJSON{Name: v.Name, Template: v.Template, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}, nil
		})
	if err != nil {
		return 0, nil, pageError("list event filters", err)
	}
	return http.StatusOK, body, nil
}

// putEventFilter stores an event filter: a Liquid template rendered in
// every event run with event, shop and cache; an output of "false" stops
// the event.
func (s *Service) putEventFilter(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	if strings.TrimSpace(name) == "" {
		return 0, nil, errorf(http.StatusBadRequest, "name", "name is required")
	}
	var in struct {
		Template *string `json:"template"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Template == nil {
		return 0, nil, errorf(http.StatusBadRequest, "template", "template is required")
	}
	raw, err := json.Marshal(map[string]string{"name": name, "template": *in.Template})
	if err != nil {
		return 0, nil, fmt.Errorf("encode event filter: %w", err)
	}
	f, err := s.st.PutSetting(r.Context(), store.SettingEventFilter, name, raw)
	if err != nil {
		return 0, nil, fmt.Errorf("put event filter: %w", err)
	}
	s.vault.invalidate()
	return http.StatusOK, eventFilterJSON{Name: name, Template: *in.Template, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}, nil
}

func (s *Service) deleteEventFilter(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	err := s.st.DeleteSetting(r.Context(), store.SettingEventFilter, name)
	s.vault.invalidate()
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusNotFound, "name", "event filter %q not found", name)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete event filter: %w", err)
	}
	return http.StatusNoContent, nil, nil
}

// MaxAPITokens is how many tokens may be created through the API (the
// admin token aside), as Mechanic allows five per shop.
const MaxAPITokens = 5

// apiTokenIDLen is how many hex digits of a token's hash name it.
const apiTokenIDLen = 16

type apiTokenJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token,omitempty"`
}

func (s *Service) listAPITokens(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	list, next, err := s.st.ListSettingsPage(r.Context(), store.SettingAPIToken, p)
	if err != nil {
		return 0, nil, pageError("list API tokens", err)
	}
	body, err := listOut(s.cfg.MaxListBytes, "api_tokens", list, next, settingCursor, func(x store.Setting) (any, error) {
		var meta struct{ Name string }
		_ = json.Unmarshal(x.Value, &meta)
		return apiTokenJSON{ID: x.Key[:min(apiTokenIDLen, len(x.Key))], Name: meta.Name, CreatedAt: x.CreatedAt}, nil
	})
	return http.StatusOK, body, err
}

// createAPIToken creates a token, answered once in "token"; only its
// SHA-256 hash is stored.
func (s *Service) createAPIToken(r *http.Request) (int, any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	t, token, err := s.CreateAPIToken(r.Context(), in.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, apiTokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Token: token}, nil
}

// revokeAPIToken deletes a token created through the API.
func (s *Service) revokeAPIToken(r *http.Request) (int, any, error) {
	id := pathID(r)
	list, err := s.st.ListSettings(r.Context(), store.SettingAPIToken)
	if err != nil {
		return 0, nil, fmt.Errorf("list API tokens: %w", err)
	}
	for _, x := range list {
		if len(id) < apiTokenIDLen || !strings.HasPrefix(x.Key, id) {
			continue
		}
		if err := s.st.DeleteSetting(r.Context(), store.SettingAPIToken, x.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, nil, fmt.Errorf("revoke API token: %w", err)
		}
		if err := s.auth.loadTokens(r.Context(), s.st); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, errorf(http.StatusNotFound, "id", "API token %q not found", id)
}

// PutSecret stores a task secret, sealed with the installation's key
// (values are write-only: nothing returns them), and lets runs see it at
// once.
func (s *Service) PutSecret(ctx context.Context, key, value string) (store.Setting, error) {
	if !settingKey.MatchString(key) {
		return store.Setting{}, errorf(http.StatusBadRequest, "key", "keys are lower snake case starting with a letter, got %q", key)
	}
	raw, err := sealSecret(s.box, key, value)
	if err != nil {
		return store.Setting{}, fmt.Errorf("seal secret: %w", err)
	}
	x, err := s.st.PutSetting(ctx, store.SettingSecret, key, raw)
	if err != nil {
		return store.Setting{}, fmt.Errorf("put secret: %w", err)
	}
	s.vault.invalidate()
	return x, nil
}
