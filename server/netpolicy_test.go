package server

import (
	"net/netip"

	"github.com/sprocketrun/sprocket/internal/netpolicy"
)

// loopbackNetwork opts tests whose http actions call sinks on loopback
// into that range, which the default network policy refuses.
var loopbackNetwork = netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))

// withLoopback returns o with loopbackNetwork unless it sets a policy.
func withLoopback(o PipelineOptions) PipelineOptions {
	if o.Network == nil {
		o.Network = loopbackNetwork
	}
	return o
}
