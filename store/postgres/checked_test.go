package postgres_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

func TestCheckedWrites(t *testing.T) {
	url := databaseURL(t)
	s := open(t, url, freshSchema(t, url))
	ctx := t.Context()
	refuse := errors.New("refused by check")
	tk, _, err := s.CreateTask(ctx, store.NewTask{Name: "a", Subscriptions: []string{"user/a/b"}, Definition: json.RawMessage(`{"name":"a"}`)})
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name    string
		do      func() (store.Task, error)
		wantErr error
		enabled bool
		version int
		tname   string
	}{
		{"enable", func() (store.Task, error) { return s.SetTaskEnabled(ctx, tk.ID, true) }, nil, true, 1, "a"},
		{"disable refused", func() (store.Task, error) {
			return s.SetTaskEnabledChecked(ctx, tk.ID, false, func(store.Task) error { return refuse })
		}, refuse, true, 1, "a"},
		{"content", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, tk.ID, "b", []string{"user/c/d"}, json.RawMessage(`{"name":"b"}`), func(cur store.Task) error {
				if !cur.Enabled || cur.Name != "a" {
					t.Errorf("check saw %+v", cur)
				}
				return nil
			})
		}, nil, true, 2, "b"},
		{"same content adds no version", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, tk.ID, "b", []string{"user/c/d"}, json.RawMessage(`{"name":"b"}`), nil)
		}, nil, true, 2, "b"},
		{"content refused", func() (store.Task, error) {
			return s.UpdateTaskContent(ctx, tk.ID, "c", nil, json.RawMessage(`{}`), func(store.Task) error { return refuse })
		}, refuse, true, 2, "b"},
		{"missing task", func() (store.Task, error) { return s.SetTaskEnabled(ctx, "nope", true) }, store.ErrNotFound, true, 2, "b"},
	}
	for _, st := range steps {
		_, err := st.do()
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		got, err := s.GetTask(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := s.ListTaskVersions(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled != st.enabled || len(vs) != st.version || got.Name != st.tname {
			t.Fatalf("%s: enabled %v, %d versions, name %q; want %v, %d, %q", st.name, got.Enabled, len(vs), got.Name, st.enabled, st.version, st.tname)
		}
	}

	evs, err := s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b"}})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	if _, err := s.Fail(ctx, jobs[0], store.Failure{Error: "x", Permanent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryRunChecked(ctx, evs[0].ID, func(r store.Run) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("refused retry: %v", err)
	}
	if r, _ := s.GetRun(ctx, evs[0].ID); r.Status != store.StatusFailed {
		t.Fatalf("run after a refused retry is %s", r.Status)
	}
	r, err := s.RetryRunChecked(ctx, evs[0].ID, func(r store.Run) error {
		if r.Status != store.StatusFailed {
			return refuse
		}
		return nil
	})
	if err != nil || r.Status != store.StatusPending || r.Attempts != 0 {
		t.Fatalf("checked retry: %+v %v", r, err)
	}
}
