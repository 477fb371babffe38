package experiment

import (
	"context"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/update"
)

// A spec whose arms differ in rule gives each arm, in the spec's order, the bits of the same arm run alone, under
// the arm's name; arms that would be the same runs, or share a name, are refused.
func TestArmsOfSeveralRulesMatchTheirRunsAlone(t *testing.T) {
	p := regressionProblem(t)
	sgd := update.SGD{LearningRate: 0.05}
	arms := []Arm{
		{Name: "tail", Rule: update.Averaged{Rule: sgd, TailStart: 5}, Order: order.Forward{}},
		{Rule: sgd, Order: order.Backward{}},
		{Name: "adamw", Rule: update.DefaultAdamW(0.01), Order: order.Forward{}},
		{Rule: sgd, Order: order.Forward{}},
	}
	spec := func(arms ...Arm) *Spec {
		return &Spec{Problem: p, Arms: arms, Seeds: []uint64{1, 2}, Steps: 12, BatchSize: 4,
			Evaluated: evaluation.Every(4), DType: dtypes.Float64, KeepIterates: true, Metrics: true}
	}
	b := backendtest.Default(t)
	all, err := Run(context.Background(), b, spec(arms...))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range all.Trajectories {
		labels = append(labels, c.Arm)
	}
	if got, want := strings.Join(labels, " "), "tail tail backward backward adamw adamw forward forward"; got != want {
		t.Errorf("trajectories in the order %s, want %s", got, want)
	}
	for _, a := range arms {
		alone, err := Run(context.Background(), b, spec(a))
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []uint64{1, 2} {
			x, y := all.Trajectory(a.Label(), seed), alone.Trajectory(a.Label(), seed)
			if x.Order != a.Order.Name() {
				t.Errorf("%s: order %q, want %q", a.Label(), x.Order, a.Order.Name())
			}
			for k := range y.Steps {
				if hasDifferentBits(x.Iterates[k], y.Iterates[k]) || x.TestLoss[k] != y.TestLoss[k] {
					t.Errorf("%s seed %d, step %d: differs from the arm run alone", a.Label(), seed, y.Steps[k])
				}
			}
		}
	}
	for _, bad := range []struct {
		arms []Arm
		want string
	}{
		{[]Arm{{Rule: sgd, Order: order.Forward{}}, {Name: "again", Rule: update.SGD{LearningRate: 0.05}, Order: order.Forward{}}}, "the same runs"},
		{[]Arm{{Rule: sgd, Order: order.Forward{}}, {Name: "forward", Rule: update.DefaultAdamW(0.01), Order: order.Forward{}}}, `two arms are named "forward"`},
		{[]Arm{{Name: "x", Rule: sgd}}, "arm 1 (x): "},
	} {
		if _, err := Run(context.Background(), b, spec(bad.arms...)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("arms %v: %v, want an error containing %q", bad.arms, err, bad.want)
		}
	}
}

// Describe names every arm with its rule and order, and the run's settings.
func TestDescribeSaysWhatRuns(t *testing.T) {
	sgd := update.SGD{LearningRate: 0.05}
	spec := &Spec{Problem: regressionProblem(t), Seeds: SeedRange(3), Steps: 12, BatchSize: 4,
		Evaluated: evaluation.Every(4), Metrics: true, Arms: []Arm{{Rule: sgd, Order: order.Forward{}},
			{Name: "tail", Rule: update.Averaged{Rule: sgd, TailStart: 5}, Order: order.Forward{}},
			{Rule: sgd, Order: order.Intermittent{Resets: order.EveryW(4)}}}}
	got := spec.Describe()
	for _, want := range []string{"| forward | sgd (learning_rate 0.05) | forward | 12 |",
		"| tail | sgd+tail (learning_rate 0.05, tail_start 5) | forward | 12 |",
		"| intermittent-w4 | sgd (learning_rate 0.05) | intermittent-w4 (resets w4) | 12 |",
		"**Seeds** 1–3; **N** = 12 steps; batches of 4", "evaluated every 4 (3 steps)", "train_loss"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q:\n%s", want, got)
		}
	}
}
