package sandbox

import "encoding/json"

// FlowTrigger is one flowTriggerReceive call the sandbox accepted.
type FlowTrigger struct {
	// Handle is the trigger's handle.
	Handle string
	// Payload is the trigger's payload as JSON.
	Payload json.RawMessage
}

// maxFlowPayload is Shopify's documented limit on a trigger payload (50 KB).
const maxFlowPayload = 50_000

// mFlowTriggerReceive records a Flow trigger: a handle and a JSON payload
// are required (the deprecated body argument is refused).
func mFlowTriggerReceive(e *executor, args map[string]any) (object, error) {
	handle, _ := args["handle"].(string)
	if handle == "" {
		return object{"userErrors": userErrors(userError([]string{"handle"}, "Handle can't be blank"))}, nil
	}
	payload, ok := args["payload"]
	if !ok || payload == nil {
		return object{"userErrors": userErrors(userError([]string{"payload"}, "Payload can't be blank"))}, nil
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return object{"userErrors": userErrors(userError([]string{"payload"}, "Payload is not JSON"))}, nil
	}
	if len(raw) > maxFlowPayload {
		return object{"userErrors": userErrors(userError([]string{"payload"}, "Payload exceeds 50 KB"))}, nil
	}
	e.sb.flow = append(e.sb.flow, FlowTrigger{Handle: handle, Payload: raw})
	return object{}, nil
}

// FlowTriggers returns the Flow triggers received so far.
func (sb *Sandbox) FlowTriggers() []FlowTrigger {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return append([]FlowTrigger(nil), sb.flow...)
}
