// Package connlimit caps the connections a listener keeps open, in total
// and per client address, so that many slow or half-sent connections
// cannot exhaust the process's file descriptors. Connections over a cap
// are accepted and closed at once (not left in the kernel's backlog).
package connlimit

import (
	"net"
	"sync"
	"sync/atomic"
)

// Limits are the caps; zero fields do not limit.
type Limits struct {
	// Total bounds the connections open at once.
	Total int
	// PerIP bounds the connections open at once from one client address.
	PerIP int
}

// Listener is a net.Listener enforcing Limits.
type Listener struct {
	net.Listener
	limits  Limits
	mu      sync.Mutex
	total   int
	perIP   map[string]int
	refused atomic.Int64
}

// Wrap returns ln with the limits applied; with no limits it returns a
// Listener that only counts.
func Wrap(ln net.Listener, l Limits) *Listener {
	return &Listener{Listener: ln, limits: l, perIP: map[string]int{}}
}

// Refused returns how many connections were closed for being over a cap.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Open returns the connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Accept waits for the next connection within the caps; connections over
// a cap are closed and not returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		if l.reserve(ip) {
			return &conn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		l.refused.Add(1)
		_ = c.Close()
	}
}

func (l *Listener) reserve(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.Total > 0 && l.total >= l.limits.Total {
		return false
	}
	if l.limits.PerIP > 0 && l.perIP[ip] >= l.limits.PerIP {
		return false
	}
	l.total++
	l.perIP[ip]++
	return true
}

func (l *Listener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// conn releases its slot once when closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
