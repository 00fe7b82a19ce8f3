// Package logging builds the slog handlers of Sprocket's service: text or
// JSON lines at a minimum level, with warnings and errors rate-limited per
// message so that a failure repeating thousands of times a minute cannot
// drown the log (the lines that get through say how many were dropped).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Formats of NewHandler.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// ParseLevel reads a level name: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewHandler returns a handler writing records at level and above to w,
// as logfmt-style text or JSON lines.
func NewHandler(w io.Writer, level slog.Level, format string) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case FormatText, "":
		return slog.NewTextHandler(w, opts), nil
	case FormatJSON:
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// Default rate limit of RateLimit: per message, bursts of 10 lines, then
// one line every 6 seconds (10 a minute).
const (
	DefaultBurst = 10
	DefaultEvery = 6 * time.Second
)

// maxKeys bounds the limiter's memory; when more distinct messages are
// seen, the oldest state is forgotten.
const maxKeys = 1024

// RateLimit wraps h so that WARN and ERROR records are limited per
// message: up to burst at once, then one per every. A record that gets
// through after others were dropped carries "suppressed": their count.
// Lower levels pass unchanged. burst <= 0 and every <= 0 take the defaults.
func RateLimit(h slog.Handler, burst int, every time.Duration) slog.Handler {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &limited{h: h, l: &limiter{burst: float64(burst), every: every, now: time.Now, keys: map[string]*bucket{}}}
}

type limiter struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	now   func() time.Time
	keys  map[string]*bucket
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

// allow spends a token of key's bucket; it returns whether the record
// passes and, if so, how many were suppressed since the last that did.
func (l *limiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxKeys {
			clear(l.keys)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.keys[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.every))
		b.last = now
	}
	if b.tokens < 1 {
		b.suppressed++
		return false, 0
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return true, n
}

// limited is the rate-limiting handler; derived handlers share its limiter.
type limited struct {
	h slog.Handler
	l *limiter
}

// Enabled reports whether the wrapped handler takes records at level.
func (x *limited) Enabled(ctx context.Context, level slog.Level) bool {
	return x.h.Enabled(ctx, level)
}

// Handle passes the record on unless its message is over its rate.
func (x *limited) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return x.h.Handle(ctx, r)
	}
	ok, dropped := x.l.allow(r.Level.String() + "\x00" + r.Message)
	if !ok {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", dropped))
	}
	return x.h.Handle(ctx, r)
}

// WithAttrs derives a handler sharing the limiter.
func (x *limited) WithAttrs(as []slog.Attr) slog.Handler {
	return &limited{h: x.h.WithAttrs(as), l: x.l}
}

// WithGroup derives a handler sharing the limiter.
func (x *limited) WithGroup(name string) slog.Handler {
	return &limited{h: x.h.WithGroup(name), l: x.l}
}
