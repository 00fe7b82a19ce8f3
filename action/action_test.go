package action_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// recorder is a performer that records what it was asked and answers with
// a fixed result and error.
type recorder struct {
	got      []action.Request
	res      action.Result
	err      error
	validate func(any) error
}

func (r *recorder) Perform(_ context.Context, req action.Request) (action.Result, error) {
	r.got = append(r.got, req)
	return r.res, r.err
}

type validating struct{ *recorder }

func (v validating) Validate(options any) error { return v.validate(options) }

type silent struct{ *recorder }

func (silent) EmitsPerformEvent() bool { return false }

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		t.Fatalf("FromJSON(%s): %v", s, err)
	}
	return v
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatalf("ToJSON: %v", err)
	}
	return string(b)
}

func TestRegister(t *testing.T) {
	r := action.NewRegistry()
	p := &recorder{}
	tests := []struct {
		name    string
		typ     string
		p       action.Performer
		wantErr string
	}{
		{"ok", "http", p, ""},
		{"underscore", "google_sheets", p, ""},
		{"duplicate", "http", p, "already registered"},
		{"empty", "", p, "lower-case"},
		{"upper", "HTTP", p, "lower-case"},
		{"nil", "cache", nil, "nil performer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Register(tt.typ, tt.p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Register error = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
	if got := fmt.Sprint(r.Types()); got != "[google_sheets http]" {
		t.Errorf("Types() = %s", got)
	}
	if _, ok := r.Lookup("http"); !ok {
		t.Error("Lookup(http) not found")
	}
	if _, ok := r.Lookup("ftp"); ok {
		t.Error("Lookup(ftp) found")
	}
}

func TestValidate(t *testing.T) {
	r := action.NewRegistry()
	v := validating{&recorder{}}
	v.validate = func(o any) error {
		m, ok := o.(*value.Map)
		if !ok {
			return errors.New("options must be a hash")
		}
		if m.Has(action.ControlPerformEvent) || m.Has(action.ControlMeta) {
			return errors.New("control parameters leaked")
		}
		if !m.Has("url") {
			return action.Invalid("http", "url", "is required")
		}
		return nil
	}
	if err := r.Register("http", v); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("echo", &recorder{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		typ       string
		options   any
		wantErr   string
		wantField string
	}{
		{"valid", "http", mustJSON(t, `{"url":"x","__perform_event":false,"__meta":{"a":1}}`), "", ""},
		{"missing option", "http", mustJSON(t, `{"method":"get"}`), `http action: option "url": is required`, "url"},
		{"plain error", "http", "string", "http action: options: options must be a hash", ""},
		{"unknown type", "nope", nil, `option "type": unknown action type "nope"`, "type"},
		{"no validator", "echo", mustJSON(t, `[1,2]`), "", ""},
		{"not JSON", "echo", value.MapOf("t", time.Unix(0, 0)), `"t": Time is not a JSON value`, ""},
		{"NaN", "echo", []any{1.0, math.NaN()}, `"1": NaN is not a JSON number`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Validate(tt.typ, tt.options)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate error = %v, want containing %q", err, tt.wantErr)
			}
			var ve *action.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			if ve.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", ve.Field, tt.wantField)
			}
			if action.Classify(err) != action.KindInvalid || action.Retryable(err) {
				t.Errorf("Classify = %v", action.Classify(err))
			}
		})
	}
}

func TestPerform(t *testing.T) {
	ctx := context.Background()
	r := action.NewRegistry()
	ok := &recorder{res: action.Result{Value: value.MapOf("a", 1)}}
	bad := &recorder{res: action.Result{Value: value.MapOf("when", time.Unix(0, 0))}}
	failing := &recorder{err: action.Transient(errors.New("connection refused"))}
	for name, p := range map[string]action.Performer{"ok": ok, "bad": bad, "failing": failing} {
		if err := r.Register(name, p); err != nil {
			t.Fatal(err)
		}
	}

	res, err := r.Perform(ctx, action.Request{Type: "ok", Options: mustJSON(t, `{"x":1,"__perform_event":false,"__meta":"m"}`), RunID: "r1", Attempt: 2})
	if err != nil {
		t.Fatalf("Perform: %v", err)
	}
	if got := toJSON(t, res.Value); got != `{"a":1}` {
		t.Errorf("result = %s", got)
	}
	if len(ok.got) != 1 || toJSON(t, ok.got[0].Options) != `{"x":1}` || ok.got[0].RunID != "r1" || ok.got[0].Attempt != 2 {
		t.Errorf("performer got %+v", ok.got)
	}

	if _, err := r.Perform(ctx, action.Request{Type: "bad"}); action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), `"when": Time is not a JSON value`) {
		t.Errorf("non-JSON result: err = %v (%v)", err, action.Classify(err))
	}
	if _, err := r.Perform(ctx, action.Request{Type: "failing"}); !action.Retryable(err) {
		t.Errorf("transient error lost its kind: %v", err)
	}
	if _, err := r.Perform(ctx, action.Request{Type: "missing"}); action.Classify(err) != action.KindInvalid {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := r.Perform(ctx, action.Request{Type: "ok", Options: []any{math.Inf(1)}}); action.Classify(err) != action.KindInvalid {
		t.Errorf("non-JSON options: %v", err)
	}
}

func TestEmitsPerformEvent(t *testing.T) {
	r := action.NewRegistry()
	if err := r.Register("http", &recorder{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("echo", silent{&recorder{}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ     string
		options string
		want    bool
	}{
		{"http", `{"url":"x"}`, true},
		{"http", `{"__perform_event":false}`, false},
		{"http", `{"__perform_event":"false"}`, false},
		{"http", `{"__perform_event":true}`, true},
		{"http", `{"__perform_event":null}`, true},
		{"http", `["set","a"]`, true},
		{"echo", `{"a":1}`, false},
		{"unknown", `{}`, true},
	}
	for _, tt := range tests {
		if got := r.EmitsPerformEvent(tt.typ, mustJSON(t, tt.options)); got != tt.want {
			t.Errorf("EmitsPerformEvent(%s, %s) = %v, want %v", tt.typ, tt.options, got, tt.want)
		}
	}
}

func TestSplitControl(t *testing.T) {
	tests := []struct {
		in, rest     string
		performEvent bool
		meta         string
	}{
		{`{"a":1}`, `{"a":1}`, true, ""},
		{`{"a":1,"__meta":{"mode":"first"},"b":2}`, `{"a":1,"b":2}`, true, `{"mode":"first"}`},
		{`{"__perform_event":false,"__meta":null}`, `{}`, false, `null`},
		{`"scalar"`, `"scalar"`, true, ""},
	}
	for _, tt := range tests {
		in := mustJSON(t, tt.in)
		rest, c := action.SplitControl(in)
		if got := toJSON(t, rest); got != tt.rest {
			t.Errorf("SplitControl(%s) rest = %s, want %s", tt.in, got, tt.rest)
		}
		if c.PerformEvent != tt.performEvent {
			t.Errorf("SplitControl(%s) PerformEvent = %v", tt.in, c.PerformEvent)
		}
		if tt.meta == "" {
			if c.HasMeta {
				t.Errorf("SplitControl(%s) HasMeta", tt.in)
			}
		} else if !c.HasMeta || toJSON(t, c.Meta) != tt.meta {
			t.Errorf("SplitControl(%s) meta = %v %v", tt.in, c.HasMeta, c.Meta)
		}
		if got := toJSON(t, in); got != toJSON(t, mustJSON(t, tt.in)) {
			t.Errorf("SplitControl modified its input: %s", got)
		}
	}
}

func TestClassify(t *testing.T) {
	base := errors.New("boom")
	res := action.Result{Value: int64(503)}
	tests := []struct {
		name string
		err  error
		want action.Kind
	}{
		{"nil", nil, action.KindNone},
		{"plain", base, action.KindFailed},
		{"transient", action.Transient(base), action.KindTransient},
		{"wrapped transient", fmt.Errorf("perform: %w", action.Transient(base)), action.KindTransient},
		{"failed", action.Failed(base), action.KindFailed},
		{"validation", action.Invalid("http", "url", "bad"), action.KindInvalid},
		{"wrapped validation", fmt.Errorf("x: %w", action.Invalid("http", "url", "bad")), action.KindInvalid},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), action.KindTransient},
		{"canceled", context.Canceled, action.KindTransient},
		{"outer mark wins", action.Failed(action.Transient(base)), action.KindFailed},
		{"with result keeps kind", action.WithResult(action.Transient(base), res), action.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := action.Classify(tt.err); got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
			if tt.err != nil && tt.err.Error() == "" {
				t.Error("empty message")
			}
		})
	}
	if action.Transient(nil) != nil || action.Failed(nil) != nil || action.WithResult(nil, res) != nil {
		t.Error("marking nil should give nil")
	}
	err := fmt.Errorf("http: %w", action.WithResult(action.Transient(base), res))
	got, ok := action.ResultOf(err)
	if !ok || got.Value != int64(503) {
		t.Errorf("ResultOf = %v, %v", got, ok)
	}
	if !errors.Is(err, base) {
		t.Error("errors.Is lost the cause")
	}
	if _, ok := action.ResultOf(action.Transient(base)); ok {
		t.Error("ResultOf found a result that was never attached")
	}
	if got := action.Invalid("", "", "bad %d", 1).Error(); got != "options: bad 1" {
		t.Errorf("message = %q", got)
	}
}

func TestCheckJSON(t *testing.T) {
	deep := any("x")
	for range 101 {
		deep = []any{deep}
	}
	tests := []struct {
		v       any
		wantErr string
	}{
		{mustJSON(t, `{"a":[1,2.5,"s",null,true,{"b":{}}]}`), ""},
		{value.MapOf("a", []any{value.MapOf("b", value.Range{Start: 1, End: 2})}), `"a.0.b": Range is not a JSON value`},
		{math.Inf(-1), "value: -Infinity is not a JSON number"},
		{deep, "nested more than 100 levels"},
	}
	for _, tt := range tests {
		err := action.CheckJSON(tt.v)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckJSON: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckJSON error = %v, want containing %q", err, tt.wantErr)
		}
	}
}

func TestRedactValue(t *testing.T) {
	in := mustJSON(t, `{"a":"key=abc","abc":["abc",1,{"x":"no"}],"n":null}`)
	out := action.RedactValue(in, func(s string) string { return strings.ReplaceAll(s, "abc", "***") })
	if got := toJSON(t, out); got != `{"a":"key=***","***":["***",1,{"x":"no"}],"n":null}` {
		t.Errorf("RedactValue = %s", got)
	}
	if got := toJSON(t, in); !strings.Contains(got, "abc") {
		t.Errorf("input modified: %s", got)
	}
}
