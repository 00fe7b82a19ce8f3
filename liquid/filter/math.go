package filter

import (
	"math"
	"math/big"
)

// int64Pair returns both operands when they are int64 Integers, the case
// the math filters compute without big numbers.
func int64Pair(a, b any) (int64, int64, bool) {
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	return x, y, ok1 && ok2
}

func plus(_ Context, input any, args []any) (any, error) {
	if x, y, ok := int64Pair(input, args[0]); ok {
		if s := x + y; (s > x) == (y > 0) {
			return s, nil
		}
	}
	if f, ok := fastAdd(input, args[0]); ok {
		return f, nil
	}
	return addNum(toNum(input), toNum(args[0])).value(), nil
}

func minus(_ Context, input any, args []any) (any, error) {
	if x, y, ok := int64Pair(input, args[0]); ok {
		if d := x - y; (d < x) == (y > 0) {
			return d, nil
		}
	}
	return subNum(toNum(input), toNum(args[0])).value(), nil
}

func times(_ Context, input any, args []any) (any, error) {
	if x, y, ok := int64Pair(input, args[0]); ok {
		const half = 1 << 31
		if x > -half && x < half && y > -half && y < half {
			return x * y, nil
		}
	}
	if f, ok := fastTimes(input, args[0]); ok {
		return f, nil
	}
	return mulNum(toNum(input), toNum(args[0])).value(), nil
}

func dividedBy(_ Context, input any, args []any) (any, error) {
	if x, y, ok := int64Pair(input, args[0]); ok && y != 0 && !(x == math.MinInt64 && y == -1) {
		return floorDiv(x, y), nil
	}
	n, err := divNum(toNum(input), toNum(args[0]))
	if err != nil {
		return nil, err
	}
	return n.value(), nil
}

func modulo(_ Context, input any, args []any) (any, error) {
	if x, y, ok := int64Pair(input, args[0]); ok && y != 0 && y != -1 {
		return floorMod(x, y), nil
	}
	n, err := modNum(toNum(input), toNum(args[0]))
	if err != nil {
		return nil, err
	}
	return n.value(), nil
}

func abs(_ Context, input any, _ []any) (any, error) {
	n := toNum(input)
	if n.negative() {
		n = n.neg()
	}
	return n.value(), nil
}

func ceil(_ Context, input any, _ []any) (any, error) {
	n := toNum(input)
	if !n.dec {
		return n.value(), nil
	}
	if n.sp != finite {
		return nil, floatDomainError(n)
	}
	return intNumber(ratCeil(n.r)).value(), nil
}

func floor(_ Context, input any, _ []any) (any, error) {
	n := toNum(input)
	if !n.dec {
		return n.value(), nil
	}
	if n.sp != finite {
		return nil, floatDomainError(n)
	}
	return intNumber(ratFloor(n.r)).value(), nil
}

// round rounds half away from zero; with a precision of 1 or more a decimal
// stays a Float, otherwise the result is an Integer.
func round(_ Context, input any, args []any) (any, error) {
	if len(args) > 0 {
		if d, ok := args[0].(int64); ok {
			if f, ok := fastRound(input, d); ok {
				return f, nil
			}
		}
	}
	return roundExact(input, args)
}

// roundExact is round computed on exact decimals.
func roundExact(input any, args []any) (any, error) {
	n := toNum(input)
	d := toNum(arg(args, 0, int64(0)))
	if d.dec && d.sp != finite {
		return nil, floatDomainError(d)
	}
	digits, ok := d.toInt32()
	if !ok {
		return nil, errInternal()
	}
	if !n.dec {
		if digits >= 0 {
			return n.value(), nil
		}
		if -digits > len(n.i.String())+1 {
			return int64(0), nil
		}
		p := pow10(-digits)
		q := ratRoundHalfUp(new(big.Rat).SetFrac(n.i, p))
		return intNumber(q.Mul(q, p)).value(), nil
	}
	if n.sp != finite {
		if digits < 1 {
			return nil, floatDomainError(n)
		}
		return n.value(), nil
	}
	if digits < 1 {
		if -digits > len(ratFloor(new(big.Rat).Abs(n.r)).String())+1 {
			return int64(0), nil
		}
		p := pow10(-digits)
		q := ratRoundHalfUp(new(big.Rat).Quo(n.r, new(big.Rat).SetInt(p)))
		return intNumber(q.Mul(q, p)).value(), nil
	}
	if digits > maxRoundDigits {
		return n.value(), nil
	}
	p := new(big.Rat).SetInt(pow10(digits))
	q := ratRoundHalfUp(new(big.Rat).Mul(n.r, p))
	r := new(big.Rat).Quo(new(big.Rat).SetInt(q), p)
	if r.Sign() == 0 {
		return signedZero(n.negative()).value(), nil
	}
	return decNumber(r).value(), nil
}

// maxRoundDigits bounds the precision round computes with; rounding a
// decimal further out cannot change its Float value.
const maxRoundDigits = 1100

func atLeast(_ Context, input any, args []any) (any, error) {
	limit, n := toNum(args[0]), toNum(input)
	if c, ok := cmpNum(limit, n); ok && c > 0 {
		n = limit
	}
	return n.value(), nil
}

func atMost(_ Context, input any, args []any) (any, error) {
	limit, n := toNum(args[0]), toNum(input)
	if c, ok := cmpNum(limit, n); ok && c < 0 {
		n = limit
	}
	return n.value(), nil
}
