// Package migrate loads a store's schema migrations from numbered .sql
// files in an fs.FS (usually an embed.FS) and decides which to apply.
//
// Files are named NNNN_description.sql (e.g. 0001_initial.sql); versions
// start at 1 and have no gaps. Migrations are forward-only: a released file
// is never edited, a change is a new file. A database whose recorded
// version is newer than the last file is refused (an older binary must not
// write to a schema it does not know).
package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// ErrSchemaTooNew means the database was migrated by a newer binary.
var ErrSchemaTooNew = errors.New("migrate: database schema is newer than this binary")

// Migration is one numbered schema change.
type Migration struct {
	// Version is the migration's number (1-based, contiguous).
	Version int
	// Name is the file name, e.g. "0001_initial.sql".
	Name string
	// SQL is the file's content.
	SQL string
}

// Load reads the migrations in dir of fsys, ordered by version. It fails on
// a badly named file, a duplicate or missing version, or an empty file.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migrate: file %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", e.Name(), err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migrate: file %s is empty", e.Name())
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: file %s: version %d, want %d (versions start at 1 without gaps or duplicates)", m.Name, m.Version, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrate: no migrations in %s", dir)
	}
	return out, nil
}

// Pending returns the migrations after the database's current version, or
// ErrSchemaTooNew when current is beyond the last known migration.
func Pending(all []Migration, current int) ([]Migration, error) {
	if current > len(all) {
		return nil, fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade Sprocket", ErrSchemaTooNew, current, len(all))
	}
	if current < 0 {
		current = 0
	}
	return all[current:], nil
}

// Latest returns the highest version in all.
func Latest(all []Migration) int { return len(all) }
