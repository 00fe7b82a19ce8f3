package webhook

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits bounds how fast clients may send webhook requests. Zero fields
// are not limited.
type Limits struct {
	// PerWebhook is the requests per minute one webhook accepts.
	PerWebhook int
	// PerIP is the requests per minute one client address may send.
	PerIP int
}

// DedupeKeyHeaders are the request headers whose value, when present,
// makes repeated requests to one webhook create a single event (the first
// one found is used).
var DedupeKeyHeaders = []string{"Idempotency-Key", "X-Request-Id"}

// MaxDedupeKeyLen bounds the length of a dedupe key header.
const MaxDedupeKeyLen = 255

// maxBuckets bounds the rate limiter's memory; buckets that have refilled
// are dropped beyond it.
const maxBuckets = 100_000

// rateLimiter keeps one token bucket per (kind, key).
type rateLimiter struct {
	limits  Limits
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(l Limits, now func() time.Time) *rateLimiter {
	if l.PerWebhook <= 0 && l.PerIP <= 0 {
		return nil
	}
	return &rateLimiter{limits: l, now: now, buckets: map[string]*bucket{}}
}

// take spends one request from bucket (kind, key) refilled at perMinute;
// when it is empty it returns how long until a request is allowed.
func (l *rateLimiter) take(kind, key string, perMinute int) (bool, time.Duration) {
	if l == nil || perMinute <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	id := kind + "\x00" + key
	b := l.buckets[id]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, old := range l.buckets {
				if now.Sub(old.last) > time.Minute {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: float64(perMinute), last: now}
		l.buckets[id] = b
	}
	rate := float64(perMinute) / float64(time.Minute)
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(perMinute), b.tokens+float64(el)*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate)
}

// setRetryAfter sets Retry-After to wait in whole seconds, at least 1.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
}

// dedupeKey returns the client's dedupe key header, or a message when it
// is too long.
func dedupeKey(r *http.Request) (key, problem string) {
	for _, name := range DedupeKeyHeaders {
		if v := r.Header.Get(name); v != "" {
			if len(v) > MaxDedupeKeyLen {
				return "", name + " header is longer than " + strconv.Itoa(MaxDedupeKeyLen) + " bytes"
			}
			return v, ""
		}
	}
	return "", ""
}
