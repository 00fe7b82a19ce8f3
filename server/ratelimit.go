package server

import (
	"crypto/sha256"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RateLimits are the API's request limits, per minute unless said
// otherwise. Zero fields are not limited.
type RateLimits struct {
	// PerIP limits API requests per client IP, checked before the token.
	PerIP int
	// PerToken limits authenticated requests per API token.
	PerToken int
	// TaskWrites limits task creates, updates, deletes, enables,
	// disables and restores per token.
	TaskWrites int
	// ShopStatus limits GET /v1/shop/status per token.
	ShopStatus int
	// Previews limits task previews per token.
	Previews int
	// PreviewsRunningPerToken bounds previews running at once per token.
	PreviewsRunningPerToken int
	// PreviewsRunning bounds previews running at once in the shop.
	PreviewsRunning int
}

// MechanicRateLimits returns the task sync API limits Mechanic documents
// (docs: platform/mechanic-task-sync-api.md): 120 requests/min per IP,
// 300/min per token, 120 task writes/min, 60 shop status requests/min and
// 30 previews/min per token, at most 2 running previews per token and 4
// per shop. `sprocket serve` applies them by default.
func MechanicRateLimits() *RateLimits {
	return &RateLimits{
		PerIP: 120, PerToken: 300, TaskWrites: 120, ShopStatus: 60, Previews: 30,
		PreviewsRunningPerToken: 2, PreviewsRunning: 4,
	}
}

// routeClass sorts API routes into the classes that have their own limits.
type routeClass int

const (
	classOther routeClass = iota
	classTaskWrite
	classShopStatus
	classPreview
)

// classify tells the class of an API route pattern ("POST /v1/tasks").
func classify(pattern string) routeClass {
	method, path, _ := strings.Cut(pattern, " ")
	switch {
	case strings.HasSuffix(path, "/preview"):
		return classPreview
	case path == "/v1/shop/status":
		return classShopStatus
	case strings.HasPrefix(path, "/v1/tasks") && method != http.MethodGet:
		return classTaskWrite
	}
	return classOther
}

// limiter enforces RateLimits with one token bucket per (limit, key).
type limiter struct {
	cfg     RateLimits
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*rateBucket
	running map[string]int // previews running, by token key and "shop"
}

type rateBucket struct {
	tokens float64
	last   time.Time
}

// maxRateBuckets bounds the limiter's memory; full buckets are dropped
// beyond it.
const maxRateBuckets = 100_000

func newLimiter(cfg *RateLimits) *limiter {
	if cfg == nil {
		return nil
	}
	return &limiter{cfg: *cfg, now: time.Now, buckets: map[string]*rateBucket{}, running: map[string]int{}}
}

// take spends one request of the bucket (name, key) limited to perMinute;
// when none is left it returns how long until one is.
func (l *limiter) take(name, key string, perMinute int) (ok bool, wait time.Duration) {
	if perMinute <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	id := name + "\x00" + key
	b, found := l.buckets[id]
	if !found {
		if len(l.buckets) >= maxRateBuckets {
			l.sweep(now)
		}
		b = &rateBucket{tokens: float64(perMinute), last: now}
		l.buckets[id] = b
	}
	rate := float64(perMinute) / float64(time.Minute) // per nanosecond
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

// sweep drops buckets that are full again (their clients went quiet).
func (l *limiter) sweep(now time.Time) {
	for id, b := range l.buckets {
		if now.Sub(b.last) > time.Minute {
			delete(l.buckets, id)
		}
	}
}

// startPreview reserves a running preview for token; release frees it.
func (l *limiter) startPreview(token string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.cfg.PreviewsRunningPerToken; n > 0 && l.running[token] >= n {
		return nil, false
	}
	if n := l.cfg.PreviewsRunning; n > 0 && l.running["\x00shop"] >= n {
		return nil, false
	}
	l.running[token]++
	l.running["\x00shop"]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.running[token]--
		l.running["\x00shop"]--
		if l.running[token] == 0 {
			delete(l.running, token)
		}
	}, true
}

// clientIP is the request's peer address without the port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tokenKey identifies the request's bearer token in the limiter without
// keeping the token itself.
func tokenKey(r *http.Request) string {
	sum := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return string(sum[:16])
}

// tooMany is the 429 answer with Retry-After in whole seconds (at least 1).
func tooMany(what string, limit int, wait time.Duration) *apiError {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	e := errorf(http.StatusTooManyRequests, "", "rate limit reached: %s are limited to %d per minute; retry after %d s", what, limit, secs)
	e.retryAfter = secs
	return e
}

// checkBefore applies the per-IP limit (before the token is checked).
func (l *limiter) checkBefore(r *http.Request) *apiError {
	if l == nil {
		return nil
	}
	if ok, wait := l.take("ip", clientIP(r), l.cfg.PerIP); !ok {
		return tooMany("API requests from one IP address", l.cfg.PerIP, wait)
	}
	return nil
}

// checkAfter applies the per-token limits of an authenticated request of
// class c; for previews it also reserves a running slot, which the caller
// releases when done.
func (l *limiter) checkAfter(r *http.Request, c routeClass) (release func(), e *apiError) {
	if l == nil {
		return func() {}, nil
	}
	tok := tokenKey(r)
	if ok, wait := l.take("token", tok, l.cfg.PerToken); !ok {
		return nil, tooMany("API requests with one token", l.cfg.PerToken, wait)
	}
	switch c {
	case classTaskWrite:
		if ok, wait := l.take("task_writes", tok, l.cfg.TaskWrites); !ok {
			return nil, tooMany("task writes", l.cfg.TaskWrites, wait)
		}
	case classShopStatus:
		if ok, wait := l.take("shop_status", tok, l.cfg.ShopStatus); !ok {
			return nil, tooMany("shop status requests", l.cfg.ShopStatus, wait)
		}
	case classPreview:
		if ok, wait := l.take("previews", tok, l.cfg.Previews); !ok {
			return nil, tooMany("task previews", l.cfg.Previews, wait)
		}
		release, ok := l.startPreview(tok)
		if !ok {
			e := errorf(http.StatusTooManyRequests, "", "rate limit reached: at most %d previews may run at once per token and %d per shop; retry after 1 s",
				l.cfg.PreviewsRunningPerToken, l.cfg.PreviewsRunning)
			e.retryAfter = 1
			return nil, e
		}
		return release, nil
	}
	return func() {}, nil
}
