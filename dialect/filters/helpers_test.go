package filters

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// testCtx is a render context with a fixed clock in a chosen zone.
type testCtx struct {
	ctx context.Context
	now time.Time
	rnd *rand.Rand
}

func (c testCtx) Context() context.Context { return c.ctx }
func (c testCtx) Now() time.Time           { return c.now }
func (c testCtx) Rand() *rand.Rand         { return c.rnd }

func newCtx(t testing.TB, zone string) testCtx {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return testCtx{
		ctx: context.Background(),
		now: time.Date(2021, 1, 4, 14, 6, 0, 0, loc),
		rnd: rand.New(rand.NewPCG(1, 2)),
	}
}

// call runs the named Mechanic filter.
func call(t *testing.T, c filter.Context, name string, input any, args []any, kw *value.Map) (any, error) {
	t.Helper()
	f, ok := Mechanic()[name]
	if !ok {
		t.Fatalf("no filter %q", name)
	}
	return f(c, input, args, kw)
}

// kw builds keyword arguments from alternating names and values.
func kw(kv ...any) *value.Map { return value.MapOf(kv...) }

// js parses JSON test data into canonical values.
func js(t *testing.T, s string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

// toJSON renders a result as JSON for comparison.
func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatalf("encode result: %v", err)
	}
	return string(b)
}

// filterCase is one table row: a filter call and either the expected JSON
// of the result or a substring of the expected error.
type filterCase struct {
	name   string
	filter string
	input  any
	args   []any
	kw     *value.Map
	want   string // JSON of the result
	err    string // substring of the error, when an error is expected
}

func runCases(t *testing.T, c filter.Context, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := call(t, c, tc.filter, tc.input, tc.args, tc.kw)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got %s", tc.err, toJSON(t, got))
				}
				if !contains(err.Error(), tc.err) {
					t.Fatalf("want error containing %q, got %q", tc.err, err.Error())
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if g := toJSON(t, got); g != tc.want {
				t.Fatalf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
