package experiment

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// hostAverage averages a forward chain θ_0, θ_1, …, θ_n the way update.Averaged defines it, on the host:
// ā_0 = θ_0, ā_k = ā_{k−1} + w_k (θ_k − ā_{k−1}).
func hostAverage(a update.Averaged, chain [][]float64) [][]float64 {
	out := [][]float64{append([]float64(nil), chain[0]...)}
	for k := 1; k < len(chain); k++ {
		w, prev := a.Weight(k), out[k-1]
		next := make([]float64, len(prev))
		for i := range next {
			next[i] = prev[i] + w*(chain[k][i]-prev[i])
		}
		out = append(out, next)
	}
	return out
}

// The iterates an averaged rule reports are the averages of the forward iterates, computed independently on the
// host from forward SGD's own iterates; its metrics are those of the average, and its chain is forward SGD's.
func TestAveragedReportsTheAverageOfForwardIterates(t *testing.T) {
	p := regressionProblem(t)
	const steps = 40
	sgd := update.SGD{LearningRate: 0.05}
	base := Spec{Problem: p, Seeds: []uint64{1, 2}, Steps: steps,
		BatchSize: 4, DType: dtypes.Float64, KeepIterates: true, Metrics: true}
	plain := base
	plain.Arms = Orders(sgd, order.Forward{})
	fwd, err := Run(context.Background(), backendtest.Default(t), &plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, avg := range []update.Averaged{{Rule: sgd, EMA: 0.8}, {Rule: sgd, TailStart: 15}} {
		spec := base
		spec.Arms = Orders(avg, order.Forward{})
		res, err := Run(context.Background(), backendtest.Default(t), &spec)
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine(t, p, sgd)
		for _, seed := range spec.Seeds {
			theta0, _, err := spec.Draw(seed)
			if err != nil {
				t.Fatal(err)
			}
			chain := append([][]float64{theta0}, fwd.Trajectory("forward", seed).Iterates...)
			want := hostAverage(avg, chain)
			got := res.Trajectory("forward", seed)
			worst := 0.0
			for k, n := range got.Steps {
				worst = max(worst, maxAbsDiff(got.Iterates[k], want[n]))
			}
			// float64 sums of a few terms of size ≤ 10: rounding is ~1e-15; anything above 1e-12 is a different average.
			if worst > 1e-12 {
				t.Errorf("%s seed %d: the reported iterates differ from the host average by %g", avg.Name(), seed, worst)
			}
			g, err := e.NewGroup([][]float64{want[steps]})
			if err != nil {
				t.Fatal(err)
			}
			loss, err := g.Loss(replay.TestData)
			g.Close()
			if err != nil {
				t.Fatal(err)
			}
			if last := got.TestLoss[len(got.TestLoss)-1]; math.Abs(last-loss[0]) > 1e-12*max(1, loss[0]) {
				t.Errorf("%s seed %d: test loss at N %v, but the average's own test loss is %v", avg.Name(), seed, last, loss[0])
			}
		}
		if avg.TailStart > 0 {
			// Before its first step a tail average is the iterate itself.
			a, f := res.Trajectory("forward", 1), fwd.Trajectory("forward", 1)
			if d := maxAbsDiff(a.Iterates[avg.TailStart-2], f.Iterates[avg.TailStart-2]); d != 0 {
				t.Errorf("tail average before its start differs from θ by %g", d)
			}
		}
	}
}

// A decayed learning rate on the 1-D quadratic follows θ_k = θ_{k−1} − h f(k)(θ_{k−1} − ε_k), f the decay's
// closed form, recomputed on the host.
func TestScheduleIsFollowed(t *testing.T) {
	const steps, theta0, h = 120, 2.0, 0.3
	p := quadratic1D(t, 4096, theta0)
	for _, schedule := range []update.Schedule{update.Cosine{Horizon: steps}, update.StepDecay{Horizon: steps}} {
		rule := update.SGD{LearningRate: h, Schedule: schedule}
		spec := &Spec{Problem: p, Arms: Orders(rule, order.Forward{}), Seeds: []uint64{3},
			Steps: steps, BatchSize: 1, Sampling: data.WithReplacement, DType: dtypes.Float64, KeepIterates: true}
		res, err := Run(context.Background(), backendtest.Default(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		eps := epsilons(t, p, 3, steps)
		c := res.Trajectory("forward", 3)
		theta, worst := theta0, 0.0
		for k := 1; k <= steps; k++ {
			theta -= h * schedule.Factor(k) * (theta - eps[k-1])
			worst = max(worst, math.Abs(c.Iterates[k-1][0]-theta))
		}
		if worst > 1e-12 {
			t.Errorf("%s: the iterates differ from the host recursion by %g", schedule.Name(), worst)
		}
	}
	// The closed forms themselves: cosine from 1 to 0 over the horizon, steps of 0.1 at N/2 and 3N/4.
	cos, st := update.Cosine{Horizon: 100}, update.StepDecay{Horizon: 100}
	for _, c := range []struct {
		got, want float64
	}{{cos.Factor(1), 1}, {cos.Factor(51), 0.5}, {cos.Factor(101), 0}, {cos.Factor(500), 0},
		{st.Factor(50), 1}, {st.Factor(51), 0.1}, {st.Factor(75), 0.1}, {st.Factor(76), 0.01}} {
		if math.Abs(c.got-c.want) > 1e-15 {
			t.Errorf("decay factor %v, want %v", c.got, c.want)
		}
	}
}

// An averaged run stopped part-way resumes from its checkpoint (θ, the rule's state and the average) to the
// same bits as an uninterrupted run; an averaged rule with another order than forward is refused.
func TestAveragedRunResumesAndIsForwardOnly(t *testing.T) {
	p := regressionProblem(t)
	rule := update.Averaged{Rule: update.DefaultAdamW(0.01), TailStart: 10}
	spec := &Spec{Problem: p, Arms: Orders(rule, order.Forward{}), Seeds: []uint64{1}, Steps: 60,
		BatchSize: 4, DType: dtypes.Float32, KeepIterates: true, Metrics: true}
	runner := func(store *runs.Store) Runner {
		return Runner{Backend: backendtest.Default(t), Store: store, SaveEvery: time.Nanosecond}
	}
	dir := t.TempDir()
	ref, err := runner(&runs.Store{Root: filepath.Join(dir, "ref")}).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	store := &runs.Store{Root: filepath.Join(dir, "stopped")}
	ctx, cancel := context.WithCancel(context.Background())
	stopping := runner(store)
	stopping.OnReport = func(_ string, _ uint64, step int) {
		if step == 25 {
			cancel()
		}
	}
	if _, err := stopping.Run(ctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped run: %v, want context.Canceled", err)
	}
	res, err := runner(store).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Applied >= 60 || res.Stats.Applied == 0 {
		t.Errorf("the resumed run applied %d maps; it should have resumed part-way", res.Stats.Applied)
	}
	a, b := ref.Trajectory("forward", 1), res.Trajectory("forward", 1)
	for k := range a.Steps {
		if hasDifferentBits(a.Iterates[k], b.Iterates[k]) || a.TestLoss[k] != b.TestLoss[k] {
			t.Fatalf("step %d differs after resuming", a.Steps[k])
		}
	}

	bad := *spec
	bad.Arms = Orders(rule, order.Forward{}, order.Backward{})
	if _, err := Run(context.Background(), backendtest.Default(t), &bad); err == nil || !strings.Contains(err.Error(), "order.Forward only") {
		t.Errorf("an averaged rule with backward SGD: %v", err)
	}
}
