package connlimit

import (
	"net"
	"testing"
	"time"
)

// dial opens a connection from the given loopback source address.
func dial(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c (read hits EOF or a
// reset) rather than keeping it open.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

func TestCaps(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		from   []string // source address of each connection, in order
		want   []bool   // whether each is kept open
	}{
		{"per ip", Limits{PerIP: 2}, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2"}, []bool{true, true, false, true}},
		{"total", Limits{Total: 3}, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}, []bool{true, true, true, false}},
		{"unlimited", Limits{}, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, []bool{true, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := Wrap(raw, tc.limits)
			defer ln.Close()
			accepted := make(chan net.Conn, 16)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			var kept []net.Conn
			for i, from := range tc.from {
				c := dial(t, raw.Addr().String(), from)
				if got := !closedByServer(c); got != tc.want[i] {
					t.Fatalf("connection %d from %s kept open = %v, want %v", i, from, got, tc.want[i])
				}
				if tc.want[i] {
					kept = append(kept, <-accepted)
				}
			}
			refused := 0
			for _, w := range tc.want {
				if !w {
					refused++
				}
			}
			if ln.Refused() != int64(refused) || ln.Open() != len(kept) {
				t.Fatalf("refused %d open %d, want %d and %d", ln.Refused(), ln.Open(), refused, len(kept))
			}
			// Closing a kept connection frees its slot.
			if len(kept) > 0 && refused > 0 {
				_ = kept[0].Close()
				_ = kept[0].Close() // released once
				last := tc.from[len(tc.from)-1]
				if tc.limits.PerIP > 0 {
					last = tc.from[0]
				}
				c := dial(t, raw.Addr().String(), last)
				if closedByServer(c) {
					t.Fatal("a freed slot was not reused")
				}
				if ln.Open() != len(kept) {
					t.Fatalf("open %d, want %d", ln.Open(), len(kept))
				}
			}
		})
	}
}
