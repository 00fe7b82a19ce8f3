package filter

import (
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// filterCase is one table-test call of a standard filter. want is the
// result rendered the way Liquid outputs it (value.ToString), or, when err
// is set, the expected error message.
type filterCase struct {
	name   string
	filter string
	input  any
	args   []any
	kwargs *value.Map
	want   string
	err    string
}

func runFilterCases(t *testing.T, cases []filterCase) {
	t.Helper()
	filters := Standard()
	ctx := testContext{now: testNow}
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = tc.filter
		}
		t.Run(name, func(t *testing.T) {
			fn, ok := filters[tc.filter]
			if !ok {
				t.Fatalf("no filter %q", tc.filter)
			}
			args := make([]any, len(tc.args))
			for i, a := range tc.args {
				args[i] = value.Normalize(a)
			}
			got, err := fn(ctx, value.Normalize(tc.input), args, tc.kwargs)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("%s: got (%v, %v), want error %q", tc.filter, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: unexpected error %v", tc.filter, err)
			}
			if s := value.ToString(got); s != tc.want {
				t.Fatalf("%s(%#v, %#v) = %q, want %q", tc.filter, tc.input, tc.args, s, tc.want)
			}
		})
	}
}
