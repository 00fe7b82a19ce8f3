package http_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/internal/netpolicy/dnstest"
)

// allowLoopback opts the tests that talk to httptest servers on loopback
// into the loopback range, which the default network policy refuses.
var allowLoopback = netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))

// TestNetworkPolicy checks that the default policy refuses internal targets
// however they are spelled or reached, before any request is sent.
func TestNetworkPolicy(t *testing.T) {
	inside := newServer(t, nil) // on 127.0.0.1, refused by default
	_, port, _ := net.SplitHostPort(inside.Listener.Addr().String())

	// A server on 127.0.0.2 that the allow-list opens; it redirects inside.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	redirector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/via-redirect", http.StatusFound)
	}))
	redirector.Listener = ln
	redirector.Start()
	t.Cleanup(redirector.Close)

	// Every name resolves to 127.0.0.1, as a hostile or rebinding name
	// server (or a resolver reading numeric forms) would make it.
	res := dnstest.Resolver(t, netip.MustParseAddr("127.0.0.1"))
	tests := []struct {
		name   string
		policy *netpolicy.Policy
		url    string
	}{
		{"loopback literal", nil, inside.URL + "/"},
		{"localhost", nil, "http://localhost:" + port + "/"},
		// Go's resolver refuses all-numeric names itself ("no such host");
		// a resolver that read them as addresses would meet the policy.
		{"decimal form", nil, "http://2130706433:" + port + "/"},
		{"hex form", nil, "http://0x7f000001:" + port + "/"},
		{"octal form", nil, "http://0177.0.0.1:" + port + "/"},
		{"ipv4-mapped ipv6", nil, "http://[::ffff:127.0.0.1]:" + port + "/"},
		{"dns answer pointing inside", nil, "http://rebind.example.com:" + port + "/"},
		{"redirect to a private address", netpolicy.New(netip.MustParsePrefix("127.0.0.2/32")), redirector.URL + "/"},
		{"deprecated flag still refuses", nil, inside.URL + "/flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := httpaction.New(httpaction.Config{Network: tc.policy, Resolver: res, BlockPrivateNetworks: tc.name == "deprecated flag still refuses"})
			_, err := perform(t, p, q(`{"method":"get","url":%q}`, tc.url))
			if err == nil || action.Classify(err) != action.KindFailed {
				t.Fatalf("err = %v (%v), want a permanent refusal", err, action.Classify(err))
			}
			if !strings.Contains(err.Error(), "network policy") && !strings.Contains(err.Error(), "no such host") {
				t.Errorf("err = %v, want it to name the network policy", err)
			}
			inside.mu.Lock()
			n := len(inside.reqs)
			inside.mu.Unlock()
			if n != 0 {
				t.Fatalf("the internal server received %d requests", n)
			}
		})
	}

	// Allowed explicitly, the same internal server is reached by name.
	p := httpaction.New(httpaction.Config{Network: allowLoopback, Resolver: res})
	if _, err := perform(t, p, q(`{"method":"get","url":"http://rebind.example.com:%s/ok"}`, port)); err != nil {
		t.Fatalf("allowed request: %v", err)
	}
	if got := inside.last(t).Path; got != "/ok" {
		t.Errorf("path = %q", got)
	}
}
