package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/store"
)

// taskPauser implements pipeline.TaskPauser: it disables a runaway task
// and records the reason, which the task API shows as "paused" until the
// task is enabled again.
type taskPauser struct {
	st interface {
		store.Settings
		SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error)
	}
}

// PauseTask disables the task and records why.
func (p taskPauser) PauseTask(ctx context.Context, taskID, reason string) error {
	rec, err := json.Marshal(map[string]any{"reason": reason, "paused_at": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("encode pause record: %w", err)
	}
	if _, err := p.st.PutSetting(ctx, store.SettingTaskPause, taskID, rec); err != nil {
		return fmt.Errorf("record pause of task %s: %w", taskID, err)
	}
	if _, err := p.st.SetTaskEnabled(ctx, taskID, false); err != nil {
		return fmt.Errorf("disable task %s: %w", taskID, err)
	}
	return nil
}

// pauses reads the pause records of tasks, by task id.
func (s *Service) pauses(ctx context.Context) (map[string]json.RawMessage, error) {
	sets, err := s.st.ListSettings(ctx, store.SettingTaskPause)
	if err != nil {
		return nil, fmt.Errorf("list task pauses: %w", err)
	}
	out := make(map[string]json.RawMessage, len(sets))
	for _, st := range sets {
		out[st.Key] = st.Value
	}
	return out, nil
}

// clearPause forgets a task's pause record (it was enabled again).
func (s *Service) clearPause(ctx context.Context, taskID string) error {
	err := s.st.DeleteSetting(ctx, store.SettingTaskPause, taskID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("clear pause of task %s: %w", taskID, err)
	}
	return nil
}

// pauserFor returns the pauser of st, or nil when st cannot set a task's
// enabled flag alone (the pipeline then disables tasks itself).
func pauserFor(st store.Store) pipeline.TaskPauser {
	te, ok := st.(interface {
		store.Settings
		SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error)
	})
	if !ok {
		return nil
	}
	return taskPauser{st: te}
}
