package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The exact moments agree with a Monte Carlo simulation of the recursion, and reach the stationary closed forms.
func TestQuadraticMomentsMatchSimulationAndClosedForms(t *testing.T) {
	const (
		h, sigma, theta0, n, runs = 0.2, 1.5, 3.0, 300, 20000
		mu                        = 0.4
	)
	beta := 0.9
	cosine := func(k int) float64 { return h * 0.5 * (1 + math.Cos(math.Pi*float64(k-1)/n)) }
	ema := func(int) float64 { return 1 - beta }
	tail := func(k int) float64 { return 1 / float64(max(k-n/2+1, 1)) }
	for _, c := range []struct {
		name string
		h, w func(int) float64
	}{{"ema", func(int) float64 { return h }, ema}, {"tail", func(int) float64 { return h }, tail}, {"cosine+ema", cosine, ema}} {
		m := QuadraticMoments(theta0, mu, sigma*sigma, c.h, c.w, n)
		r := rand.New(rand.NewPCG(1, 2))
		var sumT, sumT2, sumA, sumA2 float64
		for range runs {
			th, a := theta0, theta0
			for k := 1; k <= n; k++ {
				th = (1-c.h(k))*th + c.h(k)*(mu+sigma*r.NormFloat64())
				a += c.w(k) * (th - a)
			}
			sumT, sumT2, sumA, sumA2 = sumT+th, sumT2+th*th, sumA+a, sumA2+a*a
		}
		vt, va := sumT2/runs-(sumT/runs)*(sumT/runs), sumA2/runs-(sumA/runs)*(sumA/runs)
		// 20 000 runs: a variance is within 4.5·√(2/20000) = 4.5% of the exact one, a mean within 4.5 standard errors.
		for _, q := range []struct {
			what                   string
			mean, exactMean, v, ex float64
		}{{"θ_N", sumT / runs, m.ThetaMean[n], vt, m.ThetaVar[n]}, {"ā_N", sumA / runs, m.AvgMean[n], va, m.AvgVar[n]}} {
			if math.Abs(q.v/q.ex-1) > 0.045 || math.Abs(q.mean-q.exactMean) > 4.5*math.Sqrt(q.ex/runs) {
				t.Errorf("%s %s: simulated mean %.4f, variance %.5f; exact %.4f, %.5f", c.name, q.what, q.mean, q.v, q.exactMean, q.ex)
			}
		}
	}
	// Stationary closed forms.
	long := QuadraticMoments(theta0, 0, sigma*sigma, func(int) float64 { return h }, ema, 2000)
	if got, want := long.AvgVar[2000], EMAStationaryVariance(h, sigma, beta); math.Abs(got/want-1) > 1e-9 {
		t.Errorf("EMA variance after 2000 steps %g, stationary closed form %g", got, want)
	}
	if got, want := long.ThetaVar[2000], QuadraticStationaryVariance(h, sigma); math.Abs(got/want-1) > 1e-9 {
		t.Errorf("θ variance after 2000 steps %g, stationary %g", got, want)
	}
	const m = 4000
	tailW := func(k int) float64 { return 1 / float64(max(k-1000+1, 1)) }
	tl := QuadraticMoments(0, 0, sigma*sigma, func(int) float64 { return h }, tailW, 1000+m-1)
	// The first-order form σ²/m misses O(1/m²) terms: (1+ρ)/(1−ρ)… over m² ≈ 1/(h m) relative, 0.00125 here.
	if got, want := tl.AvgVar[1000+m-1], TailAverageVariance(sigma, m); math.Abs(got/want-1) > 0.01 {
		t.Errorf("tail average of %d iterates: variance %g, first-order form %g", m, got, want)
	}
}
