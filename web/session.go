package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cookie names.
const (
	sessionCookie = "sprocket_session"
	// preCookie carries the sign-in form's CSRF token before a session exists.
	preCookie = "sprocket_signin"
	// csrfField is the form field (and csrfHeader the header htmx sends)
	// carrying the session's CSRF token.
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// maxSessions bounds the sessions kept in memory; the oldest is dropped
// when a new one would exceed it.
const maxSessions = 1000

// session is one signed-in browser.
type session struct {
	id   [sha256.Size]byte // hash of the cookie value
	csrf string
	// token is the API token the session signed in with; the session ends
	// when the token is no longer valid (a revoked API token).
	token   string
	created time.Time
	expires time.Time
	flash   []flash
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind string // "ok" or "error"
	Text string
}

// sessions keeps the signed-in sessions in memory, keyed by the SHA-256 of
// the cookie value (so a memory dump does not reveal usable cookies).
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[[sha256.Size]byte]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: make(map[[sha256.Size]byte]*session)}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for a token and returns its cookie value.
func (s *sessions) create(token string) (string, *session) {
	val := randomToken()
	now := s.now()
	sess := &session{id: sha256.Sum256([]byte(val)), csrf: randomToken(), token: token, created: now, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.m {
		if !now.Before(x.expires) {
			delete(s.m, id)
		}
	}
	if len(s.m) >= maxSessions {
		var oldest *session
		for _, x := range s.m {
			if oldest == nil || x.created.Before(oldest.created) {
				oldest = x
			}
		}
		delete(s.m, oldest.id)
	}
	s.m[sess.id] = sess
	return val, sess
}

// get returns the live session of a cookie value, or nil.
func (s *sessions) get(val string) *session {
	if val == "" {
		return nil
	}
	id := sha256.Sum256([]byte(val))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[id]
	if sess == nil {
		return nil
	}
	if !s.now().Before(sess.expires) {
		delete(s.m, id)
		return nil
	}
	return sess
}

// remove ends a session.
func (s *sessions) remove(sess *session) {
	s.mu.Lock()
	delete(s.m, sess.id)
	s.mu.Unlock()
}

// addFlash queues a message for the session's next page.
func (s *sessions) addFlash(sess *session, kind, text string) {
	s.mu.Lock()
	if len(sess.flash) < 5 {
		sess.flash = append(sess.flash, flash{Kind: kind, Text: text})
	}
	s.mu.Unlock()
}

// takeFlash returns and clears the session's messages.
func (s *sessions) takeFlash(sess *session) []flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := sess.flash
	sess.flash = nil
	return f
}

// secureRequest reports whether cookies should carry the Secure flag: the
// request came over TLS (or through a proxy saying so), or from anywhere
// but a loopback address — browsers drop Secure cookies sent over plain
// HTTP except to localhost, where plain HTTP is the usual way to open a
// self-hosted service.
func secureRequest(r *http.Request, always bool) bool {
	if always || isHTTPS(r) {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// isHTTPS reports whether the request came over TLS, directly or through
// a proxy that says so.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// cookieSecure decides the Secure flag of the UI's cookies.
func (u *UI) cookieSecure(r *http.Request) bool {
	if u.opts.PlainHTTPCookies && !isHTTPS(r) {
		return false
	}
	return secureRequest(r, u.opts.SecureCookies)
}

func equalTokens(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameOrigin rejects cross-site form posts by their Origin (or Referer)
// header when the browser sends one; the CSRF token is checked as well.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" || o == "null" {
		return o == ""
	}
	rest, ok := strings.CutPrefix(o, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(o, "https://")
	}
	if !ok {
		return false
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.EqualFold(host, r.Host)
}

// Sign-in throttling: after maxFailures failed sign-ins within
// failureWindow, sign-ins are refused until the window has passed.
const (
	maxFailures   = 20
	failureWindow = time.Minute
)

// throttle counts failed sign-ins.
type throttle struct {
	now func() time.Time

	mu       sync.Mutex
	failures []time.Time
}

// blocked reports whether sign-ins are currently refused.
func (t *throttle) blocked() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trim()
	return len(t.failures) >= maxFailures
}

// fail records a failed sign-in.
func (t *throttle) fail() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trim()
	if len(t.failures) < maxFailures {
		t.failures = append(t.failures, t.now())
	}
}

func (t *throttle) trim() {
	cut := t.now().Add(-failureWindow)
	i := 0
	for i < len(t.failures) && !t.failures[i].After(cut) {
		i++
	}
	t.failures = t.failures[i:]
}
