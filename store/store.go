// Package store defines Sprocket's durable storage: tasks, events, webhooks,
// runs (which double as the job queue), the cache, cache endpoints and
// scheduler state, behind one Store interface that drivers implement.
//
// The queue lives in the same transactional store as the records, so that a
// run's completion and its follow-up records (child events, task runs, action
// runs, cache writes) commit together. Every step is performed at least once
// (leases expire and crashed workers' jobs are retaken) and its effects are
// recorded exactly once (only the current lease holder may complete a run,
// and follow-up ids are derived from the parent run so inserts are idempotent).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors returned by Store implementations (compare with errors.Is).
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrLeaseLost means the job's lease expired and the run was retaken or
	// finished by someone else; the caller's outcome was not recorded.
	ErrLeaseLost = errors.New("store: job lease lost")
	// ErrNotInteger means a cache increment hit a value that is not an integer.
	ErrNotInteger = errors.New("store: cache value is not an integer")
	// ErrInvalid means an argument was rejected.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrConflict means the operation does not apply to the record's state.
	ErrConflict = errors.New("store: conflict")
)

// Limits and defaults shared by implementations.
const (
	// DefaultPageLimit is the page size used when Page.Limit is not set.
	DefaultPageLimit = 50
	// MaxPageLimit caps Page.Limit.
	MaxPageLimit = 1000
	// DefaultCacheTTL is the cache TTL when none is given (60 days).
	DefaultCacheTTL = 60 * 24 * time.Hour
	// MaxCacheTTL is the longest accepted cache TTL (60 days).
	MaxCacheTTL = DefaultCacheTTL
)

// Clock tells the current time; drivers take one so tests can move time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Tasks stores task definitions.
type Tasks interface {
	// CreateTask creates a task; with an idempotency key already used it
	// returns the earlier task and created=false.
	CreateTask(ctx context.Context, t NewTask) (task Task, created bool, err error)
	// GetTask reads a task or returns ErrNotFound.
	GetTask(ctx context.Context, id string) (Task, error)
	// UpdateTask replaces a task's name, enabled flag, subscriptions and
	// definition and returns the stored task, or ErrNotFound. When
	// t.UpdatedAt is set, the update only applies if the task was not
	// changed since (optimistic concurrency), else ErrConflict.
	UpdateTask(ctx context.Context, t Task) (Task, error)
	// DeleteTask deletes a task or returns ErrNotFound.
	DeleteTask(ctx context.Context, id string) error
	// ListTasks lists tasks newest first.
	ListTasks(ctx context.Context, f TaskFilter) (tasks []Task, next string, err error)
	// ListTaskVersions lists a task's saved versions, newest first (the
	// first is the current content); ErrNotFound if the task does not exist.
	ListTaskVersions(ctx context.Context, taskID string) ([]TaskVersion, error)
	// ListTaskVersionsPage is one page of ListTaskVersions (cursor from
	// EncodeKeyCursor of the last version number shown).
	ListTaskVersionsPage(ctx context.Context, taskID string, p Page) (versions []TaskVersion, next string, err error)
}

// EventInserter is the event ack path.
type EventInserter interface {
	// InsertEvents durably inserts events and their event runs in one
	// transaction and returns them in order; an event whose id already
	// exists is left unchanged and returned as stored.
	InsertEvents(ctx context.Context, events []NewEvent) ([]Event, error)
}

// Events stores events.
type Events interface {
	EventInserter
	// GetEvent reads an event or returns ErrNotFound.
	GetEvent(ctx context.Context, id string) (Event, error)
	// ListEvents lists events newest first.
	ListEvents(ctx context.Context, f EventFilter) (events []Event, next string, err error)
}

// Webhooks stores Mechanic webhook endpoints.
type Webhooks interface {
	// CreateWebhook stores a webhook; an empty ID gets a fresh random one.
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// GetWebhook reads a webhook or returns ErrNotFound.
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// UpdateWebhook replaces a webhook's fields or returns ErrNotFound.
	UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// DeleteWebhook deletes a webhook or returns ErrNotFound.
	DeleteWebhook(ctx context.Context, id string) error
	// ListWebhooks lists all webhooks, newest first.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// ListWebhooksPage is one page of ListWebhooks.
	ListWebhooksPage(ctx context.Context, p Page) (webhooks []Webhook, next string, err error)
}

// Runs reads and manages runs.
type Runs interface {
	// GetRun reads a run or returns ErrNotFound.
	GetRun(ctx context.Context, id string) (Run, error)
	// ListRuns lists runs newest first.
	ListRuns(ctx context.Context, f RunFilter) (runs []Run, next string, err error)
	// RetryRun makes a finished run pending and due now, discarding its
	// previous result and resetting its attempts (the manual retry).
	RetryRun(ctx context.Context, id string) (Run, error)
	// CancelRun fails a pending run with the given reason; ErrConflict if it
	// is not pending.
	CancelRun(ctx context.Context, id, reason string) (Run, error)
	// RunAttempts lists a run's attempts, oldest first (at most the latest
	// MaxAttemptsListed); none for an unknown run or one never claimed.
	RunAttempts(ctx context.Context, runID string) ([]Attempt, error)
}

// Queue hands runs to workers as leased jobs.
type Queue interface {
	// Claim leases up to limit due runs for leaseFor, highest priority
	// (action, task, event) first and, within a priority, earliest due first.
	// Each claim increments the run's attempts. A run whose lease expired is
	// due again; workers should give up (Fail with Permanent) on jobs whose
	// Attempt exceeds their retry budget.
	Claim(ctx context.Context, limit int, leaseFor time.Duration) ([]Job, error)
	// ClaimFiltered is Claim limited to some run kinds and skipping some
	// action types and the runs of some tasks; other due runs, behind or of
	// lower priority, are claimed meanwhile.
	ClaimFiltered(ctx context.Context, o ClaimOptions) ([]Job, error)
	// Extend renews a job's lease (heartbeat) or returns ErrLeaseLost.
	Extend(ctx context.Context, job Job, leaseFor time.Duration) (Job, error)
	// Complete marks the job's run successful and records its effects in one
	// transaction, or returns ErrLeaseLost and records nothing.
	Complete(ctx context.Context, job Job, r Result) (Run, error)
	// Fail records a failed attempt: the run is rescheduled by the retry
	// schedule, or fails for good (recording f.Effects) when the failure is
	// permanent or the schedule is exhausted. ErrLeaseLost as for Complete.
	Fail(ctx context.Context, job Job, f Failure) (Run, error)
	// Stats counts due, scheduled and running runs (paused runs are not counted).
	Stats(ctx context.Context) (QueueStats, error)
}

// Cache is the per-shop key-value store; every write resets the TTL.
type Cache interface {
	// CacheGet returns a live entry's value, or found=false.
	CacheGet(ctx context.Context, key string) (value json.RawMessage, found bool, err error)
	// CacheApply performs one command atomically and returns the entry's
	// new value (nil after a delete).
	CacheApply(ctx context.Context, op CacheOp) (json.RawMessage, error)
	// CacheList returns up to limit live entries in key order (what the
	// cache variable iterates); limit must be positive.
	CacheList(ctx context.Context, limit int) ([]CacheEntry, error)
}

// CacheEndpoints stores cache endpoints.
type CacheEndpoints interface {
	// CreateCacheEndpoint stores an endpoint; an empty ID gets a fresh random one.
	CreateCacheEndpoint(ctx context.Context, e CacheEndpoint) (CacheEndpoint, error)
	// GetCacheEndpoint reads an endpoint or returns ErrNotFound.
	GetCacheEndpoint(ctx context.Context, id string) (CacheEndpoint, error)
	// DeleteCacheEndpoint deletes an endpoint or returns ErrNotFound.
	DeleteCacheEndpoint(ctx context.Context, id string) error
	// ListCacheEndpoints lists all endpoints, newest first.
	ListCacheEndpoints(ctx context.Context) ([]CacheEndpoint, error)
	// ListCacheEndpointsPage is one page of ListCacheEndpoints.
	ListCacheEndpointsPage(ctx context.Context, p Page) (endpoints []CacheEndpoint, next string, err error)
}

// Scheduler stores scheduler progress so each tick fires exactly once.
type Scheduler interface {
	// LastTick returns the last fired tick of an interval, or ok=false.
	LastTick(ctx context.Context, name string) (tick time.Time, ok bool, err error)
	// FireTick records tick as fired for name and inserts events, in one
	// transaction, only if tick is later than the last fired tick; it
	// reports whether it fired.
	FireTick(ctx context.Context, name string, tick time.Time, events []NewEvent) (fired bool, err error)
}

// Settings stores small keyed JSON records by kind.
type Settings interface {
	// PutSetting creates or replaces a setting and returns it.
	PutSetting(ctx context.Context, kind SettingKind, key string, value json.RawMessage) (Setting, error)
	// GetSetting reads a setting or returns ErrNotFound.
	GetSetting(ctx context.Context, kind SettingKind, key string) (Setting, error)
	// DeleteSetting deletes a setting or returns ErrNotFound.
	DeleteSetting(ctx context.Context, kind SettingKind, key string) error
	// ListSettings lists a kind's settings by key.
	ListSettings(ctx context.Context, kind SettingKind) ([]Setting, error)
	// ListSettingsPage is one page of ListSettings (by key; the cursor is
	// EncodeKeyCursor of the last key shown).
	ListSettingsPage(ctx context.Context, kind SettingKind, p Page) (settings []Setting, next string, err error)
}

// Sizer measures the store, for the stored-bytes quota.
type Sizer interface {
	// StoredBytes is the database's size on disk in bytes (SQLite: the
	// database and WAL files; PostgreSQL: the schema's tables, indexes and
	// TOAST). It is cheap enough to call every few seconds, not per request.
	StoredBytes(ctx context.Context) (int64, error)
}

// Pruner deletes old records.
type Pruner interface {
	// Prune deletes, in batches, events created before olderThan with no
	// unfinished run, no run finished at or after olderThan and no remaining
	// child event, together with their runs, and expired cache entries.
	Prune(ctx context.Context, olderThan time.Time) (PruneStats, error)
}

// Store is the whole storage layer.
type Store interface {
	Tasks
	Events
	Webhooks
	Runs
	Queue
	Cache
	CacheEndpoints
	Scheduler
	Settings
	Pruner
	Sizer
	// Close releases the store's resources.
	Close() error
}

// CredentialLocation names one stored credential for RewriteCredentials.
type CredentialLocation struct {
	// Webhook is true for a webhook's signing secret; Key is then the
	// webhook id and Field is "secret".
	Webhook bool
	// Kind is the setting's kind (empty for a webhook).
	Kind SettingKind
	// Key is the setting's key, or the webhook id.
	Key string
	// Field is the top-level field of a setting whose value is a JSON
	// object, or empty when the whole value is one JSON string.
	Field string
}

// CredentialRewriter rewrites stored credentials in place (sealing plain
// values, re-sealing under a new key) and scrubs the storage of their old
// versions. Both stores implement it.
type CredentialRewriter interface {
	// RewriteCredentials calls fn, inside one transaction, with every
	// non-empty webhook secret and every string of the settings of the
	// given kinds (a value that is one JSON string, or each top-level string
	// field of a JSON object value), and stores what fn returns where it
	// differs. It returns how many values changed. An error from fn rolls
	// the whole transaction back.
	RewriteCredentials(ctx context.Context, kinds []SettingKind, fn func(loc CredentialLocation, value string) (string, error)) (changed int, err error)
	// ScrubFreed removes old versions of rewritten rows from the storage:
	// SQLite rebuilds the file (VACUUM) and truncates the WAL; PostgreSQL
	// rewrites the settings and webhooks tables (VACUUM FULL).
	ScrubFreed(ctx context.Context) error
}

// RewriteSettingValue applies fn to a setting's value as
// CredentialRewriter describes: the whole value when it is a JSON string,
// else each top-level string field of a JSON object (other values are
// returned unchanged). It reports whether anything changed.
func RewriteSettingValue(kind SettingKind, key string, value json.RawMessage, fn func(loc CredentialLocation, value string) (string, error)) (json.RawMessage, bool, error) {
	var s string
	if err := json.Unmarshal(value, &s); err == nil {
		ns, err := fn(CredentialLocation{Kind: kind, Key: key}, s)
		if err != nil || ns == s {
			return value, false, err
		}
		out, err := json.Marshal(ns)
		return out, err == nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil || obj == nil {
		return value, false, nil
	}
	changed := false
	for f, raw := range obj {
		var fs string
		if json.Unmarshal(raw, &fs) != nil {
			continue
		}
		ns, err := fn(CredentialLocation{Kind: kind, Key: key, Field: f}, fs)
		if err != nil {
			return value, false, err
		}
		if ns != fs {
			b, err := json.Marshal(ns)
			if err != nil {
				return value, false, err
			}
			obj[f] = b
			changed = true
		}
	}
	if !changed {
		return value, false, nil
	}
	out, err := json.Marshal(obj)
	return out, err == nil, err
}
