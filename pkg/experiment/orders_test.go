package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/update"
)

// runQuadratic runs orders on the 1-D quadratic and returns θ_n of each order for the seed, n = 1..steps.
func runQuadratic(t *testing.T, p *problem.Problem, h float64, steps int, seed uint64, orders ...order.Order) map[string][]float64 {
	t.Helper()
	res, err := Run(context.Background(), backendtest.Default(t), &Spec{
		Problem: p, Arms: Orders(update.SGD{LearningRate: h}, orders...), Seeds: []uint64{seed}, Steps: steps,
		BatchSize: 1, Sampling: data.WithReplacement, DType: dtypes.Float64, KeepIterates: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, o := range orders {
		out[o.Name()] = res.Trajectory(o.Name(), seed).Coordinate(0)
	}
	return out
}

// The partial orders on the quadratic, against their closed forms: within a window that started at t from θ_t,
// θ_n = (1−h)^{n−t} θ_t + h Σ_{j=t+1..n} (1−h)^{j−t−1} ε_j, the backward formula restarted at t.
func TestPartialOrdersMatchClosedForms(t *testing.T) {
	const steps, theta0, h, seed = 60, 2.0, 0.15, 5
	p := quadratic1D(t, 4096, theta0)
	eps := epsilons(t, p, seed, steps)
	restart := func(thetaT float64, from, n int) float64 {
		v := math.Pow(1-h, float64(n-from)) * thetaT
		for j := from + 1; j <= n; j++ {
			v += h * math.Pow(1-h, float64(j-from-1)) * eps[j-1]
		}
		return v
	}
	const w, s = 7, 23
	got := runQuadratic(t, p, h, steps, seed, order.Intermittent{Resets: order.EveryW(w)}, order.Switch{At: s})
	inter, sw := got["intermittent-w7"], got["switch-s23"]
	thetaReset := theta0
	for n := 1; n <= steps; n++ {
		tk := (n - 1) / w * w // the last reset before n
		want := restart(thetaReset, tk, n)
		if math.Abs(inter[n-1]-want) > 1e-12 {
			t.Fatalf("intermittent, step %d: %.15g, closed form %.15g", n, inter[n-1], want)
		}
		if n%w == 0 {
			thetaReset = want
		}
		wantSwitch := closedForward(theta0, h, eps, n)
		if n > s {
			wantSwitch = restart(closedForward(theta0, h, eps, s), s, n)
		}
		if math.Abs(sw[n-1]-wantSwitch) > 1e-12 {
			t.Fatalf("switch, step %d: %.15g, closed form %.15g", n, sw[n-1], wantSwitch)
		}
	}
}

// The limiting cases: intermittent with W ≥ n is backward and with W = 1 forward; the switch at s = 0 is
// backward and at s = n forward. Same maps in the same order from the same point: equal to the last bit.
func TestPartialOrdersLimitingCases(t *testing.T) {
	const steps, h, seed = 40, 0.3, 9
	p := quadratic1D(t, 4096, 1.5)
	got := runQuadratic(t, p, h, steps, seed, order.Forward{}, order.Backward{},
		order.Intermittent{Resets: order.EveryW(steps)}, order.Intermittent{Resets: order.EveryW(1)},
		order.Switch{At: 0}, order.Switch{At: steps})
	for _, c := range []struct{ a, b string }{
		{"intermittent-w40", "backward"}, {"intermittent-w1", "forward"}, {"switch-s0", "backward"}, {"switch-s40", "forward"},
	} {
		for k := range got[c.a] {
			if got[c.a][k] != got[c.b][k] {
				t.Fatalf("%s differs from %s at step %d: %.17g vs %.17g", c.a, c.b, k+1, got[c.a][k], got[c.b][k])
			}
		}
	}
}

// AdamW backward at step n equals AdamW applied by hand, in Go, over B_n, B_{n−1}, …, B_1 from θ_0 with fresh
// state; the gradients come from the engine's SGD map with h = 1 (g = θ − T(θ)), the AdamW arithmetic is
// independent of the engine's.
func TestAdamWBackwardEqualsAdamWByHand(t *testing.T) {
	p := regressionProblem(t)
	const steps, seed = 9, 4
	rule := update.AdamW{LearningRate: 0.01, Beta1: 0.8, Beta2: 0.95, Epsilon: 1e-6, WeightDecay: 0.05}
	spec := &Spec{Problem: p, Arms: Orders(rule, order.Backward{}), Seeds: []uint64{seed},
		Steps: steps, BatchSize: 3, DType: dtypes.Float64, KeepIterates: true, Evaluated: evaluation.List{steps}}
	res, err := Run(context.Background(), backendtest.Default(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := spec.sampler().History(seedBatches(seed), steps)
	grad := newEngine(t, p, update.SGD{LearningRate: 1})
	theta := p.Model.Init(initSource(seed))
	m, v := make([]float64, len(theta)), make([]float64, len(theta))
	for k, step := 1, steps; step >= 1; k, step = k+1, step-1 {
		g, _ := grad.NewGroup([][]float64{theta})
		if err := g.Step(h.Batch(step), []bool{true}); err != nil {
			t.Fatal(err)
		}
		moved, _ := g.Thetas()
		g.Close()
		for i := range theta {
			gi := theta[i] - moved[0][i]
			m[i] = rule.Beta1*m[i] + (1-rule.Beta1)*gi
			v[i] = rule.Beta2*v[i] + (1-rule.Beta2)*gi*gi
			mHat := m[i] / (1 - math.Pow(rule.Beta1, float64(k)))
			vHat := v[i] / (1 - math.Pow(rule.Beta2, float64(k)))
			theta[i] -= rule.LearningRate * (mHat/(math.Sqrt(vHat)+rule.Epsilon) + rule.WeightDecay*theta[i])
		}
	}
	got := res.Trajectory("backward", seed).Iterates[0]
	for i := range theta {
		if math.Abs(got[i]-theta[i]) > 1e-12*max(1, math.Abs(theta[i])) {
			t.Fatalf("parameter %d: replay %.15g, by hand %.15g", i, got[i], theta[i])
		}
	}
}

// Reports at steps that are not evaluated (here the reset at 5, reached in the same lockstep group as step 3)
// are not evaluated, and do not disturb the metrics of those that are: each evaluated step's losses equal the
// losses recomputed at its stored iterate.
func TestMetricsOnlyAtEvaluatedSteps(t *testing.T) {
	p := regressionProblem(t)
	const seed = 2
	rule := update.SGD{LearningRate: 0.1}
	res, err := Run(context.Background(), backendtest.Default(t), &Spec{
		Problem: p, Arms: Orders(rule, order.Intermittent{Resets: order.EveryW(5)}),
		Seeds: []uint64{seed}, Steps: 9, BatchSize: 2, DType: dtypes.Float64, KeepIterates: true, Metrics: true,
		Evaluated: evaluation.List{3, 7, 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Trajectory("intermittent-w5", seed)
	if len(c.Steps) != 3 || len(c.TrainLoss) != 3 || len(c.TestLoss) != 3 {
		t.Fatalf("steps %v, %d training and %d test losses; want steps 3, 7, 9 with a loss each", c.Steps,
			len(c.TrainLoss), len(c.TestLoss))
	}
	g, err := newEngine(t, p, rule).NewGroup(c.Iterates)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, m := range []struct {
		subset replay.Subset
		got    []float64
	}{{replay.TrainData, c.TrainLoss}, {replay.TestData, c.TestLoss}} {
		want, err := g.Loss(m.subset)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(m.got, want); d > 1e-12 {
			t.Fatalf("%s losses %v, recomputed at the iterates %v", m.subset, m.got, want)
		}
	}
}
