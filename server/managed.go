package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// managedTasks records the tasks a tasks folder (serve --tasks-dir)
// manages: their source path and the last problem loading it.
type managedTasks struct {
	mu sync.Mutex
	m  map[string]managedTask
}

type managedTask struct {
	source string
	err    string
}

func (m *managedTasks) get(id string) (managedTask, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.m[id]
	return t, ok
}

func (m *managedTasks) set(id string, t managedTask) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]managedTask)
	}
	m.m[id] = t
}

// ApplyFolderTask stores the task t read from source (a file or folder
// under serve --tasks-dir) under id: created and enabled the first time,
// its content replaced afterwards, enabled again if a deletion had
// disabled it. The task is marked as managed by the folder in the API,
// which then refuses edits to it.
func (s *Service) ApplyFolderTask(ctx context.Context, id, source string, t *task.Task) (store.Task, error) {
	defer s.tasksChanged()
	if probs := syntaxProblems(t); len(probs) > 0 {
		msg := "Liquid syntax errors:"
		for _, p := range probs {
			msg += fmt.Sprintf(" %s line %d: %s;", p.Field, p.Line, p.Message)
		}
		err := errors.New(strings.TrimSuffix(msg, ";"))
		s.managed.set(id, managedTask{source: source, err: err.Error()})
		return store.Task{}, err
	}
	if err := ResolveSubscriptions(ctx, t); err != nil {
		s.managed.set(id, managedTask{source: source, err: err.Error()})
		return store.Task{}, err
	}
	def, err := t.MarshalJSON()
	if err != nil {
		return store.Task{}, err
	}
	s.managed.set(id, managedTask{source: source})
	cur, err := s.st.UpdateTaskContent(ctx, id, t.Name, append([]string{}, t.Subscriptions...), def, nil)
	if errors.Is(err, store.ErrNotFound) {
		cur, _, err = CreateTask(ctx, s.st, t, id)
	}
	if err != nil {
		s.managed.set(id, managedTask{source: source, err: err.Error()})
		return store.Task{}, fmt.Errorf("%s: %w", source, err)
	}
	if !cur.Enabled {
		en, probs, err := s.setTaskEnabled(ctx, id, true)
		if err != nil {
			msg := err.Error()
			for _, p := range taskProblems(probs) {
				msg += "; " + p.Field + ": " + p.Message
			}
			s.managed.set(id, managedTask{source: source, err: msg})
			return cur, fmt.Errorf("%s: enable: %s", source, msg)
		}
		cur = en
	}
	return cur, nil
}

// FolderTaskError reports a problem with the file of a folder-managed
// task (the stored version keeps running); the API shows it as
// "folder_error".
func (s *Service) FolderTaskError(id, source string, problem error) {
	s.managed.set(id, managedTask{source: source, err: problem.Error()})
}

// DisableFolderTask disables a folder-managed task whose file was deleted.
func (s *Service) DisableFolderTask(ctx context.Context, id, source string) error {
	defer s.tasksChanged()
	s.managed.set(id, managedTask{source: source, err: "the task's file was deleted; the task is disabled"})
	if _, _, err := s.setTaskEnabled(ctx, id, false); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: disable: %w", source, err)
	}
	return nil
}

// refuseManaged wraps a task API endpoint that changes a task: tasks
// managed by a tasks folder are changed by editing their files only.
func (s *Service) refuseManaged(h apiHandler) apiHandler {
	return func(r *http.Request) (int, any, error) {
		if mt, ok := s.managed.get(pathID(r)); ok {
			return 0, nil, errorf(http.StatusConflict, "id", "task %s is managed by the tasks folder (%s); edit its file instead", pathID(r), mt.source)
		}
		return h(r)
	}
}

// markManaged wraps a task API endpoint that answers tasks: each task
// managed by a tasks folder gets "managed_by" (its source) and
// "folder_error" (the last problem loading it, or null).
func (s *Service) markManaged(h apiHandler) apiHandler {
	return func(r *http.Request) (int, any, error) {
		status, body, err := h(r)
		if err != nil {
			return status, body, err
		}
		switch b := body.(type) {
		case json.RawMessage:
			return status, s.markTask(b), nil
		case map[string]any:
			if items, ok := b["tasks"].([]json.RawMessage); ok {
				for i := range items {
					items[i] = s.markTask(items[i])
				}
			}
		}
		return status, body, nil
	}
}

func (s *Service) markTask(raw json.RawMessage) json.RawMessage {
	v, err := value.FromJSON(raw)
	if err != nil {
		return raw
	}
	m, ok := v.(*value.Map)
	if !ok {
		return raw
	}
	id, _ := m.Get("id")
	ids, _ := id.(string)
	mt, ok := s.managed.get(ids)
	if !ok {
		return raw
	}
	m.Set("managed_by", mt.source)
	if mt.err != "" {
		m.Set("folder_error", mt.err)
	} else {
		m.Set("folder_error", nil)
	}
	out, err := value.ToJSON(m)
	if err != nil {
		return raw
	}
	return out
}

// FolderManaged reports whether the task id is managed by the tasks folder
// and its source, for front ends (the web UI) that must refuse edits too.
func (s *Service) FolderManaged(id string) (source string, ok bool) {
	mt, ok := s.managed.get(id)
	return mt.source, ok
}
