package analysis

import (
	"math"
	"sort"
	"testing"

	"github.com/revsgd/revsgd/pkg/rng"
)

// backwardQuadratic returns the exact backward iterates θ_1..θ_n of the 1-D quadratic with θ_0 = 0,
// θ_n = h Σ_{k≤n} (1−h)^{k−1} ε_k, and the limit θ* (the sum continued to `limitSteps`, whose remainder is below
// 1e-30).
func backwardQuadratic(src *rng.Source, h float64, n, limitSteps int) (iterates [][]float64, limit float64) {
	theta, w := 0.0, h
	for k := 1; k <= limitSteps; k++ {
		theta += w * src.Normal()
		w *= 1 - h
		if k <= n {
			iterates = append(iterates, []float64{theta})
		}
	}
	return iterates, theta
}

func TestBackwardLimitOnTheQuadratic(t *testing.T) {
	const seeds, h, n = 2000, 0.1, 80
	steps := make([]int, n)
	for i := range steps {
		steps[i] = i + 1
	}
	var rates, tails2, errs2 []float64
	closeEarly := 0
	for s := range seeds {
		iterates, limit := backwardQuadratic(rng.New(uint64(s)), h, n, 800)
		lim, err := BackwardLimit(steps, iterates)
		if err != nil {
			t.Fatal(err)
		}
		if !lim.Converging {
			t.Fatalf("seed %d: not converging, rate %g", s, lim.Rate)
		}
		rates = append(rates, lim.Rate)
		tails2 = append(tails2, lim.Tail*lim.Tail)
		e := limit - lim.Point[0]
		errs2 = append(errs2, e*e)
		// Early on the distance to the limit is dominated by the known part θ_N − θ_10.
		if truth := math.Abs(limit - iterates[9][0]); math.Abs(lim.Distances[9]-truth) <= 0.05*truth {
			closeEarly++
		}
	}
	// The fitted rate is 1 − h: the per-seed slope over 40 points has standard error ≈ 0.015, so the mean over
	// 2000 seeds ≈ 0.0004; we allow 0.003.
	t.Logf("mean rate %.5f, realised/exact %.3f, Tail²/exact %.3f, close early %d", Mean(rates), Mean(errs2)/(h*h*math.Pow(1-h, 2*n)/(1-(1-h)*(1-h))), Mean(tails2)/(h*h*math.Pow(1-h, 2*n)/(1-(1-h)*(1-h))), closeEarly)
	if m := Mean(rates); math.Abs(m-(1-h)) > 0.003 {
		t.Errorf("mean fitted rate %.4f, want 1 − h = %.4f", m, 1-h)
	}
	// E(θ* − θ_N)² = h²σ² (1−h)^{2N} / (1 − (1−h)²) exactly. The realised squared errors average to it within
	// four standard errors (√(2/S) relative: 13%); the estimated Tail² is noisier (it extrapolates a fit, and
	// averaging squares of noisy estimates biases upwards; measured 1.21×), and must land within [0.75, 1.35] ×
	// — a gross miscalibration, like fitting c from the mean log step (0.28×), fails.
	exact := h * h * math.Pow(1-h, 2*n) / (1 - (1-h)*(1-h))
	if r := Mean(errs2) / exact; math.Abs(r-1) > 4*math.Sqrt(2.0/seeds) {
		t.Errorf("mean (θ* − θ_N)² is %.3g × the exact %.3g", r, exact)
	}
	if r := Mean(tails2) / exact; r < 0.75 || r > 1.35 {
		t.Errorf("mean estimated Tail² is %.3f × the exact E(θ* − θ_N)²", r)
	}
	if frac := float64(closeEarly) / seeds; frac < 0.95 {
		t.Errorf("the distance to the limit at step 10 is within 5%% for only %.1f%% of seeds", 100*frac)
	}
}

func TestBackwardLimitOfAnOscillatingRun(t *testing.T) {
	src := rng.New(1)
	var steps []int
	var iterates [][]float64
	for n := 1; n <= 50; n++ {
		steps = append(steps, n)
		iterates = append(iterates, []float64{src.Normal()}) // forward-like: no decay
	}
	lim, err := BackwardLimit(steps, iterates)
	if err != nil {
		t.Fatal(err)
	}
	if lim.Converging && lim.Rate < 0.97 {
		t.Errorf("a non-decaying run fitted a contraction %.3f", lim.Rate)
	}
	if _, err := BackwardLimit([]int{1, 2}, iterates[:2]); err == nil {
		t.Error("two points accepted")
	}
	if _, err := BackwardLimit([]int{1, 3, 2}, iterates[:3]); err == nil {
		t.Error("decreasing steps accepted")
	}
}

func TestSpreadAndDistances(t *testing.T) {
	runs := [][][]float64{{{0, 0}, {1, 1}}, {{2, 0}, {1, 1}}}
	s, err := Spread(runs)
	if err != nil {
		t.Fatal(err)
	}
	// Step 0: points (0,0) and (2,0), mean (1,0): squared distances 1 + 1, over n − 1 = 1. Step 1: identical.
	if s[0] != 2 || s[1] != 0 {
		t.Errorf("spread %v", s)
	}
	if d := DistancesTo([][]float64{{3, 4}}, []float64{0, 0}); d[0] != 5 {
		t.Errorf("distance %v", d)
	}
	if sz := StepSizes([][]float64{{0}, {3}, {-1}}); sz[0] != 3 || sz[1] != 4 {
		t.Errorf("step sizes %v", sz)
	}
}

// ecdfDistance recomputes the two-sample statistic by brute force: the largest gap between the empirical
// distribution functions over every sample point.
func ecdfDistance(a, b []float64) float64 {
	cdf := func(xs []float64, x float64) float64 {
		n := 0
		for _, v := range xs {
			if v <= x {
				n++
			}
		}
		return float64(n) / float64(len(xs))
	}
	d := 0.0
	for _, x := range append(append([]float64{}, a...), b...) {
		d = math.Max(d, math.Abs(cdf(a, x)-cdf(b, x)))
	}
	return d
}

func TestKolmogorovSmirnovStatistic(t *testing.T) {
	src := rng.New(4)
	for range 20 {
		var a, b []float64
		for range 1 + src.IntN(30) {
			a = append(a, math.Round(src.Normal()*4)/4) // ties included
		}
		for range 1 + src.IntN(30) {
			b = append(b, math.Round(src.Normal()*4)/4+0.25)
		}
		d, _, err := KolmogorovSmirnov(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := ecdfDistance(a, b); math.Abs(d-want) > 1e-15 {
			t.Fatalf("D = %g, brute force %g", d, want)
		}
	}
	// The 5% critical value of Kolmogorov's distribution is 1.3581.
	if q := kolmogorovQ(1.3581); math.Abs(q-0.05) > 2e-4 {
		t.Errorf("P(K > 1.3581) = %.5f, want 0.05", q)
	}
}

// Under the null the p-values are uniform: about 5% fall below 0.05. Over 400 trials the binomial standard
// deviation of that fraction is 1.1%; we accept 5% ± 3.3%. Under a shift of 0.3σ with 1000 points per sample the
// test must reject overwhelmingly.
func TestKolmogorovSmirnovCalibrationAndPower(t *testing.T) {
	src := rng.New(5)
	draw := func(n int, shift float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = src.Normal() + shift
		}
		return x
	}
	low2, low1 := 0, 0
	const trials = 400
	for range trials {
		if _, p, _ := KolmogorovSmirnov(draw(150, 0), draw(200, 0)); p < 0.05 {
			low2++
		}
		if _, p, _ := KolmogorovSmirnovOneSample(draw(150, 0), NormalCDF(0, 1)); p < 0.05 {
			low1++
		}
	}
	for name, low := range map[string]int{"two-sample": low2, "one-sample": low1} {
		if f := float64(low) / trials; math.Abs(f-0.05) > 0.033 {
			t.Errorf("%s: %.1f%% of null p-values below 0.05", name, 100*f)
		}
	}
	if _, p, _ := KolmogorovSmirnov(draw(1000, 0), draw(1000, 0.3)); p > 1e-4 {
		t.Errorf("a 0.3σ shift went unnoticed: p = %g", p)
	}
	if _, p, _ := KolmogorovSmirnovOneSample(draw(2000, 0), NormalCDF(0, 1.5)); p > 1e-4 {
		t.Errorf("a wrong variance went unnoticed: p = %g", p)
	}
}

func TestEnergyDistance(t *testing.T) {
	src := rng.New(6)
	draw := func(n int, shift float64) [][]float64 {
		x := make([][]float64, n)
		for i := range x {
			x[i] = []float64{src.Normal() + shift, src.Normal()}
		}
		return x
	}
	// Null: p-values roughly uniform; over 60 trials (99 permutations each) the fraction below 0.1 has standard
	// deviation 3.9%; accept 10% ± 12%.
	low := 0
	for range 60 {
		if _, p, _ := EnergyDistance(draw(40, 0), draw(50, 0), 99, src.Uint64()); p < 0.1 {
			low++
		}
	}
	if f := float64(low) / 60; f > 0.22 {
		t.Errorf("%.0f%% of null p-values below 0.1", 100*f)
	}
	e, p, err := EnergyDistance(draw(100, 0), draw(100, 0.8), 199, 1)
	if err != nil || e <= 0 || p != 1.0/200 {
		t.Errorf("a 0.8σ shift: E = %g, p = %g, %v (want the smallest p, 1/200)", e, p, err)
	}
}

func TestQuantiles(t *testing.T) {
	q := Quantiles([]float64{4, 1, 3, 2}, 4)
	if !sort.Float64sAreSorted(q) || q[0] != 1 || q[3] != 4 {
		t.Errorf("quantiles %v", q)
	}
	if z := NormalQuantile(0, 1, 0.975); math.Abs(z-1.959964) > 1e-6 {
		t.Errorf("normal quantile %g", z)
	}
}

func TestWindowMovementSeparatesLateMovesFromJumps(t *testing.T) {
	// Windows of 4 steps over N = 12, evaluated every step, in one coordinate: within a window the iterate moves
	// 8, 4, 2, 1 from the window's start (a settling run), and each window starts 100 further on.
	var steps []int
	var its [][]float64
	x := 0.0
	for s := 0; s <= 12; s++ {
		if s > 0 {
			x += []float64{8, 4, 2, 1}[(s-1)%4]
		}
		if s > 0 && (s-1)%4 == 0 {
			x += 100
		}
		steps, its = append(steps, s), append(its, []float64{x})
	}
	m, err := WindowMovement(steps, its, 12, []int{4, 8})
	if err != nil {
		t.Fatal(err)
	}
	// Second halves of (4, 8] and (8, 12]: the pairs (6, 7) and (7, 8), (10, 11) and (11, 12): moves 2 and 1.
	if m.Late != 1.5 {
		t.Errorf("late movement %g, want 1.5", m.Late)
	}
	// Window ends 4 → 8 → 12: 115 each.
	if m.Jump != 115 {
		t.Errorf("jump %g, want 115", m.Jump)
	}
	if _, err := WindowMovement(steps[:12], its[:12], 12, []int{4, 8}); err == nil {
		t.Error("a window whose end is not evaluated was measured")
	}
	if _, err := WindowMovement(steps, its, 12, []int{8}); err == nil {
		t.Error("one window after the first was measured as enough")
	}
}
