package shopify

import (
	"context"
	"crypto/sha256"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxCostMemo bounds the remembered requested costs of GraphQL documents.
const maxCostMemo = 4096

// costBucket models the shop's GraphQL cost bucket (a leaky bucket that
// refills at restoreRate points per second up to maximum). Requests in
// flight reserve their estimated cost; until Shopify has reported the
// bucket once, one request at a time is sent to learn it.
type costBucket struct {
	mu       sync.Mutex
	known    bool
	max      float64
	avail    float64 // points available at time at
	rate     float64
	at       time.Time
	reserved float64
	inflight int
	releases uint64        // count of completed requests
	changed  chan struct{} // closed and replaced when a request completes
	costs    map[[32]byte]float64
}

// reservation is the cost a request in flight holds, and the count of
// completed requests when it was sent.
type reservation struct {
	cost  float64
	epoch uint64
}

func newCostBucket() *costBucket {
	return &costBucket{changed: make(chan struct{}), costs: map[[32]byte]float64{}}
}

// level projects the points available at now (lock held).
func (b *costBucket) level(now time.Time) float64 {
	dt := now.Sub(b.at).Seconds()
	if dt < 0 {
		dt = 0
	}
	return math.Min(b.max, b.avail+b.rate*dt)
}

// costKey identifies a GraphQL document for the cost memo.
func costKey(query, operation string) [32]byte {
	return sha256.Sum256([]byte(operation + "\x00" + query))
}

// estimate returns the requested cost last seen for the document, or def.
func (b *costBucket) estimate(key [32]byte, def float64) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.costs[key]; ok {
		return c
	}
	return def
}

// remember records a document's requested cost.
func (b *costBucket) remember(key [32]byte, cost float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.costs[key]; !ok && len(b.costs) >= maxCostMemo {
		for k := range b.costs { // drop an arbitrary entry
			delete(b.costs, k)
			break
		}
	}
	b.costs[key] = cost
}

// acquire waits until the model affords cost, then reserves it. It
// returns the amount reserved (to pass to release). budget bounds the
// time it may wait on the clock; waited is added to the call's waiting.
func (b *costBucket) acquire(ctx context.Context, s *callState, cost float64) (reservation, error) {
	counted := false
	for {
		b.mu.Lock()
		if !b.known {
			if b.inflight == 0 {
				b.inflight++
				b.reserved += cost
				b.mu.Unlock()
				return reservation{cost, b.releases}, nil
			}
			ch := b.changed
			b.mu.Unlock()
			// Wait for the request in flight to tell the bucket's size.
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return reservation{}, ctx.Err()
			}
		}
		now := s.c.clock.Now()
		need := math.Min(cost, b.max)
		free := b.level(now) - b.reserved
		if free >= need {
			b.inflight++
			b.reserved += need
			r := reservation{need, b.releases}
			b.mu.Unlock()
			return r, nil
		}
		ch := b.changed
		var wait time.Duration
		if b.max-b.reserved >= need && b.rate > 0 {
			wait = time.Duration((need-free)/b.rate*float64(time.Second)) + 5*time.Millisecond
		}
		inflight := b.inflight
		b.mu.Unlock()
		if !counted {
			counted = true
			s.c.metrics.waits.Add(1)
		}
		if err := s.waitFor(ctx, wait, inflight > 0, ch); err != nil {
			return reservation{}, err
		}
	}
}

// release ends a reservation and updates the model from the cost Shopify
// reported (nil when the answer had none). throttled tells that Shopify
// did not run the query.
func (b *costBucket) release(r reservation, cost *Cost, throttled bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The report is the whole truth only if no other request was in
	// flight while this one was: none is now, and none completed meanwhile.
	alone := b.inflight == 1 && b.releases == r.epoch
	b.releases++
	b.inflight--
	b.reserved -= r.cost
	if b.inflight == 0 || b.reserved < 0 {
		b.reserved = 0
	}
	if cost != nil && cost.ThrottleStatus.MaximumAvailable > 0 {
		ts := cost.ThrottleStatus
		reported := ts.CurrentlyAvailable
		if b.known && !alone {
			// Answers of concurrent requests may arrive out of order: a
			// report can be older than another request's debit. Keep the
			// lower of the report and the local accounting.
			spent := cost.RequestedQueryCost
			if cost.ActualQueryCost != nil {
				spent = *cost.ActualQueryCost
			} else if throttled {
				spent = 0
			}
			if local := b.level(now) - spent; local < reported {
				reported = local
			}
		}
		b.known = true
		b.max, b.rate = ts.MaximumAvailable, ts.RestoreRate
		b.avail, b.at = reported, now
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *costBucket) snapshot(now time.Time, s *ThrottleSnapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.GraphQLKnown = b.known
	if b.known {
		s.GraphQLAvailable = b.level(now)
		s.GraphQLMaximum = b.max
		s.GraphQLRestoreRate = b.rate
	}
	s.GraphQLReserved = b.reserved
}

// low reports whether the projected free points are below frac of the bucket.
func (b *costBucket) low(now time.Time, frac float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.known && b.level(now)-b.reserved < frac*b.max
}

// restBucket models the REST leaky bucket from X-Shopify-Shop-Api-Call-Limit
// ("used/limit"); it leaks limit/20 requests per second (2/s for 40,
// 20/s for 400), as Shopify documents.
type restBucket struct {
	mu       sync.Mutex
	known    bool
	used     float64
	limit    float64
	at       time.Time
	inflight int
	releases uint64
	changed  chan struct{}
}

func newRESTBucket() *restBucket { return &restBucket{changed: make(chan struct{})} }

func (b *restBucket) rate() float64 { return b.limit / 20 }

// fill projects the used slots at now (lock held).
func (b *restBucket) fill(now time.Time) float64 {
	dt := now.Sub(b.at).Seconds()
	if dt < 0 {
		dt = 0
	}
	return math.Max(0, b.used-b.rate()*dt)
}

// acquire waits until one more request fits the bucket, then reserves it.
func (b *restBucket) acquire(ctx context.Context, s *callState) (uint64, error) {
	counted := false
	for {
		b.mu.Lock()
		if !b.known {
			if b.inflight == 0 {
				b.inflight++
				e := b.releases
				b.mu.Unlock()
				return e, nil
			}
			ch := b.changed
			b.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		now := s.c.clock.Now()
		over := b.fill(now) + float64(b.inflight) + 1 - b.limit
		if over <= 0 {
			b.inflight++
			e := b.releases
			b.mu.Unlock()
			return e, nil
		}
		ch := b.changed
		var wait time.Duration
		if float64(b.inflight)+1 <= b.limit {
			wait = time.Duration(over/b.rate()*float64(time.Second)) + 5*time.Millisecond
		}
		inflight := b.inflight
		b.mu.Unlock()
		if !counted {
			counted = true
			s.c.metrics.waits.Add(1)
		}
		if err := s.waitFor(ctx, wait, inflight > 0, ch); err != nil {
			return 0, err
		}
	}
}

// release ends the reservation of the request sent at epoch and updates
// the model from the response header (nil when there was no answer).
func (b *restBucket) release(epoch uint64, h http.Header, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	alone := b.inflight == 1 && b.releases == epoch
	b.releases++
	b.inflight--
	if used, limit, ok := parseCallLimit(h.Get("X-Shopify-Shop-Api-Call-Limit")); ok {
		if b.known && !alone {
			if local := b.fill(now) + 1; local > used {
				used = local
			}
		}
		b.known = true
		b.used, b.limit, b.at = used, limit, now
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// parseCallLimit parses "used/limit".
func parseCallLimit(v string) (used, limit float64, ok bool) {
	a, l, found := strings.Cut(strings.TrimSpace(v), "/")
	if !found {
		return 0, 0, false
	}
	u, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	n, err2 := strconv.ParseFloat(strings.TrimSpace(l), 64)
	if err1 != nil || err2 != nil || n <= 0 || u < 0 {
		return 0, 0, false
	}
	return u, n, true
}

func (b *restBucket) snapshot(now time.Time, s *ThrottleSnapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.RESTKnown = b.known
	if b.known {
		s.RESTUsed = b.fill(now)
		s.RESTLimit = b.limit
	}
}

// high reports whether the REST bucket is within frac of full.
func (b *restBucket) high(now time.Time, frac float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.known && b.fill(now)+float64(b.inflight) >= (1-frac)*b.limit
}
