package lie

import (
	"gonum.org/v1/gonum/floats"

	"context"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// small is a small nonlinear problem: a tanh MLP on the teacher regression data.
func small(t *testing.T) *problem.Problem {
	t.Helper()
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 3, Hidden: 4, Noise: 0.1, Train: 40, Test: 8, Seed: 3},
		Hidden: []int{6}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// orbit runs forward and backward to n with learning rate h and returns both iterates and an Expansion.
func orbit(t *testing.T, p *problem.Problem, h float64, n int) (fwd, bwd []float64, x *Expansion) {
	t.Helper()
	spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: []uint64{1}, Steps: n, BatchSize: 4, Evaluated: evaluation.List{n}, DType: dtypes.Float64, KeepIterates: true}
	res, err := experiment.Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := replay.New(backendtest.Default(t), p, update.SGD{LearningRate: h}, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	theta0, hist, err := spec.Draw(1)
	if err != nil {
		t.Fatal(err)
	}
	return res.Trajectory("forward", 1).Iterates[0], res.Trajectory("backward", 1).Iterates[0],
		&Expansion{Engine: e, H: h, Theta0: theta0, Batches: hist, Replicas: 5}
}

// The O(n) prefix/suffix computation of Σ_{i<j} (H_i g_j − H_j g_i) equals the direct double sum.
func TestCorrectionEqualsDirectDoubleSum(t *testing.T) {
	_, _, x := orbit(t, small(t), 0.1, 7)
	fast, err := x.Correction(7)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := x.CorrectionDirect(7)
	if err != nil {
		t.Fatal(err)
	}
	norm := math.Sqrt(floats.Dot(slow, slow))
	if norm == 0 || analysis.Distance(fast, slow) > 1e-12*norm {
		t.Errorf("prefix sums differ from the double sum by %.3g (norm %.3g)", analysis.Distance(fast, slow), norm)
	}
}

// Halving h divides the forward/backward gap by about 4 (order 2) and the residual after the second-order
// correction by about 8 (order 3). Slopes of log error against log h, fitted by least squares over h = 0.02, 0.01,
// 0.005, 0.0025 with n = 5: the expansion's next term is one order higher, so at these h the slopes sit within
// ±0.1 of 2 and ±0.15 of 3 (measured 1.97 and 2.99; the linearised composition 2.97, with a 3.5× smaller error); the linearised composition is at least third order.
func TestCorrectionOrders(t *testing.T) {
	p := small(t)
	hs := []float64{0.02, 0.01, 0.005, 0.0025}
	var gap, residual, linear []float64
	for _, h := range hs {
		fwd, bwd, x := orbit(t, p, h, 5)
		corrected, err := x.SecondOrder(5, fwd)
		if err != nil {
			t.Fatal(err)
		}
		lin, err := x.Linearised(5)
		if err != nil {
			t.Fatal(err)
		}
		gap = append(gap, analysis.Distance(fwd, bwd))
		residual = append(residual, analysis.Distance(corrected, bwd))
		linear = append(linear, analysis.Distance(lin, bwd))
	}
	g, r, l := analysis.LogLogSlope(hs, gap), analysis.LogLogSlope(hs, residual), analysis.LogLogSlope(hs, linear)
	t.Logf("slopes: gap %.3f, second-order residual %.3f, linearised %.3f; errors at h = %g: %.3g, %.3g, %.3g",
		g, r, l, hs[0], gap[0], residual[0], linear[0])
	if math.Abs(g-2) > 0.1 {
		t.Errorf("forward/backward gap has slope %.3f, want 2", g)
	}
	if math.Abs(r-3) > 0.15 {
		t.Errorf("second-order residual has slope %.3f, want 3", r)
	}
	if l < 2.85 {
		t.Errorf("linearised residual has slope %.3f, want at least 3", l)
	}
}

// On the quadratic the maps are affine, so the linearised composition is the backward iterate exactly.
func TestLinearisedIsExactOnTheQuadratic(t *testing.T) {
	p, err := problem.Quadratic{Dim: 3, Sigma: 1, Start: 1, Examples: 64, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	const h, n = 0.3, 12
	spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Backward{}),
		Seeds: []uint64{1}, Steps: n, BatchSize: 2, Evaluated: evaluation.List{n}, DType: dtypes.Float64, KeepIterates: true}
	res, err := experiment.Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := replay.New(backendtest.Default(t), p, update.SGD{LearningRate: h}, dtypes.Float64)
	theta0, hist, err := spec.Draw(1)
	if err != nil {
		t.Fatal(err)
	}
	x := &Expansion{Engine: e, H: h, Theta0: theta0, Batches: hist}
	lin, err := x.Linearised(n)
	if err != nil {
		t.Fatal(err)
	}
	if d := analysis.Distance(lin, res.Trajectory("backward", 1).Iterates[0]); d > 1e-12 {
		t.Errorf("linearised composition is %.3g from the backward iterate", d)
	}
}

// Power iteration finds each batch Hessian's eigenvalue of largest magnitude: 1 for the quadratic ½‖θ − ε‖²
// (H = I), and on the tanh MLP a value no random direction's Rayleigh quotient exceeds.
func TestSharpness(t *testing.T) {
	pq, err := problem.Quadratic{Dim: 3, Sigma: 1, Start: 1, Examples: 64, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	_, _, xq := orbit(t, pq, 0.1, 4)
	lq, err := xq.Sharpness(4, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, l := range lq {
		if math.Abs(l-1) > 1e-12 {
			t.Errorf("quadratic batch %d: λ = %.15g, want 1", k+1, l)
		}
	}
	_, _, x := orbit(t, small(t), 0.1, 3)
	ls, err := x.Sharpness(3, 200)
	if err != nil {
		t.Fatal(err)
	}
	// Check λ against the Rayleigh quotients of random unit vectors: none may exceed |λ|, the largest magnitude.
	src := rng.New(9)
	for k, l := range ls {
		for range 20 {
			v := make([]float64, len(x.Theta0))
			for i := range v {
				v[i] = src.Normal()
			}
			v = normalised(v)
			hv, err := x.atTheta0([]int{k + 1}, [][]float64{v})
			if err != nil {
				t.Fatal(err)
			}
			if q := floats.Dot(v, hv[0]); math.Abs(q) > math.Abs(l)*(1+1e-9) {
				t.Errorf("batch %d: a random direction has Rayleigh quotient %.6g beyond λ = %.6g", k+1, q, l)
			}
		}
	}
	if ls[0] == 0 {
		t.Error("zero sharpness on a nonlinear problem")
	}
}
