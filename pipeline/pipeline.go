// Package pipeline is Sprocket's run pipeline: workers that take runs from
// the store's durable queue and perform them, in Mechanic's run model
// (docs: core/runs/*).
//
//   - An event run finds the enabled tasks whose subscriptions match the
//     event's topic and creates one task run per matching subscription,
//     scheduled later when the subscription has an offset ("+2.hours").
//   - A task run renders the task's current definition for the event
//     (through a TaskRenderer) and, unless it rendered error objects,
//     creates one action run per action object, in sequence when the task
//     asks for it.
//   - An action run is performed by the performer registered for its type
//     in an action.Registry; its outcome may produce a
//     mechanic/actions/perform event delivered to the originating task.
//
// Each run is performed at least once; its follow-up records are committed
// with its completion in one transaction under ids derived from the run
// (see store.DerivedID), so they are recorded exactly once even when a
// worker dies after performing and the run is taken again.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Store is what the pipeline needs from the storage layer.
// store/sqlite's Store satisfies it, and also offers TaskSubscriptions,
// which the pipeline uses when present to match events without loading
// task definitions.
type Store interface {
	// GetTask reads a task with its definition.
	GetTask(ctx context.Context, id string) (store.Task, error)
	// ListTasks lists tasks (the fallback for matching subscriptions).
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, string, error)
	// GetEvent reads an event.
	GetEvent(ctx context.Context, id string) (store.Event, error)
	// GetRun reads a run.
	GetRun(ctx context.Context, id string) (store.Run, error)
	// ListRuns lists runs (the rest of an action sequence).
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, string, error)
	// RetryRun makes a finished run due again (manual retry).
	RetryRun(ctx context.Context, id string) (store.Run, error)
	// Queue leases runs and records their outcomes.
	store.Queue
	// Prune deletes old finished events and runs.
	Prune(ctx context.Context, olderThan time.Time) (store.PruneStats, error)
}

// Defaults of Config.
const (
	DefaultWorkers       = 32
	DefaultLease         = 30 * time.Second
	DefaultPollInterval  = time.Second
	DefaultShutdownGrace = 10 * time.Second
	DefaultRetention     = 15 * 24 * time.Hour
	DefaultPruneInterval = time.Hour
	DefaultMaxActions    = 10_000
	// MaxParentGenerations is how many ancestors of an event a task run sees.
	MaxParentGenerations = 5
)

// Config configures a Pipeline. Store, Renderer and Actions are required.
type Config struct {
	// Store holds the queue and records.
	Store Store
	// Renderer renders task runs.
	Renderer TaskRenderer
	// Actions performs action runs by type.
	Actions *action.Registry
	// EventFilter, when set, runs the account's event filters in each
	// event run (see SettingsEventFilters).
	EventFilter EventFilter
	// Throttle, when set, is asked before each claim which runs to hold
	// back for now (e.g. task runs and shopify actions while the Shopify
	// API rate limit recovers); other due runs are claimed meanwhile.
	Throttle Throttle
	// Secrets resolves secret references in action options (may be nil).
	Secrets action.SecretResolver
	// Node names this process in the runs' attempt history (empty: none).
	Node string
	// Workers is how many runs are performed at once (default 32; runs
	// mostly wait on I/O: HTTP, the store).
	Workers int
	// RenderGate, when set, is entered before each task run renders and
	// left when the render is done: it bounds the memory renders in
	// progress hold (run.MemoryGate). Runs wait for it without their wall
	// time running; they are not failed.
	RenderGate RenderGate
	// ShopConcurrency is the shop's run queue size: the most runs of one
	// shop performed at once, any mix of event, task and action runs. A
	// Sprocket store serves one shop, so it caps the whole pipeline; zero
	// means no limit beyond Workers.
	ShopConcurrency int
	// TaskConcurrency is the most runs of one task (its task runs and the
	// action runs they emitted) this pipeline performs at once, so that a
	// burst of one task cannot occupy every worker while other tasks' runs
	// wait: runs of a task at its limit stay queued and the runs behind
	// them are taken. Zero means DefaultTaskConcurrency of the concurrency;
	// negative means no limit. Counted per pipeline (per node).
	TaskConcurrency int
	// ConcurrencyShare, when set, is asked before each claim how many runs
	// this pipeline may perform at once right now (at most its
	// concurrency): several nodes sharing one shop's run queue size each
	// take their share of it. Zero or less means the full concurrency.
	ConcurrencyShare func() int
	// ClaimBatch is the most runs claimed per queue transaction (default:
	// the concurrency).
	ClaimBatch int
	// Lease is how long a claimed run stays leased before another worker may
	// take it; workers renew it every Lease/3 while working (default 30s).
	Lease time.Duration
	// PollInterval is how often an idle pipeline looks for due runs without
	// a wake-up (scheduled runs and retries come due this way; default 1s).
	PollInterval time.Duration
	// ShutdownGrace is how long runs in progress may take to finish after
	// the context of Run ends; after it they are abandoned and their leases
	// expire (default 10s).
	ShutdownGrace time.Duration
	// RetrySchedule is the automatic retry delays (default Mechanic's).
	RetrySchedule store.RetrySchedule
	// MaxActions bounds the action objects of one task run (default 10,000).
	MaxActions int
	// TaskRunTimeout is the wall-time limit of a task run as a whole
	// (rendering with its reads: cache, Shopify), default Mechanic's 20 s
	// (run.DefaultTimeout). A run that ends past it fails, whatever it
	// rendered.
	TaskRunTimeout time.Duration
	// Location is the shop's time zone, used for day-based subscription
	// offsets and times in perform events (default UTC).
	Location *time.Location
	// Clock tells the time (default the system clock).
	Clock store.Clock
	// Retention is how long finished events and runs are kept (default 15
	// days); negative disables pruning.
	Retention time.Duration
	// PruneInterval is how often pruning runs (default 1h).
	PruneInterval time.Duration
	// ErrorEvents enables mechanic/errors/event, mechanic/errors/task and
	// mechanic/errors/action events for failed event, task and action runs.
	ErrorEvents bool
	// MaxEventGenerations bounds how deep a chain of child events may go
	// (DefaultMaxEventGenerations when zero; negative: no bound).
	MaxEventGenerations int
	// Logger receives the pipeline's logs (default slog.Default()).
	Logger *slog.Logger
	// MaxChildEventsPerMinute is the event-rate guard: a task whose runs
	// create more child events (event actions, mechanic/actions/perform
	// events) per minute, beyond a burst of the same number, is paused
	// (default DefaultMaxChildEventsPerMinute; negative disables).
	MaxChildEventsPerMinute int
	// Pauser pauses runaway tasks (nil: the pipeline disables them in
	// its store).
	Pauser TaskPauser
	// Tracer, when set, records a trace span for each run attempt (see
	// internal/tracing); nil records none.
	Tracer Tracer
}

// memoSize bounds the in-memory memos of events and task runs, and
// memoMaxEventBytes the data of a memoised event (so the event memo stays
// under about 64 MiB).
const (
	memoSize          = 4096
	memoMaxEventBytes = 16 << 10
)

// Throttle holds back some runs, e.g. during API rate limiting.
type Throttle interface {
	// Hold returns the run kinds and the action types not to start now.
	Hold() (kinds []store.RunKind, actionTypes []string)
}

// allKinds lists the run kinds, highest priority first.
var allKinds = []store.RunKind{store.KindAction, store.KindTask, store.KindEvent}

// DefaultTaskConcurrency is the per-task limit used when
// Config.TaskConcurrency is zero: a quarter of the pipeline's concurrency,
// at least 1.
func DefaultTaskConcurrency(concurrency int) int { return max(1, concurrency/4) }

// claim leases up to n due runs, honouring the throttle, skipping the
// tasks in skipTasks (those at their concurrency limit) and, with
// holdTasks, every task run.
func (p *Pipeline) claim(ctx context.Context, n int, skipTasks []string, holdTasks bool) ([]store.Job, error) {
	var heldKinds []store.RunKind
	var heldTypes []string
	if p.cfg.Throttle != nil {
		heldKinds, heldTypes = p.cfg.Throttle.Hold()
	}
	if holdTasks {
		heldKinds = append(slices.Clip(heldKinds), store.KindTask)
	}
	if len(heldKinds) == 0 && len(heldTypes) == 0 && len(skipTasks) == 0 {
		if p.cfg.Node == "" {
			return p.st.Claim(ctx, n, p.cfg.Lease)
		}
		return p.st.ClaimFiltered(ctx, store.ClaimOptions{Limit: n, Lease: p.cfg.Lease, Node: p.cfg.Node})
	}
	kinds := make([]store.RunKind, 0, len(allKinds))
	for _, k := range allKinds {
		if !slices.Contains(heldKinds, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	return p.st.ClaimFiltered(ctx, store.ClaimOptions{Limit: n, Lease: p.cfg.Lease, Kinds: kinds, SkipActionTypes: heldTypes,
		SkipTaskIDs: skipTasks, Node: p.cfg.Node})
}

// taskSlots counts the runs of each task in progress in this pipeline
// (task runs and action runs; event runs belong to no task) against the
// per-task limit.
type taskSlots struct {
	limit int // 0: no limit
	mu    sync.Mutex
	busy  map[string]int
}

// plan returns the tasks at their limit, to be skipped by the next claim,
// and how many runs that claim may take (at most want) so that no other
// task can pass its limit: the smallest room left to any task not
// skipped, a task with nothing in progress having the whole limit.
func (t *taskSlots) plan(want int) (skip []string, n int) {
	if t.limit <= 0 {
		return nil, want
	}
	n = min(want, t.limit)
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, c := range t.busy {
		if room := t.limit - c; room <= 0 {
			skip = append(skip, id)
		} else {
			n = min(n, room)
		}
	}
	slices.Sort(skip) // a stable list for the store's statement
	return skip, n
}

// take counts a claimed run in progress.
func (t *taskSlots) take(r store.Run) {
	if t.limit <= 0 || r.TaskID == "" {
		return
	}
	t.mu.Lock()
	t.busy[r.TaskID]++
	t.mu.Unlock()
}

// release counts a run as finished.
func (t *taskSlots) release(r store.Run) {
	if t.limit <= 0 || r.TaskID == "" {
		return
	}
	t.mu.Lock()
	if t.busy[r.TaskID]--; t.busy[r.TaskID] <= 0 {
		delete(t.busy, r.TaskID)
	}
	t.mu.Unlock()
}

// inProgress returns how many runs of the task are in progress.
func (t *taskSlots) inProgress(taskID string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy[taskID]
}

// Pipeline performs runs from the queue. Create it with New and start it
// with Run.
type Pipeline struct {
	cfg   Config
	st    Store
	log   *slog.Logger
	clock store.Clock
	sched store.RetrySchedule
	limit int
	tasks *taskSlots
	// rendering counts the task runs claimed and not yet finished, held
	// to renderLimit (0: no limit) so that task runs waiting for render
	// memory do not hold workers other runs could use.
	rendering   atomic.Int64
	renderLimit int64
	wake        chan struct{}
	guard       *rateGuard // nil: no event-rate guard
	subs        sync.Map   // task id -> subsEntry
	// events and taskRuns remember records the next runs of a chain read:
	// events are immutable, and a task run's metadata is fixed once it
	// has created its action runs.
	events   *memo[string, store.Event]
	taskRuns *memo[string, taskRunInfo]
}

type subsEntry struct {
	key  string
	subs []task.Subscription
}

// New validates cfg, fills in defaults and returns a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Store == nil {
		return nil, errors.New("pipeline: Config.Store is required")
	}
	if cfg.Renderer == nil {
		return nil, errors.New("pipeline: Config.Renderer is required")
	}
	if cfg.Actions == nil {
		return nil, errors.New("pipeline: Config.Actions is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = store.DefaultRetrySchedule()
	}
	if cfg.MaxActions <= 0 {
		cfg.MaxActions = DefaultMaxActions
	}
	if cfg.TaskRunTimeout <= 0 {
		cfg.TaskRunTimeout = run.DefaultTimeout
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Clock == nil {
		cfg.Clock = store.SystemClock{}
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = DefaultPruneInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxEventGenerations == 0 {
		cfg.MaxEventGenerations = DefaultMaxEventGenerations
	}
	if cfg.MaxChildEventsPerMinute == 0 {
		cfg.MaxChildEventsPerMinute = DefaultMaxChildEventsPerMinute
	}
	var guard *rateGuard
	if cfg.MaxChildEventsPerMinute > 0 {
		guard = newRateGuard(cfg.MaxChildEventsPerMinute)
	}
	limit := cfg.Workers
	if cfg.ShopConcurrency > 0 && cfg.ShopConcurrency < limit {
		limit = cfg.ShopConcurrency
	}
	if cfg.ClaimBatch <= 0 || cfg.ClaimBatch > limit {
		cfg.ClaimBatch = limit
	}
	taskLimit := cfg.TaskConcurrency
	switch {
	case taskLimit == 0:
		taskLimit = DefaultTaskConcurrency(limit)
	case taskLimit < 0:
		taskLimit = 0
	}
	cfg.TaskConcurrency = taskLimit
	var renderLimit int64
	if cfg.RenderGate != nil {
		if c := cfg.RenderGate.Concurrency(""); c > 0 && c < int64(limit) {
			renderLimit = c
		}
	}
	return &Pipeline{
		cfg:   cfg,
		st:    cfg.Store,
		log:   cfg.Logger,
		clock: cfg.Clock,
		sched: cfg.RetrySchedule,
		limit: limit,
		tasks: &taskSlots{limit: taskLimit, busy: map[string]int{}},

		renderLimit: renderLimit,
		wake:        make(chan struct{}, 1),
		guard:       guard,

		events:   newMemo[string, store.Event](memoSize),
		taskRuns: newMemo[string, taskRunInfo](memoSize),
	}, nil
}

// ActionTypes lists the action types the pipeline performs (those of its
// action registry), sorted.
func (p *Pipeline) ActionTypes() []string { return p.cfg.Actions.Types() }

// Concurrency returns how many runs the pipeline performs at once.
func (p *Pipeline) Concurrency() int { return p.limit }

// TaskConcurrency returns the most runs of one task the pipeline performs
// at once (0: no limit).
func (p *Pipeline) TaskConcurrency() int { return p.tasks.limit }

// allowed is how many runs may be in progress now: the concurrency, or
// the node's share of the shop's limit when that is smaller.
func (p *Pipeline) allowed() int {
	if p.cfg.ConcurrencyShare != nil {
		if s := p.cfg.ConcurrencyShare(); s > 0 && s < p.limit {
			return s
		}
	}
	return p.limit
}

// Wake tells the pipeline that runs may have become due (an event was
// inserted, a run retried); it never blocks.
func (p *Pipeline) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Retry manually retries a finished run that Mechanic's rules let a user
// retry (CanRetry): it becomes pending and due now, its previous result
// discarded, and the pipeline is woken.
func (p *Pipeline) Retry(ctx context.Context, runID string) (store.Run, error) {
	r, err := RetryRun(ctx, p.st, runID, "")
	if err != nil {
		return store.Run{}, err
	}
	p.Wake()
	return r, nil
}

// WakingInserter wraps an event inserter so that every successful insert
// wakes the pipeline (use it under a store.EventBatcher).
func (p *Pipeline) WakingInserter(ins store.EventInserter) store.EventInserter {
	return wakingInserter{ins: ins, p: p}
}

type wakingInserter struct {
	ins store.EventInserter
	p   *Pipeline
}

func (w wakingInserter) InsertEvents(ctx context.Context, evs []store.NewEvent) ([]store.Event, error) {
	out, err := w.ins.InsertEvents(ctx, evs)
	if err == nil {
		w.p.Wake()
	}
	return out, err
}

// Run performs runs until ctx ends, then lets runs in progress finish
// (for up to ShutdownGrace) and returns. It also prunes old records every
// PruneInterval unless Retention is negative.
func (p *Pipeline) Run(ctx context.Context) error {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	jobs := make(chan store.Job)
	slots := make(chan struct{}, p.limit)
	var wg sync.WaitGroup
	for range p.limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				p.process(workCtx, job)
				p.tasks.release(job.Run) // before the wake-up, which lets the dispatcher see the room
				if job.Run.Kind == store.KindTask {
					p.rendering.Add(-1)
				}
				<-slots
				p.Wake() // a finished run usually leaves new runs due
			}
		}()
	}
	var pruneDone chan struct{}
	if p.cfg.Retention > 0 {
		pruneDone = make(chan struct{})
		go func() {
			defer close(pruneDone)
			p.pruneLoop(ctx)
		}()
	}
	p.dispatch(ctx, jobs, slots)
	close(jobs)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(p.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		p.log.Warn("pipeline: shutdown grace period over; abandoning runs in progress (their leases will expire)")
		cancelWork()
		<-done
	}
	if pruneDone != nil {
		<-pruneDone
	}
	return nil
}

// dispatch claims due runs while there are free slots and hands them to
// the workers, until ctx ends.
func (p *Pipeline) dispatch(ctx context.Context, jobs chan<- store.Job, slots chan struct{}) {
	poll := time.NewTimer(p.cfg.PollInterval)
	defer poll.Stop()
	backoff := 100 * time.Millisecond
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if len(slots) > p.allowed() { // over this node's share: wait for runs to finish
			<-slots
			if !sleep(ctx, 20*time.Millisecond) {
				return
			}
			continue
		}
		held := p.gatherSlots(ctx, slots)
		// Tasks at their limit are skipped, and the claim is cut to the
		// room of the fullest other task, so none passes its limit.
		skipTasks, n := p.tasks.plan(held)
		// Task runs beyond the render gate's room would wait in workers:
		// none are claimed while it is full, and when it has less room
		// than the claim, the claim takes at most that many runs of any
		// kind and then the rest with task runs held, keeping the batch.
		holdTasks, first := false, n
		if p.renderLimit > 0 {
			room := p.renderLimit - p.rendering.Load()
			if room <= 0 {
				holdTasks = true
			} else {
				first = int(min(int64(n), room))
			}
		}
		for range held - n {
			<-slots
		}
		// Not cancellable: a claim that commits must reach the workers,
		// which finish it within the shutdown grace period.
		claimed, err := p.claim(context.WithoutCancel(ctx), first, skipTasks, holdTasks)
		if err == nil && len(claimed) == first && first < n {
			var more []store.Job
			if more, err = p.claim(context.WithoutCancel(ctx), n-first, skipTasks, true); err == nil {
				claimed = append(claimed, more...)
			} else {
				// The first claim committed: its runs go to the workers.
				p.log.Error("pipeline: claim runs", "err", err)
				err = nil
			}
		}
		if err != nil {
			for range n {
				<-slots
			}
			if ctx.Err() != nil {
				return
			}
			p.log.Error("pipeline: claim runs", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for range n - len(claimed) {
			<-slots
		}
		for _, j := range claimed {
			p.tasks.take(j.Run)
			if j.Run.Kind == store.KindTask {
				p.rendering.Add(1)
			}
			jobs <- j // a worker is free for every held slot
		}
		if len(claimed) == n {
			continue
		}
		// The queue had nothing more due, or only runs of tasks at their
		// limit: wait for a wake-up (every finished run sends one) or the
		// poll, rather than claiming again at once.
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(p.cfg.PollInterval)
		select {
		case <-p.wake:
		case <-poll.C:
		case <-ctx.Done():
			return
		}
	}
}

// claimGather is how long a busy dispatcher waits for more free slots
// before claiming, so that claims (write transactions) come in batches.
const claimGather = time.Millisecond

// gatherSlots takes more free slots after the first: all that are free
// now and, while other runs are in flight, those that free up within
// claimGather, up to a quarter of the concurrency (at least 1) or ClaimBatch.
// It returns how many slots are held for the claim.
func (p *Pipeline) gatherSlots(ctx context.Context, slots chan struct{}) int {
	n := 1
	for n < p.cfg.ClaimBatch && len(slots) < p.allowed() {
		select {
		case slots <- struct{}{}:
			n++
			continue
		default:
		}
		break
	}
	target := min(p.cfg.ClaimBatch, max(1, p.limit/4))
	if n >= target || len(slots) == n { // enough, or nothing else in flight
		return n
	}
	t := time.NewTimer(claimGather)
	defer t.Stop()
	for n < target && len(slots) < p.allowed() {
		select {
		case slots <- struct{}{}:
			n++
		case <-t.C:
			return n
		case <-ctx.Done():
			return n
		}
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *Pipeline) pruneLoop(ctx context.Context) {
	for {
		p.PruneOnce(ctx)
		if !sleep(ctx, p.cfg.PruneInterval) {
			return
		}
	}
}

// PruneOnce deletes events and runs that finished more than Retention ago
// (and expired cache entries), logging what it removed.
func (p *Pipeline) PruneOnce(ctx context.Context) (store.PruneStats, error) {
	cutoff := p.clock.Now().Add(-p.cfg.Retention)
	st, err := p.st.Prune(ctx, cutoff)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("pipeline: prune", "err", err)
		}
		return st, fmt.Errorf("prune before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	if st.Events+st.Runs+st.CacheEntries > 0 {
		p.log.Info("pipeline: pruned", "events", st.Events, "runs", st.Runs, "cache_entries", st.CacheEntries, "before", cutoff)
	}
	return st, nil
}

// process performs one claimed run and records its outcome.
func (p *Pipeline) process(workCtx context.Context, job store.Job) {
	jctx, cancel := context.WithCancelCause(workCtx)
	defer cancel(nil)
	stop := p.heartbeat(jctx, job, cancel)
	defer stop()
	var err error
	if p.cfg.Tracer != nil {
		n, start := &traceNote{}, time.Now()
		jctx = context.WithValue(jctx, traceNoteKey{}, n)
		defer func() { p.traceAttempt(workCtx, job, n, start, err) }()
	}
	switch job.Run.Kind {
	case store.KindEvent:
		err = p.eventRun(jctx, job)
	case store.KindTask:
		err = p.taskRun(jctx, job)
	case store.KindAction:
		err = p.actionRun(jctx, job)
	default:
		err = p.fail(jctx, job, store.Failure{Error: fmt.Sprintf("unknown run kind %q", job.Run.Kind), Permanent: true})
	}
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) || jctx.Err() != nil {
			p.log.Warn("pipeline: run abandoned", "run", job.Run.ID, "kind", job.Run.Kind, "attempt", job.Attempt, "err", err, "cause", context.Cause(jctx))
			return
		}
		p.log.Error("pipeline: record run outcome", "run", job.Run.ID, "kind", job.Run.Kind, "attempt", job.Attempt, "err", err)
	}
}

// heartbeat renews job's lease every Lease/3 until stop is called; if the
// lease is lost the job's context is cancelled.
func (p *Pipeline) heartbeat(ctx context.Context, job store.Job, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(p.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := p.st.Extend(ctx, job, p.cfg.Lease); err != nil {
					if errors.Is(err, store.ErrLeaseLost) {
						cancel(err)
						return
					}
					p.log.Warn("pipeline: extend lease", "run", job.Run.ID, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// final reports whether a failure of this attempt ends the run.
func (p *Pipeline) final(job store.Job, permanent bool) bool {
	if permanent {
		return true
	}
	_, retry := p.sched.Next(job.Attempt)
	return !retry
}

// exhausted reports whether the job has used up its attempts already (its
// lease expired on earlier attempts, e.g. because workers crashed).
func (p *Pipeline) exhausted(job store.Job) bool {
	return job.Attempt > p.sched.MaxAttempts()
}

func (p *Pipeline) complete(ctx context.Context, job store.Job, res store.Result) error {
	if ctx.Err() != nil { // lease lost or shutdown grace over: leave the run to its lease
		return fmt.Errorf("complete %s run %s: abandoned: %w", job.Run.Kind, job.Run.ID, context.Cause(ctx))
	}
	res.ResultMeta = markInterrupted(job, res.ResultMeta)
	if _, err := p.st.Complete(context.WithoutCancel(ctx), job, res); err != nil {
		return fmt.Errorf("complete %s run %s: %w", job.Run.Kind, job.Run.ID, err)
	}
	if n := p.note(ctx); n != nil {
		n.status, n.err = AttemptSucceeded, ""
		n.created, n.events = len(res.Effects.Runs), len(res.Effects.Events)
	}
	return nil
}

func (p *Pipeline) fail(ctx context.Context, job store.Job, f store.Failure) error {
	if ctx.Err() != nil {
		return fmt.Errorf("fail %s run %s: abandoned: %w", job.Run.Kind, job.Run.ID, context.Cause(ctx))
	}
	f.Schedule = p.sched
	f.ResultMeta = markInterrupted(job, f.ResultMeta)
	final := p.final(job, f.Permanent)
	if !final {
		f.Effects = store.Effects{} // effects only belong to the final failure
	}
	if _, err := p.st.Fail(context.WithoutCancel(ctx), job, f); err != nil {
		return fmt.Errorf("fail %s run %s: %w", job.Run.Kind, job.Run.ID, err)
	}
	if n := p.note(ctx); n != nil {
		n.status, n.err = AttemptRetrying, f.Error
		if final {
			n.status = AttemptFailed
		}
		n.created, n.events = len(f.Effects.Runs), len(f.Effects.Events)
	}
	p.logFailure(ctx, job, f, final)
	return nil
}

// logFailure reports a failed run attempt: a run failed for good at WARN,
// one that failed on its last allowed attempt (automatic retries
// exhausted) at ERROR, an attempt that will be retried at INFO.
func (p *Pipeline) logFailure(ctx context.Context, job store.Job, f store.Failure, final bool) {
	attrs := []any{"kind", job.Run.Kind, "run", job.Run.ID, "task", job.Run.TaskID, "event", job.Run.EventID, "attempt", job.Attempt, "err", f.Error}
	if job.Run.Kind == store.KindAction {
		attrs = append(attrs, "action_type", job.Run.ActionType)
	}
	switch {
	case !final:
		next, _ := p.sched.Next(job.Attempt)
		p.log.InfoContext(ctx, "pipeline: run attempt failed; it will be retried", append(attrs, "retry_in", next)...)
	case job.Attempt >= p.sched.MaxAttempts():
		p.log.ErrorContext(ctx, "pipeline: run failed; automatic retries exhausted", attrs...)
	default:
		p.log.WarnContext(ctx, "pipeline: run failed", attrs...)
	}
}

// runKey is the idempotency key of the current generation of a run: the
// same across lease expiries and automatic retries, different after each
// manual retry (which resets attempts but not claims), so that a manually
// retried run creates fresh follow-up records.
func runKey(r store.Run) string {
	gen := r.Claims - int64(r.Attempts)
	if gen <= 0 {
		return r.ID
	}
	return fmt.Sprintf("%s#%d", r.ID, gen)
}

// transientError marks a renderer error as worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// Transient marks err (returned by a TaskRenderer) as transient: the task
// run is retried on the retry schedule. Unmarked renderer errors fail the
// run for good. It returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

// IsTransient reports whether err was marked with Transient.
func IsTransient(err error) bool {
	var te *transientError
	return errors.As(err, &te)
}

// event reads an event, from the memo when this process saw it recently.
func (p *Pipeline) event(ctx context.Context, id string) (store.Event, error) {
	if ev, ok := p.events.get(id); ok {
		return ev, nil
	}
	ev, err := p.st.GetEvent(ctx, id)
	if err != nil {
		return store.Event{}, fmt.Errorf("load event %s: %w", id, err)
	}
	if len(ev.Data) <= memoMaxEventBytes {
		p.events.put(id, ev)
	}
	return ev, nil
}
