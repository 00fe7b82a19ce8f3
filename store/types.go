package store

import (
	"encoding/json"
	"slices"
	"time"
)

// Task is a stored task: its Mechanic-format definition plus the columns the
// service queries on.
type Task struct {
	// ID is the task's identifier (a UUID-shaped string).
	ID string
	// Name is the task's display name, copied from the definition.
	Name string
	// Enabled tells whether the task receives events.
	Enabled bool
	// Subscriptions are the rendered subscriptions, e.g. "shopify/orders/paid+3.days".
	Subscriptions []string
	// Definition is the full task JSON in Mechanic's export format.
	Definition json.RawMessage
	// CreatedAt is when the task was created.
	CreatedAt time.Time
	// UpdatedAt is when the task was last changed.
	UpdatedAt time.Time
}

// NewTask holds the fields of a task to create.
type NewTask struct {
	// ID is the wanted identifier; empty means a fresh random one.
	ID string
	// Name is the task's display name.
	Name string
	// Enabled tells whether the task receives events.
	Enabled bool
	// Subscriptions are the rendered subscriptions.
	Subscriptions []string
	// Definition is the full task JSON.
	Definition json.RawMessage
	// IdempotencyKey, when set, makes creation idempotent: a second create
	// with the same key returns the task made by the first.
	IdempotencyKey string
}

// TaskVersion is one saved state of a task's content (name, subscriptions
// and definition); a version is recorded when a task is created and each
// time an update changes its content.
type TaskVersion struct {
	// TaskID is the task.
	TaskID string
	// Version numbers the task's versions from 1.
	Version int
	// Name is the task name at that version.
	Name string
	// Subscriptions are the subscriptions at that version.
	Subscriptions []string
	// Definition is the task JSON at that version.
	Definition json.RawMessage
	// SavedAt is when the version was saved.
	SavedAt time.Time
}

// MaxTaskVersions is how many versions are kept per task; older ones are dropped.
const MaxTaskVersions = 100

// TaskFilter narrows a task listing.
type TaskFilter struct {
	// Enabled, when non-nil, keeps only tasks with that enabled flag.
	Enabled *bool
	// Page selects the page.
	Page Page
}

// Event is something that happened and that tasks may subscribe to.
type Event struct {
	// ID is the event's identifier.
	ID string
	// Topic is the event topic, e.g. "shopify/orders/create".
	Topic string
	// Data is the event payload as JSON (may be the JSON literal null).
	Data json.RawMessage
	// ParentID is the parent event's id, empty for root events.
	ParentID string
	// Source tells where the event came from ("shopify", "user", ...).
	Source string
	// ShopifyTopic is the originating Shopify topic, empty when not from Shopify.
	ShopifyTopic string
	// WebhookID is the Mechanic webhook that received the event, if any.
	WebhookID string
	// RequestID is the inbound webhook request id, if any.
	RequestID string
	// TaskIDs, when non-empty, restricts delivery to these tasks.
	TaskIDs []string
	// CreatedAt is when the event was received.
	CreatedAt time.Time
	// RunAt is when the event's run is due.
	RunAt time.Time
}

// NewEvent holds the fields of an event to insert.
type NewEvent struct {
	// ID is the wanted identifier; empty means a fresh random one. Follow-up
	// events created by a run should use DerivedID so a repeated insert is a no-op.
	ID string
	// Topic is the event topic.
	Topic string
	// Data is the payload JSON; nil is stored as JSON null.
	Data json.RawMessage
	// ParentID is the parent event id.
	ParentID string
	// Source tells where the event came from.
	Source string
	// ShopifyTopic is the originating Shopify topic.
	ShopifyTopic string
	// WebhookID is the receiving Mechanic webhook id.
	WebhookID string
	// RequestID is the inbound request id.
	RequestID string
	// TaskIDs restricts delivery to these tasks when non-empty.
	TaskIDs []string
	// RunAt delays the event run; zero means now.
	RunAt time.Time
}

// EventFilter narrows an event listing.
type EventFilter struct {
	// Topic keeps only events with this exact topic.
	Topic string
	// ParentID keeps only children of this event.
	ParentID string
	// TaskID keeps only events that have a run of this task.
	TaskID string
	// Since keeps only events created at or after this time, when set.
	Since time.Time
	// Until keeps only events created before this time, when set.
	Until time.Time
	// Page selects the page.
	Page Page
}

// DataMode is how a Mechanic webhook turns a request into event data.
type DataMode string

// Webhook data modes.
const (
	// DataModeAuto parses the body and query into event data.
	DataModeAuto DataMode = "auto"
	// DataModeFull stores the whole request description.
	DataModeFull DataMode = "full"
)

// Webhook is an inbound Mechanic webhook endpoint.
type Webhook struct {
	// ID is the unguessable id used in the webhook URL.
	ID string
	// Name is the display name.
	Name string
	// Topic is the event topic the webhook creates (a user/... topic).
	Topic string
	// DataMode is "auto" or "full".
	DataMode DataMode
	// Secret is an optional signing secret.
	Secret string
	// SignatureHeader is the request header carrying the signature, if any.
	SignatureHeader string
	// CreatedAt is when the webhook was created.
	CreatedAt time.Time
	// UpdatedAt is when the webhook was last changed.
	UpdatedAt time.Time
}

// RunKind is the kind of a run, which is also its job kind.
type RunKind string

// Run kinds.
const (
	// KindEvent is an event run: filters and subscription matching.
	KindEvent RunKind = "event_run"
	// KindTask is a task run: rendering a task against an event.
	KindTask RunKind = "task_run"
	// KindAction is an action run: performing one action object.
	KindAction RunKind = "action_run"
)

// Priority returns the queue priority of the kind; higher runs first
// (action runs, then task runs, then event runs).
func (k RunKind) Priority() int {
	switch k {
	case KindAction:
		return 3
	case KindTask:
		return 2
	case KindEvent:
		return 1
	}
	return 0
}

// Valid reports whether k is a known kind.
func (k RunKind) Valid() bool { return k.Priority() > 0 }

// RunStatus is a run's state.
type RunStatus string

// Run states.
const (
	// StatusPending is a run waiting to be performed (scheduled, due or paused).
	StatusPending RunStatus = "pending"
	// StatusRunning is a run leased by a worker.
	StatusRunning RunStatus = "running"
	// StatusSuccess is a run that finished successfully.
	StatusSuccess RunStatus = "success"
	// StatusFailed is a run that failed for good.
	StatusFailed RunStatus = "failed"
)

// Finished reports whether s is a final state.
func (s RunStatus) Finished() bool { return s == StatusSuccess || s == StatusFailed }

// Run is an event run, task run or action run; it doubles as the queue job.
type Run struct {
	// ID is the run's identifier.
	ID string
	// Kind is the run kind.
	Kind RunKind
	// EventID is the event the run belongs to.
	EventID string
	// TaskID is the task of a task or action run.
	TaskID string
	// ParentRunID is the run that created this one (event run for a task
	// run, task run for an action run).
	ParentRunID string
	// Seq is the index of an action run within its task run's output.
	Seq int
	// Status is the current state.
	Status RunStatus
	// Paused is true for a pending run that waits to be released (e.g. an
	// action run waiting its turn in a sequence).
	Paused bool
	// Attempts counts the claims of the run since it was created or last
	// manually retried; the retry schedule is indexed by it.
	Attempts int
	// Claims counts every claim of the run ever; it fences leases.
	Claims int64
	// RunAt is when the run was scheduled to be performed.
	RunAt time.Time
	// NextAttemptAt is when a pending run is next due, or when a running
	// run's lease ends; zero when finished or paused.
	NextAttemptAt time.Time
	// CreatedAt is when the run was enqueued.
	CreatedAt time.Time
	// StartedAt is when the latest attempt started; zero if never.
	StartedAt time.Time
	// StoppedAt is when the run finished; zero if not finished.
	StoppedAt time.Time
	// Output is the raw rendered output of a task run.
	Output string
	// Logs is a JSON array of log entries.
	Logs json.RawMessage
	// Errors is a JSON array of error entries.
	Errors json.RawMessage
	// Result is the run's result JSON.
	Result json.RawMessage
	// ResultMeta is extra result metadata JSON (API timings and costs).
	ResultMeta json.RawMessage
	// Error is the failure message of a failed run (or of the last failed attempt).
	Error string
	// ActionType is the action type of an action run, e.g. "shopify".
	ActionType string
	// ActionOptions is the action options JSON of an action run.
	ActionOptions json.RawMessage
	// ActionMeta is the action meta JSON of an action run.
	ActionMeta json.RawMessage
}

// NewRun holds the fields of a task or action run created as an effect.
type NewRun struct {
	// ID should be derived from the parent run (DerivedID) so that a
	// repeated completion inserts nothing twice; empty means random.
	ID string
	// Kind is KindTask or KindAction.
	Kind RunKind
	// EventID is the event the run belongs to.
	EventID string
	// TaskID is the task.
	TaskID string
	// ParentRunID is the creating run.
	ParentRunID string
	// Seq is the action index.
	Seq int
	// RunAt schedules the run; zero means now.
	RunAt time.Time
	// Paused creates the run unscheduled until released.
	Paused bool
	// ActionType is the action type.
	ActionType string
	// ActionOptions is the action options JSON.
	ActionOptions json.RawMessage
	// ActionMeta is the action meta JSON.
	ActionMeta json.RawMessage
}

// RunFilter narrows a run listing.
type RunFilter struct {
	// Kind keeps only runs of this kind.
	Kind RunKind
	// EventID keeps only runs of this event.
	EventID string
	// TaskID keeps only runs of this task.
	TaskID string
	// ParentRunID keeps only runs created by this run.
	ParentRunID string
	// Status keeps only runs in this state.
	Status RunStatus
	// Since keeps only runs created at or after this time, when set.
	Since time.Time
	// Until keeps only runs created before this time, when set.
	Until time.Time
	// Page selects the page.
	Page Page
}

// Job is a claimed run, leased to one worker until LeaseUntil.
type Job struct {
	// Run is the claimed run as it is after claiming.
	Run Run
	// Attempt is the attempt number this claim represents (1-based).
	Attempt int
	// Token identifies this claim (the run's claim count); only the holder
	// of the latest claim may extend, complete or fail the run.
	Token int64
	// LeaseUntil is when the lease ends unless extended.
	LeaseUntil time.Time
	// Interrupted reports that the run was still running when claimed: the
	// previous attempt's lease ended without an outcome (e.g. the process
	// was killed), so its side effects may have happened already.
	Interrupted bool
}

// Result is the successful outcome of a job.
type Result struct {
	// Output is the raw rendered output (task runs).
	Output string
	// Logs is a JSON array of logs.
	Logs json.RawMessage
	// Errors is a JSON array of errors.
	Errors json.RawMessage
	// Result is the result JSON.
	Result json.RawMessage
	// ResultMeta is the result metadata JSON.
	ResultMeta json.RawMessage
	// Effects are recorded in the same transaction as the completion.
	Effects Effects
}

// Failure is the failed outcome of one attempt of a job.
type Failure struct {
	// Error is the failure message.
	Error string
	// Permanent marks the failure as not worth retrying.
	Permanent bool
	// Schedule gives the retry delays; nil means DefaultRetrySchedule().
	Schedule RetrySchedule
	// Output, Logs, Errors, Result and ResultMeta are recorded as for Result.
	Output string
	// Logs is a JSON array of logs.
	Logs json.RawMessage
	// Errors is a JSON array of errors.
	Errors json.RawMessage
	// Result is the result JSON.
	Result json.RawMessage
	// ResultMeta is the result metadata JSON.
	ResultMeta json.RawMessage
	// Effects are recorded only if the run fails for good (no retry left),
	// in the same transaction (e.g. an error event).
	Effects Effects
}

// RunFailure marks a pending run as failed (e.g. the rest of a halted sequence).
type RunFailure struct {
	// RunID is the run to fail.
	RunID string
	// Error is the failure message.
	Error string
}

// Effects are the follow-up records of a finished run, committed atomically
// with the run's new state. Inserts are keyed by id and ignored when the id
// exists, so deriving ids from the parent run makes them exactly-once.
type Effects struct {
	// Events are child events to insert, each with its event run.
	Events []NewEvent
	// Runs are task or action runs to insert.
	Runs []NewRun
	// Release makes these paused runs due now.
	Release []string
	// Fail fails these pending runs.
	Fail []RunFailure
	// Cache applies these cache commands.
	Cache []CacheOp
}

// CacheOpKind is a cache command.
type CacheOpKind string

// Cache commands.
const (
	// CacheSet stores a value.
	CacheSet CacheOpKind = "set"
	// CacheIncr adds Delta to an integer value (missing counts as 0).
	CacheIncr CacheOpKind = "incr"
	// CacheDel deletes a key.
	CacheDel CacheOpKind = "del"
)

// CacheOp is one cache command.
type CacheOp struct {
	// Kind is the command.
	Kind CacheOpKind
	// Key is the cache key.
	Key string
	// Value is the JSON value for CacheSet.
	Value json.RawMessage
	// Delta is the increment for CacheIncr (negative to decrement).
	Delta int64
	// TTL is the entry's time to live; zero or less means DefaultCacheTTL.
	TTL time.Duration
}

// CacheEntry is a stored cache value.
type CacheEntry struct {
	// Key is the cache key.
	Key string
	// Value is the JSON value.
	Value json.RawMessage
	// ExpiresAt is when the entry expires.
	ExpiresAt time.Time
}

// CacheEndpoint publishes one cache key at an unguessable URL.
type CacheEndpoint struct {
	// ID is the unguessable id used in the URL.
	ID string
	// Key is the cache key served.
	Key string
	// ContentType is the response content type, e.g. "application/json".
	ContentType string
	// CreatedAt is when the endpoint was created.
	CreatedAt time.Time
}

// Page selects one page of a newest-first listing.
type Page struct {
	// Limit is the page size; zero or less means DefaultPageLimit, and it is
	// capped at MaxPageLimit.
	Limit int
	// Cursor is the Next value of the previous page; empty for the first page.
	Cursor string
}

// PruneStats counts what Prune deleted.
type PruneStats struct {
	// Events is the number of events deleted.
	Events int
	// Runs is the number of runs deleted.
	Runs int
	// CacheEntries is the number of expired cache entries deleted.
	CacheEntries int
}

// QueueStats summarises the queue, e.g. for a shop status endpoint.
type QueueStats struct {
	// Due counts pending runs whose time has come, by kind.
	Due map[RunKind]int
	// Scheduled counts pending runs due in the future (including retries), by kind.
	Scheduled map[RunKind]int
	// Running counts leased runs, by kind (including expired leases not yet retaken).
	Running map[RunKind]int
	// OldestDue is when the longest-waiting due run became due; zero if none.
	OldestDue time.Time
}

// SettingKind names a family of settings.
type SettingKind string

// Setting kinds used by Sprocket; others may be added freely.
const (
	// SettingGlobal is a global: Value is any JSON value.
	SettingGlobal SettingKind = "global"
	// SettingSecret is a secret: Value is a JSON string.
	SettingSecret SettingKind = "secret"
	// SettingEventFilter is an account event filter: Value is {"name","template"}.
	SettingEventFilter SettingKind = "event_filter"
	// SettingAPIToken is an API token keyed by its hash: Value holds its metadata.
	SettingAPIToken SettingKind = "api_token"
	// SettingTaskPause records why a task was paused by the event-rate
	// guard, keyed by task id: Value is {"reason", "paused_at"}.
	SettingTaskPause SettingKind = "task_pause"
)

// Setting is one keyed JSON value of a kind (globals, secrets, event
// filters, API tokens and other small account-level records).
type Setting struct {
	// Kind is the family.
	Kind SettingKind
	// Key is unique within the kind.
	Key string
	// Value is the JSON value.
	Value json.RawMessage
	// CreatedAt is when the key was first set.
	CreatedAt time.Time
	// UpdatedAt is when the value last changed.
	UpdatedAt time.Time
}

// ClaimOptions selects what ClaimFiltered may lease.
type ClaimOptions struct {
	// Limit is the most jobs leased.
	Limit int
	// Lease is how long the jobs are leased for.
	Lease time.Duration
	// Kinds, when non-empty, restricts the claim to these run kinds.
	Kinds []RunKind
	// SkipActionTypes leaves action runs of these types in the queue (e.g.
	// "shopify" while the Shopify API rate limit is exhausted).
	SkipActionTypes []string
	// SkipTaskIDs leaves the task runs and action runs of these tasks in
	// the queue (tasks at their concurrency limit); runs behind them are
	// claimed in their place. Event runs belong to no task and are never
	// skipped by it.
	SkipTaskIDs []string
	// Node names the claiming node (process); it is recorded with each
	// attempt. Empty records no node.
	Node string
}

// AttemptOutcome is how one attempt of a run ended.
type AttemptOutcome string

// Attempt outcomes. An attempt still in progress has no outcome.
const (
	// OutcomeSuccess is an attempt that completed the run.
	OutcomeSuccess AttemptOutcome = "success"
	// OutcomeError is an attempt that failed (the run was rescheduled or
	// failed for good); Attempt.Error says why.
	OutcomeError AttemptOutcome = "error"
	// OutcomeInterrupted is an attempt whose lease ran out before it
	// recorded an outcome (the process died or hung); it is closed by the
	// claim that takes the run again. Its side effects may have happened.
	OutcomeInterrupted AttemptOutcome = "interrupted"
)

// InterruptedAttemptError is the error text of an interrupted attempt.
const InterruptedAttemptError = "lease expired before the attempt recorded an outcome (process killed, crashed or stalled); its side effects may have happened"

// Reperformed reports whether a run was taken again after an attempt
// that was interrupted (its side effects may have happened twice).
func Reperformed(attempts []Attempt) bool {
	return slices.ContainsFunc(attempts, func(a Attempt) bool { return a.Outcome == OutcomeInterrupted })
}

// MaxAttemptsListed caps RunAttempts: the latest attempts are returned.
const MaxAttemptsListed = 100

// Attempt is one attempt of a run: one claim of it by a worker.
type Attempt struct {
	// RunID is the run.
	RunID string
	// Number numbers the run's attempts from 1 (the claim count; unlike
	// Run.Attempts it is not reset by a manual retry).
	Number int64
	// RetryAttempt is Run.Attempts as of this attempt (reset to 1 by a
	// manual retry; the retry schedule is indexed by it).
	RetryAttempt int
	// Node is the node that claimed the run, when known.
	Node string
	// StartedAt is when the run was claimed.
	StartedAt time.Time
	// FinishedAt is when the attempt ended; zero while in progress.
	FinishedAt time.Time
	// Outcome is how the attempt ended; empty while in progress.
	Outcome AttemptOutcome
	// Error is the failure message of an error or interrupted attempt.
	Error string
}
