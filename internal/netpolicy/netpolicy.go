// Package netpolicy decides which addresses task-controlled outbound
// connections may reach. The check runs on the resolved address at dial
// time (a net.Dialer.Control hook), so numeric host forms, redirects and DNS
// answers pointing inside the network are all refused before connecting.
//
// By default every loopback, private, link-local, shared (CGNAT),
// benchmarking, documentation, reserved and multicast range is denied,
// with the IPv6 equivalents and transition prefixes (NAT64, 6to4, Teredo);
// an allow-list of CIDR prefixes opens chosen ranges again.
package netpolicy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// EnvAllowNetwork is the environment variable holding the allow-list
// (comma-separated CIDR prefixes), the twin of the --allow-network flag.
const EnvAllowNetwork = "SPROCKET_ALLOW_NETWORK"

// ErrDenied is wrapped by every refusal.
var ErrDenied = errors.New("outbound connection to a non-public address refused by the network policy (see --allow-network)")

// denied lists the ranges refused unless allowed. IPv4-mapped IPv6
// addresses are unmapped and checked as IPv4.
var denied = mustPrefixes(
	// IPv4
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (CGNAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local (cloud metadata)
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.31.196.0/24", // AS112
	"192.52.193.0/24", // AMT
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"192.175.48.0/24", // AS112 direct delegation
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, broadcast
	"::/128",          // unspecified
	"::1/128",         // loopback
	"::/96",           // IPv4-compatible (deprecated)
	"64:ff9b::/96",    // NAT64
	"64:ff9b:1::/48",  // local-use NAT64
	"100::/64",        // discard-only
	"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, …)
	"2001:db8::/32",   // documentation
	"2002::/16",       // 6to4
	"3fff::/20",       // documentation
	"5f00::/16",       // segment routing SIDs
	"fc00::/7",        // unique local
	"fe80::/10",       // link-local
	"fec0::/10",       // site-local (deprecated)
	"ff00::/8",        // multicast
)

// Denied returns the ranges refused by default.
func Denied() []netip.Prefix { return append([]netip.Prefix(nil), denied...) }

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Policy refuses connections to denied addresses unless an allowed prefix
// contains them. The nil *Policy is the default policy (deny, no
// allow-list). A Policy is immutable and safe for concurrent use.
type Policy struct {
	allow []netip.Prefix
}

// New returns a policy allowing the given prefixes on top of the default.
func New(allow ...netip.Prefix) *Policy {
	p := &Policy{allow: make([]netip.Prefix, 0, len(allow))}
	for _, a := range allow {
		p.allow = append(p.allow, a.Masked())
	}
	return p
}

// AllowAll returns a policy that refuses nothing (for operator-configured
// endpoints and tests that need it explicitly).
func AllowAll() *Policy {
	return New(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
}

// Parse reads an allow-list: comma- or space-separated CIDR prefixes or
// single addresses. The empty string gives the default policy.
func Parse(list string) (*Policy, error) {
	var allow []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("allow-network %q: %w", f, err)
			}
			allow = append(allow, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("allow-network %q: not a CIDR prefix or address: %w", f, err)
		}
		allow = append(allow, netip.PrefixFrom(a, a.BitLen()))
	}
	return New(allow...), nil
}

// Allowed returns the allow-list.
func (p *Policy) Allowed() []netip.Prefix {
	if p == nil {
		return nil
	}
	return append([]netip.Prefix(nil), p.allow...)
}

// String lists the allowed prefixes, comma-separated.
func (p *Policy) String() string {
	parts := make([]string, 0, len(p.Allowed()))
	for _, a := range p.Allowed() {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ",")
}

// Check returns nil when a connection to ip may be made, otherwise an
// error wrapping ErrDenied.
func (p *Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("invalid address: %w", ErrDenied)
	}
	ip = ip.WithZone("")
	un := ip.Unmap()
	if p != nil {
		for _, a := range p.allow {
			if a.Contains(ip) || a.Contains(un) {
				return nil
			}
		}
	}
	for _, d := range denied {
		if d.Contains(un) {
			return fmt.Errorf("%s is in %s: %w", ip, d, ErrDenied)
		}
	}
	return nil
}

// Control is a net.Dialer.Control hook: address is the resolved
// "ip:port" about to be connected to.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("network policy: address %q: %w", address, ErrDenied)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("network policy: address %q: %w", address, ErrDenied)
	}
	if err := p.Check(ip); err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	return nil
}

// Dialer returns a dialer with the given connect timeout whose every
// connection is checked by p. resolver may be nil (the default resolver).
func (p *Policy) Dialer(timeout time.Duration, resolver *net.Resolver) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Resolver: resolver, Control: p.Control}
}
