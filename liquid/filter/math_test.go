package filter

import (
	"math"
	"math/big"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func big10(s string) *big.Int {
	b, _ := new(big.Int).SetString(s, 10)
	return b
}

// Expected values are Ruby Liquid 5.4.0's.
func TestMathFilters(t *testing.T) {
	inf := math.Inf(1)
	runFilterCases(t, []filterCase{
		{name: "int plus", filter: "plus", input: 1, args: []any{2}, want: "3"},
		{name: "decimal plus", filter: "plus", input: 0.1, args: []any{0.2}, want: "0.3"},
		{name: "string operand", filter: "plus", input: " 2.5 ", args: []any{1}, want: "3.5"},
		{name: "to_i string", filter: "plus", input: "1_000", args: []any{"12abc"}, want: "1012"},
		{name: "exponent is not a decimal", filter: "plus", input: "1e3", args: []any{0}, want: "1"},
		{name: "nil is zero", filter: "minus", input: nil, args: []any{3}, want: "-3"},
		{name: "overflow promotes", filter: "plus", input: int64(math.MaxInt64), args: []any{1}, want: "9223372036854775808"},
		{name: "big times", filter: "times", input: 2, args: []any{int64(math.MaxInt64)}, want: "18446744073709551614"},
		{name: "decimal times", filter: "times", input: 3, args: []any{1.1}, want: "3.3"},
		{name: "negative zero", filter: "times", input: 0, args: []any{-1.5}, want: "-0.0"},
		{name: "floor division", filter: "divided_by", input: -7, args: []any{2}, want: "-4"},
		{name: "decimal division", filter: "divided_by", input: 1, args: []any{3.0}, want: "0.3333333333333333"},
		{name: "int by zero", filter: "divided_by", input: 1, args: []any{0}, err: "divided by 0"},
		{name: "float by zero", filter: "divided_by", input: 1.0, args: []any{0}, want: "Infinity"},
		{name: "zero by zero", filter: "divided_by", input: 0.0, args: []any{0}, want: "NaN"},
		{name: "bignum division", filter: "divided_by", input: big10("100000000000000000000"), args: []any{7}, want: "14285714285714285714"},
		{name: "modulo sign", filter: "modulo", input: 10, args: []any{-3}, want: "-2"},
		{name: "decimal modulo", filter: "modulo", input: -7, args: []any{2.5}, want: "0.5"},
		{name: "modulo zero", filter: "modulo", input: 5.5, args: []any{0}, err: "divided by 0"},
		{name: "modulo infinity", filter: "modulo", input: -1, args: []any{inf}, want: "-1.0"},
		{name: "abs", filter: "abs", input: "-3", want: "3"},
		{name: "abs float", filter: "abs", input: -1.5, want: "1.5"},
		{name: "round half up", filter: "round", input: 2.5, want: "3"},
		{name: "round negative half", filter: "round", input: -2.5, want: "-3"},
		{name: "round digits", filter: "round", input: 1.2355, args: []any{3}, want: "1.236"},
		{name: "round tens", filter: "round", input: 1250.5, args: []any{-2}, want: "1300"},
		{name: "round integer", filter: "round", input: 5, args: []any{2}, want: "5"},
		{name: "round integer tens", filter: "round", input: 15, args: []any{-1}, want: "20"},
		{name: "round infinity", filter: "round", input: inf, err: "Computation results in 'Infinity'"},
		{name: "round infinity digits", filter: "round", input: inf, args: []any{2}, want: "Infinity"},
		{name: "round huge digits", filter: "round", input: 1.5, args: []any{10000000000}, err: "internal"},
		{name: "ceil", filter: "ceil", input: 1.2, want: "2"},
		{name: "floor", filter: "floor", input: -1.5, want: "-2"},
		{name: "floor nan", filter: "floor", input: math.NaN(), err: "Computation results in 'NaN' (Not a Number)"},
		{name: "at_least", filter: "at_least", input: 1, args: []any{1.5}, want: "1.5"},
		{name: "at_least keeps", filter: "at_least", input: 2, args: []any{1.5}, want: "2"},
		{name: "at_most", filter: "at_most", input: "3", args: []any{"2.5"}, want: "2.5"},
		{name: "arity", filter: "plus", input: 1, err: "wrong number of arguments (given 1, expected 2)"},
		{name: "keyword counts as argument", filter: "plus", input: 1, args: []any{1}, kwargs: value.MapOf("a", "b"), err: "wrong number of arguments (given 3, expected 2)"},
	})
}

func TestGoValuesAreNormalized(t *testing.T) {
	got, err := Standard()["plus"](testContext{now: testNow}, 40, []any{uint8(2)}, nil)
	if err != nil || got != int64(42) {
		t.Fatalf("plus(40, uint8(2)) = %#v, %v; want int64 42", got, err)
	}
}

func TestToNumber(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"1.5", "1.5"}, {"-0.25", "-0.25"}, {" 7 ", "7"}, {"+5", "5"}, {"1.", "1"}, {".5", "0"},
		{"0x1A", "0"}, {"99999999999999999999", "99999999999999999999"}, {nil, "0"}, {true, "0"},
		{[]any{int64(1)}, "0"}, {int64(-4), "-4"}, {2.5, "2.5"},
	}
	for _, tc := range tests {
		if got := value.ToS(ToNumber(tc.in)); got != tc.want {
			t.Errorf("ToNumber(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestToInteger(t *testing.T) {
	tests := []struct {
		in   any
		want string
		err  bool
	}{
		{int64(3), "3", false}, {"12", "12", false}, {" 2 ", "2", false}, {"0x1A", "26", false},
		{"010", "8", false}, {"0b11", "3", false}, {"-0o3", "-3", false}, {"1_0", "10", false},
		{"08", "", true}, {"1.5", "", true}, {1.0, "", true}, {nil, "", true}, {"a", "", true}, {"1__0", "", true},
	}
	for _, tc := range tests {
		got, err := ToInteger(tc.in)
		if tc.err {
			if err == nil || err.Error() != "invalid integer" {
				t.Errorf("ToInteger(%#v) = %v, %v; want invalid integer", tc.in, got, err)
			}
			continue
		}
		if err != nil || value.ToS(got) != tc.want {
			t.Errorf("ToInteger(%#v) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
