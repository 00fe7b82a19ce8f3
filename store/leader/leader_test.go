package leader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store/leader"
)

// fakeLeases is an in-memory lease table with a settable clock.
type fakeLeases struct {
	now     time.Time
	holder  string
	expires time.Time
	fail    error
}

func (f *fakeLeases) TryLease(_ context.Context, _, holder string, ttl time.Duration) (bool, error) {
	if f.fail != nil {
		return false, f.fail
	}
	if f.holder == "" || f.holder == holder || !f.now.Before(f.expires) {
		f.holder, f.expires = holder, f.now.Add(ttl)
		return true, nil
	}
	return false, nil
}

func (f *fakeLeases) ReleaseLease(_ context.Context, _, holder string) error {
	if f.holder == holder {
		f.holder = ""
	}
	return nil
}

func TestElector(t *testing.T) {
	ctx := t.Context()
	f := &fakeLeases{now: time.Unix(0, 0)}
	a := leader.New(f, "maintenance", "a", time.Minute, nil)
	b := leader.New(f, "maintenance", "b", time.Minute, nil)
	steps := []struct {
		advance time.Duration
		who     *leader.Elector
		resign  bool
		fail    error
		want    bool
	}{
		{who: a, want: true},
		{who: b, want: false},
		{advance: 50 * time.Second, who: a, want: true}, // renewal
		{advance: 50 * time.Second, who: b, want: false},
		{advance: 11 * time.Second, who: b, want: true}, // a stopped renewing
		{who: a, want: false},
		{who: b, resign: true},
		{who: a, want: true},
		{who: a, fail: errors.New("database down"), want: false},
	}
	for i, st := range steps {
		f.now = f.now.Add(st.advance)
		f.fail = st.fail
		if st.resign {
			if err := st.who.Resign(ctx); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := st.who.Leading(ctx); got != st.want {
			t.Fatalf("step %d: Leading = %v, want %v", i, got, st.want)
		}
	}
	if !leader.New(nil, "maintenance", "solo", time.Minute, nil).Leading(ctx) {
		t.Fatal("without leases (one process) the node should always lead")
	}
}
