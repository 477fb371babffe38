package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/update"
)

// Over many seeds, the law of θ_n (forward or backward; they have the same law at every n) on the 1-D quadratic
// has variance h σ̂² (1 − (1−h)^{2n}) / (2 − h) → hσ²/(2−h), where σ̂² is the variance of the noise values the
// batches are drawn from (batches of one, drawn with replacement, are i.i.d. draws from them).
//
// Tolerance: for S independent normal samples the sample variance has relative standard error √(2/(S−1)); we
// accept four standard errors (a false alarm about once in 16 000 runs; the test is deterministic anyway, since
// the seeds are fixed). With S = 2000 that is ±12.7%; the ratio to hσ²/(2−h) with σ = 1 is checked at the same
// tolerance plus the known gap |σ̂² − 1| of the data set.
func TestLateIterateVarianceMatchesStationaryLaw(t *testing.T) {
	const seeds, steps, h, theta0 = 2000, 150, 0.2, 1.0
	p := quadratic1D(t, 1<<16, theta0)
	eps := tensors.MustCopyFlatData[float64](p.Train.Targets)
	mu, sigma2 := meanVar(eps)

	spec := &Spec{
		Problem: p, Arms: Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: SeedRange(seeds), Steps: steps, BatchSize: 1, Sampling: data.WithReplacement, DType: dtypes.Float64,
		Evaluated: evaluation.List{steps}, KeepIterates: true,
	}
	res, err := Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	decay := math.Pow(1-h, 2*steps)
	wantVar := h * sigma2 * (1 - decay) / (2 - h)
	wantMean := math.Pow(1-h, steps)*theta0 + (1-math.Pow(1-h, steps))*mu
	tol := 4 * math.Sqrt(2.0/(seeds-1))
	for _, name := range []string{"forward", "backward"} {
		var last []float64
		for _, c := range res.Arm(name) {
			last = append(last, c.Iterates[0][0])
		}
		m, v := meanVar(last)
		t.Logf("%s: variance %.5f, want %.5f; mean %.4f, want %.4f", name, v, wantVar, m, wantMean)
		if math.Abs(v/wantVar-1) > tol {
			t.Errorf("%s: variance of θ_%d over %d seeds is %.5f, want %.5f (±%.0f%%)", name, steps, seeds, v, wantVar, 100*tol)
		}
		if stationary := h / (2 - h); math.Abs(v/stationary-1) > tol+math.Abs(sigma2-1) {
			t.Errorf("%s: variance %.5f is not hσ²/(2−h) = %.5f", name, v, stationary)
		}
		if se := math.Sqrt(wantVar / seeds); math.Abs(m-wantMean) > 4*se {
			t.Errorf("%s: mean of θ_%d is %.4f, want %.4f ± %.4f", name, steps, m, wantMean, 4*se)
		}
	}
}

// Backward steps shrink geometrically: θ_{n+1} − θ_n = h (1−h)^n (ε_{n+1} − θ_0) exactly, while forward steps
// θ_{n+1} − θ_n = h (ε_{n+1} − θ_n) stay of order hσ.
func TestBackwardStepSizeDecaysGeometrically(t *testing.T) {
	const seeds, steps, h, theta0 = 1000, 60, 0.1, 1.0
	p := quadratic1D(t, 1<<16, theta0)
	spec := &Spec{
		Problem: p, Arms: Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: SeedRange(seeds), Steps: steps, BatchSize: 1, Sampling: data.WithReplacement, DType: dtypes.Float64,
		KeepIterates: true,
	}
	res, err := Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	// Exact form, seed by seed.
	for _, c := range res.Arm("backward")[:20] {
		eps := epsilons(t, p, c.Seed, steps)
		at, sizes := c.StepSizes()
		for k, size := range sizes {
			n := at[k] - 1 // size is |θ_{n+1} − θ_n|
			want := h * math.Pow(1-h, float64(n)) * math.Abs(eps[n]-theta0)
			if math.Abs(size-want) > 1e-12*max(1, want) {
				t.Fatalf("seed %d: |θ_%d − θ_%d| = %.6g, want h(1−h)^n|ε−θ_0| = %.6g", c.Seed, n+1, n, size, want)
			}
		}
	}
	// Rate, across seeds: the mean of log|θ_{n+1} − θ_n| falls by log(1−h) per step. Its slope over n = 1..59,
	// fitted by least squares to the mean over 1000 seeds, has standard error ≈ 0.0005 (per-point standard
	// error 1.1/√1000, over 59 points); we accept ±0.003, six standard errors.
	slope := func(name string) float64 {
		var xs, ys []float64
		curves := res.Arm(name)
		for k := range steps - 1 {
			mean := 0.0
			for _, c := range curves {
				_, sizes := c.StepSizes()
				mean += math.Log(sizes[k])
			}
			xs = append(xs, float64(k))
			ys = append(ys, mean/float64(len(curves)))
		}
		return analysis.Slope(xs, ys)
	}
	if b, want := slope("backward"), math.Log(1-h); math.Abs(b-want) > 0.003 {
		t.Errorf("backward: log step size falls by %.4f per step, want log(1−h) = %.4f", b, want)
	}
	if f := slope("forward"); math.Abs(f) > 0.003 {
		t.Errorf("forward: log step size changes by %.4f per step late in the run, want no trend", f)
	}
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}
