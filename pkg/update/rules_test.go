package update

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
)

// Each rule, run for a few maps on one scalar parameter with given gradients, returns the state it names (no
// more, no fewer) and follows its textbook recursion, recomputed here on the host in float64.
func TestRulesFollowTheirRecursions(t *testing.T) {
	grads := []float64{0.5, -1.25, 2, 0.75, -0.5}
	const theta0 = 1.0
	adamw := DefaultAdamW(0.1)
	cases := []struct {
		rule Rule
		host func() []float64 // θ (or the reported average) after each map
	}{
		{SGD{LearningRate: 0.2, Schedule: Cosine{Horizon: 4}}, func() (out []float64) {
			th := theta0
			for k, g := range grads {
				th -= 0.2 * 0.5 * (1 + math.Cos(math.Pi*min(float64(k), 4)/4)) * g
				out = append(out, th)
			}
			return out
		}},
		{Momentum{LearningRate: 0.1, Mu: 0.9, Schedule: StepDecay{Horizon: 4}}, func() (out []float64) {
			th, b := theta0, 0.0
			for k, g := range grads {
				f := map[bool]float64{true: 1, false: 0.1}[k < 2]
				if k >= 3 {
					f = 0.01
				}
				b = 0.9*b + g
				th -= 0.1 * f * b
				out = append(out, th)
			}
			return out
		}},
		{adamw, func() (out []float64) {
			th, m, v := theta0, 0.0, 0.0
			for k, g := range grads {
				m = 0.9*m + 0.1*g
				v = 0.999*v + 0.001*g*g
				t := float64(k + 1)
				th -= 0.1 * (m/(1-math.Pow(0.9, t))/(math.Sqrt(v/(1-math.Pow(0.999, t)))+1e-8) + 0.01*th)
				out = append(out, th)
			}
			return out
		}},
		{Averaged{Rule: SGD{LearningRate: 0.2}, TailStart: 3}, func() (out []float64) {
			th, sum := theta0, 0.0
			for k, g := range grads {
				th -= 0.2 * g
				if k+1 < 3 {
					out = append(out, th)
					continue
				}
				sum += th
				out = append(out, sum/float64(k+1-3+1))
			}
			return out
		}},
		{Averaged{Rule: Momentum{LearningRate: 0.1, Mu: 0.5}, EMA: 0.75}, func() (out []float64) {
			th, b, avg := theta0, 0.0, theta0
			for _, g := range grads {
				b = 0.5*b + g
				th -= 0.1 * b
				avg += 0.25 * (th - avg)
				out = append(out, avg)
			}
			return out
		}},
	}
	for _, c := range cases {
		names := c.rule.State()
		got := runRule(t, c.rule, theta0, grads)
		want := c.host()
		for k := range want {
			if math.Abs(got[k]-want[k]) > 1e-12 {
				t.Errorf("%s: after map %d got %.15g, want %.15g", c.rule.Name(), k+1, got[k], want[k])
			}
		}
		if Averages(c.rule) != slices.Contains(names, Average) {
			t.Errorf("%s: Averages disagrees with State %v", c.rule.Name(), names)
		}
	}
}

// runRule applies a rule's maps to one scalar parameter (float64, one replica) with the given gradients and
// returns the reported iterate after each: θ, or the state Average. It fails the test if Update returns other
// state than State names.
func runRule(t *testing.T, r Rule, theta0 float64, grads []float64) []float64 {
	t.Helper()
	names := r.State()
	scalar := func(x float64) *tensors.Tensor { return tensors.FromFlatDataAndDimensions([]float64{x}, 1, 1) }
	theta, state := scalar(theta0), map[string]*tensors.Tensor{}
	for _, n := range names {
		state[n] = scalar(0)
	}
	var out []float64
	for k, g := range grads {
		args := []any{theta, scalar(g), tensors.FromFlatDataAndDimensions([]float64{float64(k + 1)}, 1)}
		for _, n := range names {
			args = append(args, state[n])
		}
		res, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
			s := State{}
			for i, n := range names {
				s[n] = in[3+i]
			}
			next, ns := r.Update(in[0], in[1], s, in[2])
			if len(ns) != len(names) {
				t.Errorf("%s: Update returned the state %v, State names %v", r.Name(), keys(ns), names)
			}
			outs := []*Node{next}
			for _, n := range names {
				if ns[n] == nil {
					t.Fatalf("%s: Update returned no state %q", r.Name(), n)
				}
				outs = append(outs, ConvertDType(ns[n], dtypes.Float64))
			}
			return outs
		}, args...)
		if err != nil {
			t.Fatal(err)
		}
		theta = res[0]
		for i, n := range names {
			state[n] = res[1+i]
		}
		reported := theta
		if Averages(r) {
			reported = state[Average]
		}
		out = append(out, tensors.MustCopyFlatData[float64](reported)[0])
	}
	return out
}

func keys(s State) (out []string) {
	for k := range s {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
