package filter

import (
	"math"
	"strconv"
)

// The math filters compute Float operands as exact decimals (Ruby's
// BigDecimal) and convert the exact result back to the nearest Float. For
// the common case of short decimals — a price times 1.2, rounded to two
// places — the exact result fits in an int64 mantissa and a power of ten,
// and strconv.ParseFloat gives the same nearest Float without big numbers.
// These fast paths decline (ok=false) whenever that is not certain; the
// exact path then runs.

// smallDecimal splits an Integer or a finite, non-zero Float into m×10^e
// with |m| < 1e9, using the Float's shortest decimal form as BigDecimal does.
func smallDecimal(v any) (m int64, e int, ok bool) {
	switch x := v.(type) {
	case int64:
		if x == 0 || x <= -1e9 || x >= 1e9 {
			return 0, 0, false
		}
		return x, 0, true
	case float64:
		if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, 0, false
		}
		return decimalParts(x, 9)
	}
	return 0, 0, false
}

// decimalParts splits a finite non-zero f into m×10^e from its shortest
// decimal form, failing when m needs more than maxDigits digits.
func decimalParts(f float64, maxDigits int) (m int64, e int, ok bool) {
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.ddde±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	digits := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] == '.' {
			continue
		}
		digits++
		if digits > maxDigits {
			return 0, 0, false
		}
		m = m*10 + int64(s[i]-'0')
	}
	exp, err := strconv.Atoi(string(s[i+1:]))
	if err != nil {
		return 0, 0, false
	}
	if neg {
		m = -m
	}
	return m, exp - (digits - 1), true
}

// decimalFloat is the Float nearest to m×10^e.
func decimalFloat(m int64, e int) (float64, bool) {
	if m == 0 || e < -250 || e > 250 {
		return 0, false
	}
	var buf [40]byte
	b := strconv.AppendInt(buf[:0], m, 10)
	b = append(b, 'e')
	b = strconv.AppendInt(b, int64(e), 10)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// shortPair splits both operands with smallDecimal when at least one of
// them is a Float (Integer pairs have their own int64 paths).
func shortPair(a, b any) (m1 int64, e1 int, m2 int64, e2 int, ok bool) {
	_, af := a.(float64)
	_, bf := b.(float64)
	if !af && !bf {
		return 0, 0, 0, 0, false
	}
	m1, e1, ok1 := smallDecimal(a)
	m2, e2, ok2 := smallDecimal(b)
	return m1, e1, m2, e2, ok1 && ok2
}

// fastTimes multiplies two short decimals when at least one is a Float.
func fastTimes(a, b any) (float64, bool) {
	m1, e1, m2, e2, ok := shortPair(a, b)
	if !ok {
		return 0, false
	}
	return decimalFloat(m1*m2, e1+e2) // |m1×m2| < 1e18
}

// fastAdd adds two short decimals when at least one is a Float.
func fastAdd(a, b any) (float64, bool) {
	m1, e1, m2, e2, ok := shortPair(a, b)
	if !ok {
		return 0, false
	}
	if e1 < e2 {
		m1, e1, m2, e2 = m2, e2, m1, e1
	}
	if e1-e2 > 9 {
		return 0, false
	}
	for range e1 - e2 {
		m1 *= 10 // |m1| < 1e18 afterwards
	}
	return decimalFloat(m1+m2, e2) // declines a zero sum (signed zero)
}

// fastRound rounds a Float to digits ≥ 1 decimal places, half away from
// zero (BigDecimal's ROUND_HALF_UP), returning a Float.
func fastRound(v any, digits int64) (float64, bool) {
	f, isFloat := v.(float64)
	if !isFloat || digits < 1 || digits > 20 || f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	m, e, ok := decimalParts(f, 17)
	if !ok {
		return 0, false
	}
	if e >= -int(digits) {
		return f, true // already has no more than digits decimals
	}
	k := -int(digits) - e // decimal digits to drop
	if k > 18 {
		return 0, false
	}
	p := int64(1)
	for range k {
		p *= 10
	}
	q, r := m/p, m%p
	if r < 0 {
		r = -r
	}
	if r >= p-r { // r*2 >= p without overflow
		if m < 0 {
			q--
		} else {
			q++
		}
	}
	return decimalFloat(q, -int(digits))
}
