package netpolicy

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/netpolicy/dnstest"
)

func TestCheckRanges(t *testing.T) {
	tests := []struct {
		addr string
		deny bool
	}{
		{"0.0.0.0", true}, {"0.1.2.3", true}, {"10.0.0.1", true}, {"100.64.0.1", true},
		{"100.127.255.254", true}, {"127.0.0.1", true}, {"127.255.255.255", true},
		{"169.254.169.254", true}, {"172.16.0.1", true}, {"172.31.255.255", true},
		{"192.0.0.8", true}, {"192.0.2.1", true}, {"192.88.99.1", true}, {"192.168.1.1", true},
		{"198.18.0.1", true}, {"198.19.255.255", true}, {"198.51.100.7", true}, {"203.0.113.9", true},
		{"224.0.0.1", true}, {"239.255.255.250", true}, {"240.0.0.1", true}, {"255.255.255.255", true},
		{"::", true}, {"::1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.1.2.3", true},
		{"::127.0.0.1", true}, {"64:ff9b::7f00:1", true}, {"64:ff9b::808:808", true},
		{"64:ff9b:1::1", true}, {"100::1", true}, {"2001:0::1", true}, {"2001:db8::1", true},
		{"2002:7f00:1::1", true}, {"fc00::1", true}, {"fd12:3456::1", true}, {"fe80::1", true},
		{"fe80::1%eth0", true}, {"fec0::1", true}, {"ff02::1", true},
		// public
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"100.63.255.255", false}, {"100.128.0.0", false},
		{"172.32.0.1", false}, {"198.20.0.1", false}, {"2606:4700::1111", false}, {"::ffff:8.8.8.8", false},
	}
	var def *Policy
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			err := def.Check(netip.MustParseAddr(tc.addr))
			if got := errors.Is(err, ErrDenied); got != tc.deny {
				t.Fatalf("Check(%s) = %v, want denied %v", tc.addr, err, tc.deny)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	p, err := Parse("127.0.0.0/8, 10.1.2.3,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		deny bool
	}{
		{"127.0.0.1", false}, {"::ffff:127.0.0.1", false}, {"10.1.2.3", false}, {"10.1.2.4", true},
		{"fd00::5", false}, {"fc00::5", true}, {"192.168.0.1", true}, {"8.8.8.8", false},
	}
	for _, tc := range tests {
		if got := errors.Is(p.Check(netip.MustParseAddr(tc.addr)), ErrDenied); got != tc.deny {
			t.Errorf("Check(%s) denied = %v, want %v", tc.addr, got, tc.deny)
		}
	}
	if got := p.String(); got != "127.0.0.0/8,10.1.2.3/32,fd00::/8" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if errors.Is(AllowAll().Check(netip.MustParseAddr("127.0.0.1")), ErrDenied) {
		t.Error("AllowAll denied loopback")
	}
}

// listen returns a loopback listener and a function reporting whether a
// connection reached it (the kernel completes the handshake before
// connect returns, so a connected dial is always in the accept queue).
func listen(t *testing.T) (net.Listener, func() bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln, func() bool {
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(200 * time.Millisecond))
		c, err := ln.Accept()
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
}

func TestDialRefusedBeforeConnecting(t *testing.T) {
	ln, connected := listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	res := dnstest.Resolver(t, netip.MustParseAddr("127.0.0.1"))
	tests := []struct{ name, host string }{
		{"loopback literal", "127.0.0.1"},
		{"ipv4-mapped", "::ffff:127.0.0.1"},
		{"dns answer pointing inside", "innocent.example.com"},
		{"localhost", "localhost"},
	}
	var def *Policy
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := def.Dialer(time.Second, res).DialContext(ctx, "tcp", net.JoinHostPort(tc.host, itoa(port)))
			if c != nil {
				_ = c.Close()
			}
			if !errors.Is(err, ErrDenied) {
				t.Fatalf("dial %s: err = %v, want ErrDenied", tc.host, err)
			}
			if connected() {
				t.Fatalf("dial %s reached the listener", tc.host)
			}
		})
	}
	// The same dial with loopback allowed connects: the listener works.
	c, err := New(netip.MustParsePrefix("127.0.0.0/8")).Dialer(time.Second, res).DialContext(context.Background(), "tcp", net.JoinHostPort("innocent.example.com", itoa(port)))
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	_ = c.Close()
	if !connected() {
		t.Fatal("allowed dial did not reach the listener")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
