package server

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

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

// TestDefaultNetworkPolicy: with the default policy a task's http action
// cannot read the service's own endpoints (the SSRF the hostile-input
// campaign found): the action run fails naming the network policy.
func TestDefaultNetworkPolicy(t *testing.T) {
	_, c := startPipelineServiceWith(t, PipelineOptions{})
	id := createTask(t, c, "ssrf", `{% action "http" %}{"method": "get", "url": "`+c.base+`/healthz"}{% endaction %}`, "mechanic/user/trigger")
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := c.want(http.StatusOK, "GET", "/v1/action_runs?task_id="+id, nil)["action_runs"].([]any)
		if len(runs) == 1 {
			r := runs[0].(map[string]any)
			if r["status"] == "failed" {
				msg, _ := r["error"].(string)
				if !strings.Contains(msg, "network policy") || r["result"] != nil {
					t.Fatalf("action run error %q result %v, want a network policy refusal and no result", msg, r["result"])
				}
				return
			}
			if r["status"] == "success" {
				t.Fatalf("the action read the service's own /healthz: %v", r["result"])
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("action runs = %v", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
