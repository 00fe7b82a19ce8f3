package filter

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// special classifies a decimal that is not a finite number.
type special uint8

const (
	finite special = iota
	posInf
	negInf
	notANumber
)

// number is an operand of Liquid's math filters: either an Integer, or a
// decimal standing in for Ruby's BigDecimal (which Liquid 5.4 uses for every
// Float operand). Decimals are exact rationals with Ruby's special values
// and signed zero.
type number struct {
	dec  bool
	i    *big.Int // Integer value when !dec
	r    *big.Rat // finite decimal value
	sp   special
	neg0 bool // the decimal is -0
}

func intNumber(i *big.Int) number { return number{i: i} }

func decNumber(r *big.Rat) number { return number{dec: true, r: r} }

func specialNumber(sp special) number { return number{dec: true, sp: sp, r: new(big.Rat)} }

// rubyWhitespace is the set String#strip removes in Ruby 3.1.
const rubyWhitespace = "\x00\t\n\v\f\r "

// isDecimalString reports whether s matches Liquid's /\A-?\d+\.\d+\z/.
func isDecimalString(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	return allDigits(s[:dot]) && allDigits(s[dot+1:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// toNum converts a value the way Liquid's Utils.to_number does.
func toNum(v any) number {
	switch x := v.(type) {
	case int64:
		return intNumber(big.NewInt(x))
	case *big.Int:
		return intNumber(new(big.Int).Set(x))
	case float64:
		return floatNumber(x)
	case string:
		t := strings.Trim(x, rubyWhitespace)
		if isDecimalString(t) {
			r, ok := new(big.Rat).SetString(t)
			if !ok {
				return intNumber(new(big.Int))
			}
			n := decNumber(r)
			n.neg0 = r.Sign() == 0 && t[0] == '-'
			return n
		}
		return intNumber(StringToI(x))
	}
	return intNumber(new(big.Int))
}

func floatNumber(f float64) number {
	switch {
	case math.IsNaN(f):
		return specialNumber(notANumber)
	case math.IsInf(f, 1):
		return specialNumber(posInf)
	case math.IsInf(f, -1):
		return specialNumber(negInf)
	case f == 0:
		n := decNumber(new(big.Rat))
		n.neg0 = math.Signbit(f)
		return n
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		r = new(big.Rat).SetFloat64(f)
	}
	return decNumber(r)
}

// StringToI converts s as Ruby's String#to_i does: leading whitespace, an
// optional sign, then decimal digits possibly separated by single
// underscores; anything else ends the number, and no digits give 0.
func StringToI(s string) *big.Int {
	i := 0
	for i < len(s) && strings.IndexByte("\t\n\v\f\r ", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digits []byte
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
			i++
			continue
		}
		if c == '_' && len(digits) > 0 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	n := new(big.Int)
	if len(digits) == 0 {
		return n
	}
	n.SetString(string(digits), 10)
	if neg {
		n.Neg(n)
	}
	return n
}

// ToNumber converts v as Liquid's Utils.to_number does and returns the
// result as a canonical value: Integers stay Integers (int64 or *big.Int),
// Floats and decimal strings ("1.5", "-0.25") become float64, other strings
// are read with Ruby's String#to_i, and anything else is 0.
func ToNumber(v any) any {
	return toNum(v).value()
}

// value returns the canonical Liquid value of n: an Integer, or for
// decimals the nearest float64 (BigDecimal#to_f).
func (n number) value() any {
	if !n.dec {
		return value.Int(n.i)
	}
	switch n.sp {
	case posInf:
		return math.Inf(1)
	case negInf:
		return math.Inf(-1)
	case notANumber:
		return math.NaN()
	}
	if n.r.Sign() == 0 {
		if n.neg0 {
			return math.Copysign(0, -1)
		}
		return 0.0
	}
	f, _ := n.r.Float64()
	return f
}

// toDec converts an Integer operand to a decimal.
func (n number) toDec() number {
	if n.dec {
		return n
	}
	return decNumber(new(big.Rat).SetInt(n.i))
}

// sign returns -1, 0 or 1 (0 for zeros of either sign and for NaN; see
// negative for the sign bit).
func (n number) sign() int {
	if !n.dec {
		return n.i.Sign()
	}
	switch n.sp {
	case posInf:
		return 1
	case negInf:
		return -1
	case notANumber:
		return 0
	}
	return n.r.Sign()
}

// negative reports whether n has its sign bit set (including -0 and -∞).
func (n number) negative() bool {
	if n.dec && n.sp == finite && n.r.Sign() == 0 {
		return n.neg0
	}
	return n.sign() < 0
}

func (n number) isZero() bool {
	if !n.dec {
		return n.i.Sign() == 0
	}
	return n.sp == finite && n.r.Sign() == 0
}

func (n number) isInf() bool { return n.dec && (n.sp == posInf || n.sp == negInf) }

func (n number) isNaN() bool { return n.dec && n.sp == notANumber }

func signedInf(neg bool) number {
	if neg {
		return specialNumber(negInf)
	}
	return specialNumber(posInf)
}

func signedZero(neg bool) number {
	n := decNumber(new(big.Rat))
	n.neg0 = neg
	return n
}

func (n number) neg() number {
	if !n.dec {
		return intNumber(new(big.Int).Neg(n.i))
	}
	switch n.sp {
	case posInf:
		return specialNumber(negInf)
	case negInf:
		return specialNumber(posInf)
	case notANumber:
		return n
	}
	if n.r.Sign() == 0 {
		return signedZero(!n.neg0)
	}
	return decNumber(new(big.Rat).Neg(n.r))
}

func addNum(a, b number) number {
	if !a.dec && !b.dec {
		return intNumber(new(big.Int).Add(a.i, b.i))
	}
	a, b = a.toDec(), b.toDec()
	switch {
	case a.isNaN() || b.isNaN():
		return specialNumber(notANumber)
	case a.isInf() && b.isInf():
		if a.sp != b.sp {
			return specialNumber(notANumber)
		}
		return a
	case a.isInf():
		return a
	case b.isInf():
		return b
	}
	r := new(big.Rat).Add(a.r, b.r)
	if r.Sign() == 0 {
		return signedZero(a.isZero() && b.isZero() && a.neg0 && b.neg0)
	}
	return decNumber(r)
}

func subNum(a, b number) number {
	if b.isZero() && !b.dec {
		// x - 0 keeps x's sign of zero, as IEEE (and BigDecimal) do.
		b = signedZero(true)
		if a.dec {
			return addNum(a, b)
		}
		return a
	}
	return addNum(a, b.neg())
}

func mulNum(a, b number) number {
	if !a.dec && !b.dec {
		return intNumber(new(big.Int).Mul(a.i, b.i))
	}
	a, b = a.toDec(), b.toDec()
	neg := a.negative() != b.negative()
	switch {
	case a.isNaN() || b.isNaN():
		return specialNumber(notANumber)
	case a.isInf() || b.isInf():
		if a.isZero() || b.isZero() {
			return specialNumber(notANumber)
		}
		return signedInf(neg)
	}
	r := new(big.Rat).Mul(a.r, b.r)
	if r.Sign() == 0 {
		return signedZero(neg)
	}
	return decNumber(r)
}

func errDividedByZero() error { return &Error{Msg: "divided by 0"} }

func divNum(a, b number) (number, error) {
	if !a.dec && !b.dec {
		if b.i.Sign() == 0 {
			return number{}, errDividedByZero()
		}
		q, _ := floorDivMod(a.i, b.i)
		return intNumber(q), nil
	}
	a, b = a.toDec(), b.toDec()
	neg := a.negative() != b.negative()
	switch {
	case a.isNaN() || b.isNaN():
		return specialNumber(notANumber), nil
	case a.isInf() && b.isInf():
		return specialNumber(notANumber), nil
	case a.isInf():
		return signedInf(neg), nil
	case b.isInf():
		return signedZero(neg), nil
	case b.isZero():
		if a.isZero() {
			return specialNumber(notANumber), nil
		}
		return signedInf(neg), nil
	}
	r := new(big.Rat).Quo(a.r, b.r)
	if r.Sign() == 0 {
		return signedZero(neg), nil
	}
	return decNumber(r), nil
}

func modNum(a, b number) (number, error) {
	if a.isNaN() || b.isNaN() {
		return specialNumber(notANumber), nil
	}
	if b.isZero() {
		return number{}, errDividedByZero()
	}
	if !a.dec && !b.dec {
		_, m := floorDivMod(a.i, b.i)
		return intNumber(m), nil
	}
	a, b = a.toDec(), b.toDec()
	switch {
	case a.isNaN() || b.isNaN() || a.isInf():
		return specialNumber(notANumber), nil
	case b.isInf():
		return a, nil
	}
	m := bigDecimalMod(a.r, b.r)
	if m.Sign() == 0 {
		return signedZero(false), nil
	}
	return decNumber(m), nil
}

// bigDecimalMod is BigDecimal#% for finite a and non-zero b: the quotient
// truncated, a - quotient*b, then b added when the signs differ. BigDecimal
// does the subtraction in a fixed number of 9-digit words (enough for 18
// digits beyond the larger operand precision, at least 32), so when the
// quotient is huge the low words of the product are dropped; this keeps
// that loss. (Operands are always terminating decimals here.)
func bigDecimalMod(a, b *big.Rat) *big.Rat {
	if a.Sign() == 0 {
		return new(big.Rat)
	}
	q := new(big.Int).Quo(new(big.Int).Mul(a.Num(), b.Denom()), new(big.Int).Mul(a.Denom(), b.Num()))
	res := new(big.Rat).Mul(b, new(big.Rat).SetInt(q))
	mx := decPrecision(a)
	if p := decPrecision(b); p > mx {
		mx = p
	}
	if mx < 32 {
		mx = 32
	}
	words := (mx + 18 + 8) / 9
	top := wordExponent(a)
	if e := wordExponent(res); e > top {
		top = e
	}
	keep := 9 * (words - 1 - top)
	c := new(big.Rat).Sub(truncDecimal(a, keep), truncDecimal(res, keep))
	if c.Sign() != 0 && a.Sign() != b.Sign() {
		c.Add(c, b)
	}
	return c
}

// decimalDigits returns |r| as D × 10^-k with D having no trailing zeros;
// r must be a non-zero terminating decimal.
func decimalDigits(r *big.Rat) (string, int) {
	den := new(big.Int).Set(r.Denom())
	k := 0
	ten := big.NewInt(10)
	num := new(big.Int).Abs(r.Num())
	// Scale the denominator up to a power of ten.
	for den.Cmp(big.NewInt(1)) != 0 {
		g := new(big.Int).GCD(nil, nil, den, ten)
		if g.Cmp(big.NewInt(1)) == 0 {
			break // not terminating; cannot happen for our operands
		}
		num.Mul(num, new(big.Int).Quo(ten, g))
		den.Quo(den, g)
		k++
	}
	d := num.String()
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
		k--
	}
	return d, k
}

// decPrecision is BigDecimal's precision: the decimal digits from the
// first significant integer digit (or the decimal point) to the last
// non-zero fraction digit, or to the end of an integer.
func decPrecision(r *big.Rat) int {
	if r.Sign() == 0 {
		return 0
	}
	d, k := decimalDigits(r)
	intDigits := len(d) - k
	p := 0
	if intDigits > 0 {
		p = intDigits
	}
	if k > 0 {
		p += k
	}
	return p
}

// wordExponent is BigDecimal's exponent in 9-digit words: how many words
// the integer part takes, or minus the number of all-zero words right
// after the decimal point.
func wordExponent(r *big.Rat) int {
	if r.Sign() == 0 {
		return math.MinInt32
	}
	d, k := decimalDigits(r)
	intDigits := len(d) - k
	if intDigits > 0 {
		return (intDigits + 8) / 9
	}
	return -(-intDigits / 9)
}

// truncDecimal cuts r toward zero to keep digits after the decimal point
// (a negative keep also cuts integer digits).
func truncDecimal(r *big.Rat, keep int) *big.Rat {
	var scale *big.Rat
	if keep >= 0 {
		scale = new(big.Rat).SetInt(pow10(keep))
	} else {
		scale = new(big.Rat).SetFrac(big.NewInt(1), pow10(-keep))
	}
	x := new(big.Rat).Mul(r, scale)
	t := new(big.Int).Quo(x.Num(), x.Denom())
	return new(big.Rat).Quo(new(big.Rat).SetInt(t), scale)
}

// floorDivMod divides with the quotient rounded towards negative infinity,
// as Ruby's Integer#/ and Integer#% do.
func floorDivMod(a, b *big.Int) (*big.Int, *big.Int) {
	q, m := new(big.Int).QuoRem(a, b, new(big.Int))
	if m.Sign() != 0 && (m.Sign() < 0) != (b.Sign() < 0) {
		q.Sub(q, big.NewInt(1))
		m.Add(m, b)
	}
	return q, m
}

func ratFloor(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

func ratCeil(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// ratRoundHalfUp rounds to the nearest integer, ties away from zero.
func ratRoundHalfUp(r *big.Rat) *big.Int {
	abs := new(big.Rat).Abs(r)
	abs.Add(abs, big.NewRat(1, 2))
	q := ratFloor(abs)
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// cmpNum compares two numbers; ok is false when either is NaN.
func cmpNum(a, b number) (int, bool) {
	if !a.dec && !b.dec {
		return a.i.Cmp(b.i), true
	}
	a, b = a.toDec(), b.toDec()
	if a.isNaN() || b.isNaN() {
		return 0, false
	}
	rank := func(n number) int {
		switch n.sp {
		case posInf:
			return 1
		case negInf:
			return -1
		}
		return 0
	}
	ra, rb := rank(a), rank(b)
	if ra != 0 || rb != 0 {
		switch {
		case ra < rb:
			return -1, true
		case ra > rb:
			return 1, true
		}
		return 0, true
	}
	return a.r.Cmp(b.r), true
}

// floatDomainError is Ruby's FloatDomainError message for converting a
// special decimal to an Integer.
func floatDomainError(n number) error {
	switch n.sp {
	case posInf:
		return Errorf("Computation results in 'Infinity'")
	case negInf:
		return Errorf("Computation results in '-Infinity'")
	}
	return Errorf("Computation results in 'NaN' (Not a Number)")
}

// toInt32 converts a rounding precision the way Ruby's NUM2INT does; ok is
// false when it does not fit (Ruby raises RangeError).
func (n number) toInt32() (int, bool) {
	var i *big.Int
	if n.dec {
		if n.sp != finite {
			return 0, false
		}
		i = new(big.Int).Quo(n.r.Num(), n.r.Denom())
	} else {
		i = n.i
	}
	if !i.IsInt64() || i.Int64() > math.MaxInt32 || i.Int64() < math.MinInt32 {
		return 0, false
	}
	return int(i.Int64()), true
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// ToInteger converts v as Liquid's Utils.to_integer does: Integers pass
// through, everything else is converted to a string and parsed with Ruby's
// Integer(), failing with "invalid integer".
func ToInteger(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case *big.Int:
		return x, nil
	}
	n, ok := parseRubyInteger(value.ToS(v))
	if !ok {
		return nil, Errorf("invalid integer")
	}
	return value.Int(n), nil
}

// parseRubyInteger parses s as Ruby's Kernel#Integer(String) does:
// surrounding whitespace, a sign, an optional radix prefix (0x, 0b, 0o, 0d
// or a leading 0 for octal) and digits with single underscores between
// them.
func parseRubyInteger(s string) (*big.Int, bool) {
	s = strings.Trim(s, "\t\n\v\f\r ")
	if s == "" {
		return nil, false
	}
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	if len(s) >= 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base, s = 16, s[2:]
		case 'b', 'B':
			base, s = 2, s[2:]
		case 'o', 'O':
			base, s = 8, s[2:]
		case 'd', 'D':
			base, s = 10, s[2:]
		default:
			base, s = 8, s[1:]
		}
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return nil, false
	}
	digits := strings.ReplaceAll(s, "_", "")
	if digits[0] == '+' || digits[0] == '-' {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}
