// Package tasksync keeps the tasks of a folder (serve --tasks-dir) in the
// service: every task under the folder, as a JSON export (NAME.json) or a
// task folder (NAME/ with task.json and script.liquid), is loaded at start
// and the folder is polled for changes. A changed file replaces the task
// (a new version); a file that no longer loads keeps the stored version
// running and reports the problem; a deleted file disables the task.
package tasksync

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// Target stores folder tasks (*server.Service).
type Target interface {
	ApplyFolderTask(ctx context.Context, id, source string, t *task.Task) (store.Task, error)
	FolderTaskError(id, source string, problem error)
	DisableFolderTask(ctx context.Context, id, source string) error
}

// DefaultInterval is how often the folder is polled.
const DefaultInterval = 250 * time.Millisecond

// MaxTasks bounds the tasks one folder may hold.
const MaxTasks = 10_000

// Syncer keeps a folder's tasks in a Target.
type Syncer struct {
	dir      string
	target   Target
	log      *slog.Logger
	interval time.Duration
	// state per source (path relative to dir): the fingerprint of its
	// files when last seen, and whether it is currently deleted.
	seen    map[string]string
	applied map[string]string // source → hash of the last applied export
}

// New returns a Syncer of dir into target; interval 0 means DefaultInterval.
func New(dir string, target Target, log *slog.Logger, interval time.Duration) *Syncer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if log == nil {
		log = slog.Default()
	}
	return &Syncer{dir: dir, target: target, log: log, interval: interval, seen: map[string]string{}, applied: map[string]string{}}
}

// TaskID is the id of the task loaded from source (its path relative to
// the folder, slash separated): stable across restarts.
func TaskID(source string) string {
	return store.DerivedID("tasks-dir", source)
}

// Sync loads every changed, new or deleted task once. It returns the
// number of problems found (each also logged and reported to the target).
func (s *Syncer) Sync(ctx context.Context) (int, error) {
	sources, err := s.scan()
	if err != nil {
		return 0, err
	}
	problems := 0
	for src, fp := range sources {
		if s.seen[src] == fp {
			continue
		}
		s.seen[src] = fp
		if err := s.apply(ctx, src); err != nil {
			problems++
			s.log.Error("tasks folder: task not updated; the previous version keeps running", "source", src, "err", err)
			s.target.FolderTaskError(TaskID(src), src, err)
		}
	}
	for src := range s.seen {
		if _, ok := sources[src]; ok {
			continue
		}
		delete(s.seen, src)
		delete(s.applied, src)
		if err := s.target.DisableFolderTask(ctx, TaskID(src), src); err != nil {
			problems++
			s.log.Error("tasks folder: disable deleted task", "source", src, "err", err)
			continue
		}
		s.log.Info("tasks folder: file deleted, task disabled", "source", src, "task_id", TaskID(src))
	}
	return problems, nil
}

func (s *Syncer) apply(ctx context.Context, src string) error {
	t, err := taskdir.Load(filepath.Join(s.dir, filepath.FromSlash(src)))
	if err != nil {
		return err
	}
	def, err := t.MarshalJSON()
	if err != nil {
		return err
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(def))
	if s.applied[src] == sum {
		return nil
	}
	st, err := s.target.ApplyFolderTask(ctx, TaskID(src), src, t)
	if err != nil {
		return err
	}
	s.applied[src] = sum
	s.log.Info("tasks folder: task loaded", "source", src, "task_id", st.ID, "name", st.Name, "enabled", st.Enabled)
	return nil
}

// scan lists the task sources under the folder with a fingerprint of their
// files (names, sizes, modification times).
func (s *Syncer) scan() (map[string]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("tasks folder: %w", err)
	}
	out := make(map[string]string)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(s.dir, name)
		switch {
		case e.IsDir() && taskdir.IsDir(p):
			fp, err := fingerprint(p)
			if err != nil {
				return nil, err
			}
			out[name] = fp
		case !e.IsDir() && strings.HasSuffix(name, ".json"):
			fp, err := fingerprint(p)
			if err != nil {
				return nil, err
			}
			out[name] = fp
		}
		if len(out) > MaxTasks {
			return nil, fmt.Errorf("tasks folder %s: more than %d tasks", s.dir, MaxTasks)
		}
	}
	return out, nil
}

// fingerprint describes a file or a task folder's files (tests/ aside).
func fingerprint(p string) (string, error) {
	var parts []string
	err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == taskdir.TestsFolder {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%d", path, info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("tasks folder: %w", err)
	}
	sort.Strings(parts)
	return strings.Join(parts, "|"), nil
}

// Run syncs once, then polls the folder until ctx ends.
func (s *Syncer) Run(ctx context.Context) error {
	if _, err := s.Sync(ctx); err != nil {
		s.log.Error("tasks folder", "err", err)
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Sync(ctx); err != nil {
				s.log.Error("tasks folder", "err", err)
			}
		}
	}
}
