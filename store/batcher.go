package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrBatcherClosed is returned by EventBatcher.Insert after Close.
var ErrBatcherClosed = errors.New("store: event batcher closed")

// BatcherOptions tunes an EventBatcher.
type BatcherOptions struct {
	// MaxBatch is the most events committed in one transaction (default 1024).
	MaxBatch int
	// MaxWait is how long the first event of a batch waits for company
	// before the batch is committed (default 1ms).
	MaxWait time.Duration
	// Logger receives batch failures (default slog.Default()).
	Logger *slog.Logger
}

type batchReq struct {
	ev   NewEvent
	out  Event
	err  error
	done chan struct{}
}

// EventBatcher group-commits events: many concurrent callers each block
// until their event is committed, while events are written in batches of up
// to MaxBatch per transaction. It is the fast, durable ack path for webhook
// endpoints: once Insert returns nil, the event is in the store.
type EventBatcher struct {
	ins     EventInserter
	max     int
	wait    time.Duration
	log     *slog.Logger
	reqs    chan *batchReq
	mu      sync.RWMutex
	closed  bool
	done    chan struct{}
	reqPool sync.Pool
}

// NewEventBatcher starts a batcher writing to ins; call Close to stop it.
func NewEventBatcher(ins EventInserter, opts BatcherOptions) *EventBatcher {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := &EventBatcher{
		ins:  ins,
		max:  opts.MaxBatch,
		wait: opts.MaxWait,
		log:  opts.Logger,
		reqs: make(chan *batchReq, 4*opts.MaxBatch),
		done: make(chan struct{}),
	}
	b.reqPool.New = func() any { return &batchReq{done: make(chan struct{}, 1)} }
	go b.loop()
	return b
}

// Insert queues ev (assigning an id if it has none) and waits until it is
// committed. If ctx ends first, ctx's error is returned and the event may or
// may not have been stored.
func (b *EventBatcher) Insert(ctx context.Context, ev NewEvent) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("queue event: %w", err)
	}
	if ev.ID == "" {
		ev.ID = NewTimeID(time.Now())
	}
	r := b.reqPool.Get().(*batchReq)
	r.ev, r.out, r.err = ev, Event{}, nil
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return Event{}, ErrBatcherClosed
	}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		b.mu.RUnlock()
		return Event{}, fmt.Errorf("queue event: %w", ctx.Err())
	}
	b.mu.RUnlock()
	select {
	case <-r.done:
		out, err := r.out, r.err
		r.ev, r.out, r.err = NewEvent{}, Event{}, nil
		b.reqPool.Put(r)
		return out, err
	case <-ctx.Done():
		// r is still owned by the loop; it is not returned to the pool.
		return Event{}, fmt.Errorf("wait for event commit: %w", ctx.Err())
	}
}

// Close stops accepting events, commits those already queued and waits for
// the batcher to finish.
func (b *EventBatcher) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.reqs)
	}
	b.mu.Unlock()
	<-b.done
	return nil
}

func (b *EventBatcher) loop() {
	defer close(b.done)
	batch := make([]*batchReq, 0, b.max)
	evs := make([]NewEvent, 0, b.max)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		r, ok := <-b.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		open := b.fill(&batch, timer)
		evs = evs[:0]
		for _, r := range batch {
			evs = append(evs, r.ev)
		}
		b.flush(batch, evs)
		if !open {
			return
		}
	}
}

// fill adds queued requests to batch until it is full or MaxWait passed;
// it reports false once the request channel is closed.
func (b *EventBatcher) fill(batch *[]*batchReq, timer *time.Timer) bool {
	// Take whatever is already waiting without blocking.
	for len(*batch) < b.max {
		select {
		case r, ok := <-b.reqs:
			if !ok {
				return false
			}
			*batch = append(*batch, r)
			continue
		default:
		}
		break
	}
	if len(*batch) >= b.max {
		return true
	}
	timer.Reset(b.wait)
	defer timer.Stop()
	for len(*batch) < b.max {
		select {
		case r, ok := <-b.reqs:
			if !ok {
				return false
			}
			*batch = append(*batch, r)
		case <-timer.C:
			return true
		}
	}
	return true
}

func (b *EventBatcher) flush(batch []*batchReq, evs []NewEvent) {
	ctx := context.Background()
	out, err := b.ins.InsertEvents(ctx, evs)
	if err == nil && len(out) != len(batch) {
		err = fmt.Errorf("insert events: got %d events back for %d", len(out), len(batch))
	}
	if err == nil {
		for i, r := range batch {
			r.out = out[i]
			r.done <- struct{}{}
		}
		return
	}
	b.log.Warn("event batch failed; inserting one by one", "events", len(batch), "err", err)
	// Isolate the failure so one bad event does not fail its neighbours.
	for _, r := range batch {
		one, err := b.ins.InsertEvents(ctx, []NewEvent{r.ev})
		switch {
		case err != nil:
			r.err = fmt.Errorf("insert event: %w", err)
		case len(one) != 1:
			r.err = fmt.Errorf("insert event: got %d events back for 1", len(one))
		default:
			r.out = one[0]
		}
		r.done <- struct{}{}
	}
}
