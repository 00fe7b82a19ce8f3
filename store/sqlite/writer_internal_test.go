package sqlite

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

func TestPanickingWriteFailsAloneAndCommitterSurvives(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir(), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.inTx(t.Context(), "boom", func(tx *txn) error {
		if _, err := tx.ExecContext(t.Context(), `INSERT INTO settings (kind, key, value, created_at, updated_at) VALUES ('k', 'x', '1', 0, 0)`); err != nil {
			return err
		}
		panic("bug")
	})
	if err == nil {
		t.Fatal("panicking write reported success")
	}
	if _, err := s.GetSetting(t.Context(), "k", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("panicking write was committed: %v", err)
	}
	if _, err := s.PutSetting(t.Context(), "k", "y", []byte(`2`)); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
}
