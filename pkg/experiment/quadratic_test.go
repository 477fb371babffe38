package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// quadratic1D builds the 1-D quadratic with M noise values and θ_0 = start.
func quadratic1D(t *testing.T, examples int, start float64) *problem.Problem {
	t.Helper()
	p, err := problem.Quadratic{Dim: 1, Sigma: 1, Start: start, Examples: examples, Seed: 42}.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// epsilons returns ε_{B_1}, …, ε_{B_n} for a seed: the noise values the batches of size one pick.
func epsilons(t *testing.T, p *problem.Problem, seed uint64, steps int) []float64 {
	t.Helper()
	all := tensors.MustCopyFlatData[float64](p.Train.Targets)
	s := data.Sampler{Examples: p.Train.Len(), BatchSize: 1, Mode: data.WithReplacement}
	h, err := s.History(seedBatches(seed), steps)
	if err != nil {
		t.Fatal(err)
	}
	eps := make([]float64, steps)
	for n := 1; n <= steps; n++ {
		eps[n-1] = all[h.Batch(n)[0]]
	}
	return eps
}

// The closed forms of docs/figures.md (Definitions), evaluated term by term:
// forward  θ_n = (1−h)^n θ_0 + h Σ_{k=1..n} (1−h)^{n−k} ε_k,
// backward θ_n = (1−h)^n θ_0 + h Σ_{k=1..n} (1−h)^{k−1} ε_k.
func closedForward(theta0, h float64, eps []float64, n int) float64 {
	v := math.Pow(1-h, float64(n)) * theta0
	for k := 1; k <= n; k++ {
		v += h * math.Pow(1-h, float64(n-k)) * eps[k-1]
	}
	return v
}

func closedBackward(theta0, h float64, eps []float64, n int) float64 {
	v := math.Pow(1-h, float64(n)) * theta0
	for k := 1; k <= n; k++ {
		v += h * math.Pow(1-h, float64(k-1)) * eps[k-1]
	}
	return v
}

func TestQuadraticMatchesClosedForms(t *testing.T) {
	const steps, theta0 = 200, 3.0
	p := quadratic1D(t, 4096, theta0)
	seeds := []uint64{1, 2}
	for _, h := range []float64{0.01, 0.1, 0.5, 1.5} {
		spec := &Spec{
			Problem: p, Arms: Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
			Seeds: seeds, Steps: steps, BatchSize: 1, Sampling: data.WithReplacement, DType: dtypes.Float64,
			KeepIterates: true,
		}
		res, err := Run(context.Background(), backendtest.Default(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range seeds {
			eps := epsilons(t, p, seed, steps)
			fwd, bwd := res.Trajectory("forward", seed), res.Trajectory("backward", seed)
			worst := 0.0
			for k, n := range fwd.Steps {
				worst = max(worst, math.Abs(fwd.Iterates[k][0]-closedForward(theta0, h, eps, n)))
				worst = max(worst, math.Abs(bwd.Iterates[k][0]-closedBackward(theta0, h, eps, n)))
			}
			if worst > 1e-12 {
				t.Errorf("h=%g seed %d: largest deviation from the closed forms %.3g > 1e-12", h, seed, worst)
			}
		}
	}
}

// Backward at step n equals applying T_n, then T_{n−1}, …, T_1 by hand, one map at a time, on a nonlinear
// problem; this checks the lockstep scheduling (continuous batching: slots refilled from a table of starts,
// masking at the tail, shrinking) against the definition.
func TestBackwardEqualsMapsAppliedByHand(t *testing.T) {
	p := regressionProblem(t)
	const steps, seed = 12, 7
	rule := update.SGD{LearningRate: 0.05}
	spec := &Spec{
		Problem: p, Arms: Orders(rule, order.Backward{}, order.Forward{}), Seeds: []uint64{seed, 8},
		Steps: steps, BatchSize: 4, DType: dtypes.Float64, KeepIterates: true,
		Evaluated: evaluation.List{3, 7, 12},
	}
	res, err := Runner{Backend: backendtest.Default(t), Replicas: 5}.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := spec.sampler().History(seedBatches(seed), steps)
	engine := newEngine(t, p, rule)
	for k, n := range []int{3, 7, 12} {
		g, err := engine.NewGroup([][]float64{p.Model.Init(initSource(seed))})
		if err != nil {
			t.Fatal(err)
		}
		for i := n; i >= 1; i-- {
			if err := g.Step(h.Batch(i), []bool{true}); err != nil {
				t.Fatal(err)
			}
		}
		byHand, _ := g.Thetas()
		g.Close()
		if d := maxAbsDiff(byHand[0], res.Trajectory("backward", seed).Iterates[k]); d > 1e-12 {
			t.Errorf("backward at step %d differs from T_1∘…∘T_%d applied by hand by %.3g", n, n, d)
		}
	}
}

func TestFullBatchForwardEqualsBackward(t *testing.T) {
	p := regressionProblem(t)
	spec := &Spec{
		Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Forward{}, order.Backward{}),
		Seeds: []uint64{3}, Steps: 25, Sampling: data.FullBatch, DType: dtypes.Float64, KeepIterates: true,
	}
	res, err := Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	fwd, bwd := res.Trajectory("forward", 3), res.Trajectory("backward", 3)
	for k := range fwd.Steps {
		if d := maxAbsDiff(fwd.Iterates[k], bwd.Iterates[k]); d > 1e-12 {
			t.Fatalf("full batch, step %d: forward and backward differ by %.3g", fwd.Steps[k], d)
		}
	}
	// The maps really moved the parameters, so the equality says something.
	if d := maxAbsDiff(fwd.Iterates[0], fwd.Iterates[len(fwd.Iterates)-1]); d < 1e-3 {
		t.Fatalf("parameters barely moved (%.3g): the test is vacuous", d)
	}
}

func TestSameSeedGivesBitIdenticalCurves(t *testing.T) {
	p := regressionProblem(t)
	run := func() *Result {
		spec := &Spec{
			Problem: p, Arms: Orders(update.SGD{LearningRate: 0.05}, order.Forward{}, order.Backward{}),
			Seeds: []uint64{1, 2}, Steps: 20, BatchSize: 2, Evaluated: evaluation.Every(5), KeepIterates: true, Metrics: true,
		}
		res, err := Run(context.Background(), backendtest.Default(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(), run()
	for i, ca := range a.Trajectories {
		cb := b.Trajectories[i]
		for k := range ca.Steps {
			if maxAbsDiff(ca.Iterates[k], cb.Iterates[k]) != 0 || ca.TrainLoss[k] != cb.TrainLoss[k] ||
				ca.TestLoss[k] != cb.TestLoss[k] {
				t.Fatalf("%s seed %d step %d: two runs with the same seed differ", ca.Order, ca.Seed, ca.Steps[k])
			}
		}
	}
	if maxAbsDiff(a.Trajectory("forward", 1).Iterates[0], a.Trajectory("forward", 2).Iterates[0]) == 0 {
		t.Fatal("different seeds gave the same iterates")
	}
}
