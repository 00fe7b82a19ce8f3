package echo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/echo"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func TestPerform(t *testing.T) {
	tests := []struct {
		name    string
		options string
		want    string
		wantErr string
	}{
		// docs: core/actions/echo.md examples.
		{"mapped", `{"foo":"bar","baz":"qux"}`, `{"foo":"bar","baz":"qux"}`, ""},
		{"positional", `["foo","bar","baz"]`, `["foo","bar","baz"]`, ""},
		{"single", `"foo"`, `"foo"`, ""},
		{"null", `null`, `null`, ""},
		{"number", `12.5`, `12.5`, ""},
		{"nested", `{"a":{"b":[1,{"c":null}]}}`, `{"a":{"b":[1,{"c":null}]}}`, ""},
		{"forced error", `{"__error":"Forcing an error!"}`, "", "Forcing an error!"},
		{"error with other options", `{"a":1,"__error":"nope"}`, "", "nope"},
		{"non-string error", `{"__error":{"code":5}}`, "", `{"code"=>5}`},
		{"null error is no error", `{"__error":null,"a":1}`, `{"__error":null,"a":1}`, ""},
		{"false error is no error", `{"__error":false}`, `{"__error":false}`, ""},
	}
	p := echo.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := value.FromJSON([]byte(tt.options))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Perform(context.Background(), action.Request{Type: echo.Type, Options: opts})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if action.Classify(err) != action.KindFailed {
					t.Errorf("forced error kind = %v, want failed (not retried)", action.Classify(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("Perform: %v", err)
			}
			got, err := value.ToJSON(res.Value)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("result = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	r := action.NewRegistry()
	if err := r.Register(echo.Type, echo.New()); err != nil {
		t.Fatal(err)
	}
	opts := value.MapOf("foo", "bar", "__perform_event", true, "__meta", "m")
	res, err := r.Perform(context.Background(), action.Request{Type: "echo", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := value.ToJSON(res.Value); string(got) != `{"foo":"bar"}` {
		t.Errorf("result = %s, want control parameters removed", got)
	}
	if r.EmitsPerformEvent("echo", opts) {
		t.Error("echo must not emit mechanic/actions/perform events")
	}
	if err := r.Validate("echo", value.MapOf("ch", make(chan int))); err == nil || !strings.Contains(err.Error(), "not a JSON value") {
		t.Errorf("Validate non-JSON = %v", err)
	}
}
