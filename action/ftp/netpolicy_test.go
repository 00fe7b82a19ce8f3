package ftp_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	ftpaction "github.com/sprocketrun/sprocket/action/ftp"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
)

// allowLoopback opts the tests that talk to servers on loopback into the
// loopback range, which the default network policy refuses.
var allowLoopback = netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))

// TestNetworkPolicy checks that by default ftp and sftp actions cannot
// reach the loopback servers the other tests use, and that the failure is
// permanent and says why.
func TestNetworkPolicy(t *testing.T) {
	p := ftpaction.New(ftpaction.Config{})
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			o := map[string]any{}
			for k, v := range tg.opts {
				o[k] = v
			}
			o["uploads"] = map[string]any{"refused.txt": "x"}
			_, err := perform(t, p, opts(t, o), nil)
			if err == nil || action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "network policy") {
				t.Fatalf("err = %v (%v), want a permanent network policy refusal", err, action.Classify(err))
			}
		})
	}
}
