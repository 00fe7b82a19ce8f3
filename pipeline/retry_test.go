package pipeline

import (
	"errors"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

func TestCanRetry(t *testing.T) {
	tests := []struct {
		name string
		run  store.Run
		ok   bool
	}{
		{"pending", store.Run{Kind: store.KindTask, Status: store.StatusPending}, false},
		{"running", store.Run{Kind: store.KindAction, Status: store.StatusRunning}, false},
		{"failed action", store.Run{Kind: store.KindAction, Status: store.StatusFailed}, true},
		{"successful action", store.Run{Kind: store.KindAction, Status: store.StatusSuccess, Result: []byte(`{}`)}, false},
		{"failed task", store.Run{Kind: store.KindTask, Status: store.StatusFailed, Result: []byte(`[{"type":"echo"}]`)}, true},
		{"log-only task", store.Run{Kind: store.KindTask, Status: store.StatusSuccess, Result: []byte(`[]`)}, true},
		{"task with actions", store.Run{Kind: store.KindTask, Status: store.StatusSuccess, Result: []byte(`[{"type":"echo","options":{}}]`)}, false},
		{"event without tasks", store.Run{Kind: store.KindEvent, Status: store.StatusSuccess, Result: []byte(`[]`)}, true},
		{"filtered event", store.Run{Kind: store.KindEvent, Status: store.StatusSuccess, Result: []byte(`{"filtered_by":"x"}`)}, true},
		{"event with tasks", store.Run{Kind: store.KindEvent, Status: store.StatusSuccess, Result: []byte(`[{"task_id":"t"}]`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanRetry(tt.run)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrNotRetryable)) {
				t.Errorf("CanRetry = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
