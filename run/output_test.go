package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name                    string
		in                      string
		actions, logs, errs     int
		wantErr                 string
		firstType, firstOptions string
	}{
		{name: "empty", in: "  \n\t"},
		{name: "objects", in: "{\"log\":\"hi\"}\n{\"action\":{\"type\":\"echo\",\"options\":{\"b\":1,\"a\":2}}} {\"error\":\"x\"}",
			actions: 1, logs: 1, errs: 1, firstType: "echo", firstOptions: `{"b":1,"a":2}`},
		{name: "adjacent", in: `{"log":1}{"log":2}`, logs: 2},
		{name: "text", in: "{\"log\":1}\n  oops", wantErr: "task output line 2, column 3: expected a JSON object, found \"oops\""},
		{name: "bad json", in: `{"log": }`, wantErr: "task output line 1, column 9: invalid JSON object"},
		{name: "truncated", in: `{"log": 1`, wantErr: "line 1, column 10"},
		{name: "unknown key", in: `{"lag": 1}`, wantErr: `unknown output object "lag"`},
		{name: "two keys", in: `{"log": 1, "error": 2}`, wantErr: "exactly one key"},
		{name: "action without type", in: `{"action": {"options": {}}}`, wantErr: `missing field "type"`},
		{name: "action bad field", in: `{"action": {"type": "echo", "option": {}}}`, wantErr: `unknown field "option"`},
		{name: "array", in: `[1]`, wantErr: "expected a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ParseOutput(tt.in)
			if tt.wantErr != "" {
				var oe *OutputError
				if err == nil || !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want *OutputError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Actions) != tt.actions || len(out.Logs) != tt.logs || len(out.Errors) != tt.errs {
				t.Fatalf("got %d actions, %d logs, %d errors", len(out.Actions), len(out.Logs), len(out.Errors))
			}
			if tt.firstType != "" {
				opts, _ := value.ToJSON(out.Actions[0].Options)
				if out.Actions[0].Type != tt.firstType || string(opts) != tt.firstOptions {
					t.Errorf("action = %s %s", out.Actions[0].Type, opts)
				}
			}
		})
	}
}
