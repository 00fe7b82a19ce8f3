package filter

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// randomOperand draws the kinds of numbers tasks compute with: prices,
// percentages, small and large integers and arbitrary floats.
func randomOperand(r *rand.Rand) any {
	switch r.IntN(6) {
	case 0:
		return int64(r.IntN(2_000_000_000) - 1_000_000_000)
	case 1:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(r.IntN(100000))/100, 'f', 2, 64), 64)
		return f * float64(1-2*r.IntN(2))
	case 2:
		return []float64{1.2, 0.1, 0.2, 0.3, 1.15, 2.675, 0.5, 1.005, 33.333, 1e-7, 1e20}[r.IntN(11)]
	case 3:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)-15))
	case 4:
		return float64(r.IntN(1000)) + 0.5
	}
	return r.NormFloat64() * 1000
}

// The fast paths must give exactly what the exact decimal computation gives.
func TestFastDecimalMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fastTimesHits, fastRoundHits, fastAddHits := 0, 0, 0
	for range 200000 {
		a, b := randomOperand(r), randomOperand(r)
		if got, ok := fastTimes(a, b); ok {
			fastTimesHits++
			want := mulNum(toNum(a), toNum(b)).value()
			if !value.Equal(got, want) || value.TypeName(want) != "Float" {
				t.Fatalf("times(%v, %v): fast %v, exact %v", a, b, got, want)
			}
		}
		if got, ok := fastAdd(a, b); ok {
			fastAddHits++
			want := addNum(toNum(a), toNum(b)).value()
			if !value.Equal(got, want) || value.TypeName(want) != "Float" {
				t.Fatalf("plus(%v, %v): fast %v, exact %v", a, b, got, want)
			}
		}
		d := int64(r.IntN(6))
		if got, ok := fastRound(a, d); ok {
			fastRoundHits++
			want, err := roundExact(a, []any{d})
			if err != nil || !value.Equal(got, want) || value.TypeName(want) != "Float" {
				t.Fatalf("round(%v, %d): fast %v, exact %v (%v)", a, d, got, want, err)
			}
		}
	}
	if fastTimesHits < 10000 || fastRoundHits < 10000 || fastAddHits < 10000 {
		t.Fatalf("fast paths rarely taken: times %d, round %d, plus %d", fastTimesHits, fastRoundHits, fastAddHits)
	}
}

// Values recorded from Ruby Liquid 5.4 ({{ 19.99 | times: 1.2 }} …).
func TestFastDecimalRuby(t *testing.T) {
	tests := []struct {
		filter string
		in     any
		arg    any
		want   string
	}{
		{"times", 19.99, 1.2, "23.988"},
		{"times", 0.1, 0.2, "0.02"},
		{"times", int64(3), 1.1, "3.3"},
		{"times", -2.5, int64(4), "-10.0"},
		{"plus", 0.1, 0.2, "0.3"},
		{"plus", 23.99, int64(0), "23.99"},
		{"plus", -1.5, 1.25, "-0.25"},
		{"round", 2.675, int64(2), "2.68"},
		{"round", 1.005, int64(2), "1.01"},
		{"round", -1.005, int64(2), "-1.01"},
		{"round", 23.988, int64(2), "23.99"},
		{"round", 1.5, int64(3), "1.5"},
	}
	for _, tt := range tests {
		var got any
		var err error
		switch tt.filter {
		case "times":
			got, err = times(nil, tt.in, []any{tt.arg})
		case "plus":
			got, err = plus(nil, tt.in, []any{tt.arg})
		default:
			got, err = round(nil, tt.in, []any{tt.arg})
		}
		if err != nil || value.ToS(got) != tt.want {
			t.Errorf("%v | %s: %v = %v (%v), want %s", tt.in, tt.filter, tt.arg, got, err, tt.want)
		}
	}
}
