package sqlite_test

import (
	"testing"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store {
		s, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
