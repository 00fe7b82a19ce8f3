package sqlite

import (
	"context"
	"slices"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

func TestTaskSubscriptions(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i, enabled := range []bool{true, false, true} {
		tk, _, err := s.CreateTask(ctx, store.NewTask{Name: string(rune('a' + i)), Enabled: enabled,
			Subscriptions: []string{"user/a/b", "user/c/d+1.hour"}, Definition: []byte(`{"name":"x"}`)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	names := func(ts []store.Task) []string {
		var out []string
		for _, tk := range ts {
			if tk.Definition != nil || len(tk.Subscriptions) != 2 || tk.CreatedAt.IsZero() {
				t.Errorf("task %+v", tk)
			}
			out = append(out, tk.Name)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		enabledOnly bool
		ids         []string
		want        []string
	}{
		{false, nil, []string{"a", "b", "c"}},
		{true, nil, []string{"a", "c"}},
		{false, []string{ids[1], "missing"}, []string{"b"}},
		{true, []string{ids[1], ids[2]}, []string{"c"}},
	}
	for _, tt := range tests {
		ts, err := s.TaskSubscriptions(ctx, tt.enabledOnly, tt.ids...)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(ts); !slices.Equal(got, tt.want) {
			t.Errorf("TaskSubscriptions(%v, %v) = %v, want %v", tt.enabledOnly, tt.ids, got, tt.want)
		}
	}
}
