// Package portable computes the elementary functions revsgd's random draws and synthetic data need — ln, cos, exp,
// tanh — with IEEE-754 double additions, multiplications and divisions only, each rounded on its own (an explicit
// float64 conversion after every product stops Go from fusing it with the next addition, which it may do on
// CPUs with FMA). math.Log and math.Exp have assembly or FMA paths that differ between machines; these functions
// give the same bits on every machine and in any language that follows the same steps (testdata/reference.txt
// holds values computed by a Python transcription, testdata/reference.py). They are accurate to a few ulps.
package portable

import "math"

// ln2Hi + ln2Lo is ln 2; ln2Hi has 32 trailing zero bits, so e·ln2Hi is exact for the exponents of float64.
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// mulAdd returns a·b + c with the product rounded before the addition.
func mulAdd(a, b, c float64) float64 { return float64(a*b) + c }

// Log returns the natural logarithm of x > 0 (NaN for x < 0 or NaN, −Inf for 0, +Inf for +Inf). With x = m·2^e,
// m in [√½, √2), and s = (m − 1)/(m + 1): ln x = e·ln 2 + 2(s + s³/3 + … + s²¹/21), the series summed by Horner's
// rule in s² from the highest term.
func Log(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	m, e := math.Frexp(x) // exact: x = m·2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m, e = m*2, e-1
	}
	s := (m - 1) / (m + 1)
	s2 := float64(s * s)
	p := 1.0 / 21
	for k := 19; k >= 1; k -= 2 {
		p = mulAdd(p, s2, 1/float64(k))
	}
	lnm := float64(2 * float64(s*p))
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(fe*ln2Lo) + lnm)
}

// CosTurns returns cos(2π·u), for u in turns: u is reduced to the nearest quarter turn k/4 and a remainder f in
// [−1/8, 1/8], x = 2π·f, and cos(2πu) is ±cos x or ±sin x by k mod 4, each from its Taylor series to x¹⁸ (cos)
// and x¹⁹ (sin) by Horner's rule in x².
func CosTurns(u float64) float64 {
	if math.IsNaN(u) || math.IsInf(u, 0) {
		return math.NaN()
	}
	k := math.Floor(float64(u*4) + 0.5)
	f := u - float64(k/4)
	x := float64(f * (2 * math.Pi))
	q := int64(math.Mod(k, 4))
	if q < 0 {
		q += 4
	}
	switch q {
	case 0:
		return cosSeries(x)
	case 1:
		return -sinSeries(x)
	case 2:
		return -cosSeries(x)
	}
	return sinSeries(x)
}

// cosSeries is 1 − x²/2! + x⁴/4! − … + x¹⁸/18!, for |x| ≤ π/4.
func cosSeries(x float64) float64 {
	x2 := float64(x * x)
	p := 0.0
	for n := 18; n >= 2; n -= 2 {
		p = mulAdd(p, x2, sign(n/2)/factorial(n))
	}
	return mulAdd(p, x2, 1)
}

// sinSeries is x − x³/3! + … + x¹⁹/19!, for |x| ≤ π/4.
func sinSeries(x float64) float64 {
	x2 := float64(x * x)
	p := 0.0
	for n := 19; n >= 3; n -= 2 {
		p = mulAdd(p, x2, sign((n-1)/2)/factorial(n))
	}
	return mulAdd(float64(p*x2), x, x)
}

func sign(k int) float64 {
	if k%2 == 1 {
		return -1
	}
	return 1
}

// factorial returns n! as a float64 (exact for n ≤ 22).
func factorial(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}

// Exp returns e^x: with k the nearest integer to x/ln 2 and r = x − k·ln 2 (|r| ≤ ln2/2, by the split ln 2),
// e^x = 2^k · (1 + r + r²/2! + … + r¹⁷/17!) by Horner's rule. It overflows to +Inf above about 709.78 and
// underflows to 0 below about −745.
func Exp(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return x
	case x > 709.8:
		return math.Inf(1)
	case x < -745.2:
		return 0
	}
	k := math.Floor(float64(x/math.Ln2) + 0.5)
	r := (x - float64(k*ln2Hi)) - float64(k*ln2Lo)
	p := 1 / factorial(17)
	for n := 16; n >= 0; n-- {
		p = mulAdd(p, r, 1/factorial(n))
	}
	return math.Ldexp(p, int(k)) // exact scaling by 2^k (rounded once if the result is subnormal)
}

// expm1 returns e^y − 1 for y ≥ 0: its Taylor series y + y²/2! + … + y¹⁷/17! for y ≤ 0.35 (no cancellation),
// else Exp(y) − 1.
func expm1(y float64) float64 {
	if y > 0.35 {
		return Exp(y) - 1
	}
	p := 1 / factorial(17)
	for n := 16; n >= 1; n-- {
		p = mulAdd(p, y, 1/factorial(n))
	}
	return float64(p * y)
}

// Tanh returns tanh(x) = sign(x)·E/(E + 2) with E = e^{2|x|} − 1; ±1 beyond |x| = 20, where that is the rounded
// value.
func Tanh(x float64) float64 {
	if math.IsNaN(x) {
		return x
	}
	a := math.Abs(x)
	if a > 20 {
		return math.Copysign(1, x)
	}
	e := expm1(2 * a)
	return math.Copysign(e/(e+2), x)
}
