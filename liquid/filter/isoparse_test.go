package filter

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// TestISOParseMatchesGeneralParser checks that the ISO 8601 shortcut finds
// exactly the fields Ruby's general date parser (dateParse) finds, on
// generated strings around the shapes it accepts.
func TestISOParseMatchesGeneralParser(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	num := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(byte('0' + r.Intn(10)))
		}
		return b.String()
	}
	checked := 0
	for i := 0; i < 20000; i++ {
		s := num(4) + "-" + pick(num(2), "01", "12", "13", "00") + "-" + pick(num(2), "31", "00")
		if r.Intn(5) > 0 {
			s += pick("t", "T", " ", "x", "") + num(2) + ":" + num(2)
			if r.Intn(3) > 0 {
				s += ":" + num(2)
				if r.Intn(3) == 0 {
					s += "." + num(1+r.Intn(11))
				}
			}
			if r.Intn(2) == 0 {
				s += pick("z", "Z", "+05:30", "-0800", " -08:00", " +0000", "+5", " utc", "+05:3", "+0530x", " z")
			}
		}
		if r.Intn(20) == 0 {
			s = s[:r.Intn(len(s))]
		}
		fast, ok := isoParse(s)
		if !ok {
			continue
		}
		checked++
		slow := dateParse(s)
		slow.comp, fast.comp = false, false
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: isoParse %+v, dateParse %+v", s, describe(fast), describe(slow))
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d strings took the ISO shortcut", checked)
	}
}

func describe(h dateParts) map[string]any {
	out := map[string]any{}
	for name, p := range map[string]*int64{"year": h.year, "yday": h.yday, "mon": h.mon, "mday": h.mday, "hour": h.hour, "min": h.min, "sec": h.sec, "wday": h.wday} {
		if p != nil {
			out[name] = *p
		}
	}
	if h.secFraction != nil {
		out["frac"] = h.secFraction.String()
	}
	if h.zone != nil {
		out["zone"] = *h.zone
	}
	return out
}
