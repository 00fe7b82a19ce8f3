package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

var errRefused = errors.New("refused")

// TestTaskFieldWrites: UpdateTaskContent never touches the enabled flag
// and SetTaskEnabled never the content; a refusing check changes nothing;
// content changes are recorded as versions.
func TestTaskFieldWrites(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tk, _, err := s.CreateTask(ctx, store.NewTask{Name: "a", Subscriptions: []string{"user/a/b"}, Definition: json.RawMessage(`{"name":"a"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTaskEnabled(ctx, tk.ID, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		do      func() (store.Task, error)
		wantErr error
		want    func(store.Task) bool
	}{
		{"content keeps enabled", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, tk.ID, "b", []string{"user/c/d"}, json.RawMessage(`{"name":"b"}`), nil)
		}, nil, func(x store.Task) bool { return x.Enabled && x.Name == "b" && string(x.Definition) == `{"name":"b"}` }},
		{"refused content", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, tk.ID, "c", nil, json.RawMessage(`{"name":"c"}`), func(store.Task) error { return errRefused })
		}, errRefused, func(x store.Task) bool { return x.Name == "b" }},
		{"enabled keeps content", func() (store.Task, error) { return s.SetTaskEnabled(ctx, tk.ID, false) },
			nil, func(x store.Task) bool { return !x.Enabled && x.Name == "b" }},
		{"refused enable", func() (store.Task, error) {
			return s.SetTaskEnabledChecked(ctx, tk.ID, true, func(cur store.Task) error {
				if cur.Name != "b" {
					t.Errorf("check saw %q", cur.Name)
				}
				return errRefused
			})
		}, errRefused, func(x store.Task) bool { return !x.Enabled }},
		{"missing task", func() (store.Task, error) { return s.SetTaskEnabled(ctx, "nope", true) }, store.ErrNotFound, nil},
		{"missing task content", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, "nope", "x", nil, json.RawMessage(`{}`), nil)
		}, store.ErrNotFound, nil},
	}
	for _, tc := range tests {
		_, err := tc.do()
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.wantErr)
		}
		if tc.want == nil {
			continue
		}
		cur, err := s.GetTask(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.want(cur) {
			t.Errorf("%s: task now %+v", tc.name, cur)
		}
	}
	vs, err := s.ListTaskVersions(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Name != "b" {
		t.Errorf("versions %+v, want the created and the updated content", vs)
	}
}

// TestRetryRunChecked: a refusing check leaves the run as it was.
func TestRetryRunChecked(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b", Data: json.RawMessage(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %d", err, len(jobs))
	}
	if _, err := s.Complete(ctx, jobs[0], store.Result{Result: json.RawMessage(`[]`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryRunChecked(ctx, evs[0].ID, func(store.Run) error { return errRefused }); !errors.Is(err, errRefused) {
		t.Fatalf("refused retry: %v", err)
	}
	if r, _ := s.GetRun(ctx, evs[0].ID); r.Status != store.StatusSuccess {
		t.Fatalf("refused retry changed the run to %s", r.Status)
	}
	r, err := s.RetryRunChecked(ctx, evs[0].ID, func(cur store.Run) error { return nil })
	if err != nil || r.Status != store.StatusPending {
		t.Fatalf("allowed retry: %v %s", err, r.Status)
	}
}
