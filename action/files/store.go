package files

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// DefaultTTL is how long stored files stay available when Config.TTL is
// zero. Mechanic documents an expiry time but not its length.
const DefaultTTL = 7 * 24 * time.Hour

// pruneEvery is the least interval between two prunes triggered by Put.
const pruneEvery = time.Minute

// StoredFile describes a file in the store.
type StoredFile struct {
	// Token is the file's unguessable identifier (32 random bytes, base64url).
	Token string `json:"token"`
	// Name is the file name the task gave.
	Name string `json:"name"`
	// MimeType is the file's media type, without parameters.
	MimeType string `json:"mime_type"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// ExpiresAt is when the file stops being served and is deleted.
	ExpiresAt time.Time `json:"expires_at"`
}

// Store keeps generated files on disk, each in a directory named by its
// token holding "data" and "meta.json", until they expire. It is safe for
// concurrent use.
type Store struct {
	dir       string
	ttl       time.Duration
	now       func() time.Time
	log       *slog.Logger
	mu        sync.Mutex
	lastPrune time.Time
}

// StoreConfig configures a Store.
type StoreConfig struct {
	// Dir is the directory holding the files; it is created if missing.
	Dir string
	// TTL is how long files stay available (DefaultTTL when zero).
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives prune failures; nil discards.
	Logger *slog.Logger
}

// NewStore opens (creating) the store in cfg.Dir.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("files store: no directory given")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("files store: %w", err)
	}
	s := &Store{dir: cfg.Dir, ttl: cfg.TTL, now: cfg.Now, log: cfg.Logger}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// TTL is how long stored files stay available.
func (s *Store) TTL() time.Duration { return s.ttl }

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// Put stores data under a new token and returns its description. Files are
// written to a temporary directory and renamed into place, so a file is
// either served whole or not at all.
func (s *Store) Put(ctx context.Context, name, mimeType string, data []byte) (StoredFile, error) {
	if err := ctx.Err(); err != nil {
		return StoredFile{}, err
	}
	s.maybePrune()
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return StoredFile{}, fmt.Errorf("files store: token: %w", err)
	}
	f := StoredFile{
		Token:     base64.RawURLEncoding.EncodeToString(raw[:]),
		Name:      name,
		MimeType:  mimeType,
		Size:      int64(len(data)),
		ExpiresAt: s.now().Add(s.ttl).UTC().Truncate(time.Second),
	}
	meta, err := json.Marshal(f)
	if err != nil {
		return StoredFile{}, fmt.Errorf("files store: %w", err)
	}
	tmp, err := os.MkdirTemp(s.dir, ".tmp-")
	if err != nil {
		return StoredFile{}, fmt.Errorf("files store: %w", err)
	}
	if err := writeFile(filepath.Join(tmp, "data"), data); err != nil {
		_ = os.RemoveAll(tmp)
		return StoredFile{}, err
	}
	if err := writeFile(filepath.Join(tmp, "meta.json"), meta); err != nil {
		_ = os.RemoveAll(tmp)
		return StoredFile{}, err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, f.Token)); err != nil {
		_ = os.RemoveAll(tmp)
		return StoredFile{}, fmt.Errorf("files store: %w", err)
	}
	return f, nil
}

func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("files store: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("files store: sync %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("files store: close %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ErrNotFound is returned by Open for unknown, expired or mistyped files.
var ErrNotFound = errors.New("file not found or expired")

// Open returns the description and the open content of the file with
// token, or ErrNotFound when it does not exist or has expired. The caller
// closes the file.
func (s *Store) Open(token string) (StoredFile, *os.File, error) {
	if !tokenRE.MatchString(token) {
		return StoredFile{}, nil, ErrNotFound
	}
	dir := filepath.Join(s.dir, token)
	meta, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return StoredFile{}, nil, ErrNotFound
	}
	if err != nil {
		return StoredFile{}, nil, fmt.Errorf("files store: %w", err)
	}
	var f StoredFile
	if err := json.Unmarshal(meta, &f); err != nil {
		return StoredFile{}, nil, fmt.Errorf("files store: %s: %w", token, err)
	}
	if !s.now().Before(f.ExpiresAt) {
		return StoredFile{}, nil, ErrNotFound
	}
	data, err := os.Open(filepath.Join(dir, "data"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return StoredFile{}, nil, ErrNotFound
		}
		return StoredFile{}, nil, fmt.Errorf("files store: %w", err)
	}
	return f, data, nil
}

func (s *Store) maybePrune() {
	s.mu.Lock()
	now := s.now()
	due := now.Sub(s.lastPrune) >= pruneEvery
	if due {
		s.lastPrune = now
	}
	s.mu.Unlock()
	if due {
		if n, err := s.Prune(); err != nil {
			s.log.Warn("files store: prune", "error", err, "removed", n)
		}
	}
}

// Prune deletes expired files and abandoned temporary directories, and
// returns how many it deleted.
func (s *Store) Prune() (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("files store: %w", err)
	}
	now := s.now()
	n := 0
	var errs []error
	for _, e := range entries {
		path := filepath.Join(s.dir, e.Name())
		if !e.IsDir() {
			continue
		}
		expired := false
		if tokenRE.MatchString(e.Name()) {
			meta, err := os.ReadFile(filepath.Join(path, "meta.json"))
			var f StoredFile
			if err == nil && json.Unmarshal(meta, &f) == nil {
				expired = !now.Before(f.ExpiresAt)
			} else if info, ierr := e.Info(); ierr == nil {
				expired = now.Sub(info.ModTime()) > s.ttl // unreadable: judge by age
			}
		} else if info, err := e.Info(); err == nil {
			expired = now.Sub(info.ModTime()) > time.Hour // stale temporary directory
		}
		if expired {
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}
