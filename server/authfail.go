package server

import (
	"math"
	"net/http"
	"sync"
	"time"
)

// DefaultAuthFailuresPerMinute is how many requests with a missing or
// wrong API token one client address may make per minute (with a burst of
// as many) before its requests are answered 429 without checking the token.
const DefaultAuthFailuresPerMinute = 30

// authFailures limits token guessing: only failed authentications spend
// from a client's bucket, so a client with a valid token is never slowed.
type authFailures struct {
	perMinute int
	now       func() time.Time
	mu        sync.Mutex
	buckets   map[string]*rateBucket
}

func newAuthFailures(perMinute int) *authFailures {
	if perMinute <= 0 {
		return nil
	}
	return &authFailures{perMinute: perMinute, now: time.Now, buckets: map[string]*rateBucket{}}
}

// refill brings ip's bucket up to date and returns it (nil when full and
// untracked).
func (a *authFailures) refill(ip string) *rateBucket {
	b := a.buckets[ip]
	if b == nil {
		return nil
	}
	now := a.now()
	rate := float64(a.perMinute) / float64(time.Minute)
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(a.perMinute), b.tokens+float64(el)*rate)
		b.last = now
	}
	if b.tokens >= float64(a.perMinute) {
		delete(a.buckets, ip)
		return nil
	}
	return b
}

// blocked returns how long ip must wait before its token is checked
// again; zero when it may try now.
func (a *authFailures) blocked(ip string) time.Duration {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.refill(ip)
	if b == nil || b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / (float64(a.perMinute) / float64(time.Minute)))
}

// failed records a failed authentication from ip.
func (a *authFailures) failed(ip string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.refill(ip)
	if b == nil {
		if len(a.buckets) >= maxRateBuckets {
			for k := range a.buckets {
				a.refill(k)
			}
		}
		b = &rateBucket{tokens: float64(a.perMinute), last: a.now()}
		a.buckets[ip] = b
	}
	b.tokens = math.Max(0, b.tokens-1)
}

// tooManyFailures is the 429 answer for a client that guessed too often.
func tooManyFailures(perMinute int, wait time.Duration) *apiError {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	e := errorf(http.StatusTooManyRequests, "", "too many requests with a missing or wrong API token from this address (at most %d per minute); retry after %d s", perMinute, secs)
	e.retryAfter = secs
	return e
}
