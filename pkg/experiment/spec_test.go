package experiment

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/update"
)

// Bad input is an error that says what is wrong, never a panic.
func TestBadSpecsGiveClearErrors(t *testing.T) {
	p := regressionProblem(t) // 32 training examples
	good := func() *Spec {
		return &Spec{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Forward{}),
			Seeds: []uint64{1}, Steps: 10, BatchSize: 4}
	}
	cases := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"zero learning rate", func(s *Spec) { s.Arms[0].Rule = update.SGD{LearningRate: 0} }, "learning rate must be positive"},
		{"negative learning rate", func(s *Spec) { s.Arms[0].Rule = update.SGD{LearningRate: -0.1} }, "learning rate must be positive"},
		{"zero steps", func(s *Spec) { s.Steps = 0 }, "number of steps must be positive"},
		{"negative steps", func(s *Spec) { s.Steps = -3 }, "number of steps must be positive"},
		{"batch larger than data", func(s *Spec) { s.BatchSize = 33 }, "batch size 33 is larger than the data set (32 examples)"},
		{"schedule after the last step", func(s *Spec) { s.Evaluated = evaluation.List{5, 11} }, "step 11 is outside [1, 10]"},
		{"schedule at step zero", func(s *Spec) { s.Evaluated = evaluation.List{0, 5} }, "step 0 is outside [1, 10]"},
		{"zero interval", func(s *Spec) { s.Evaluated = evaluation.Every(0) }, "interval must be positive"},
		{"no seeds", func(s *Spec) { s.Seeds = nil }, "no seeds"},
		{"no arms", func(s *Spec) { s.Arms = nil }, "no arms given"},
		{"order twice", func(s *Spec) { s.Arms = Orders(s.Arms[0].Rule, order.Forward{}, order.Forward{}) }, `two arms are named "forward"`},
		{"no rule", func(s *Spec) { s.Arms[0].Rule = nil }, "no update rule"},
		{"unknown sampling", func(s *Spec) { s.Sampling = "sometimes" }, `unknown sampling "sometimes"`},
		// Found by trying to break it (issue 14): each looped forever, panicked or ran silently before.
		{"pointer order with a zero window", func(s *Spec) {
			s.Arms = Orders(s.Arms[0].Rule, &order.Intermittent{Resets: order.EveryW(0)})
		}, "the window must be positive"},
		{"pointer switch before step 0", func(s *Spec) { s.Arms = Orders(s.Arms[0].Rule, &order.Switch{At: -1}) }, "must be 0 or later"},
		{"nil order", func(s *Spec) { s.Arms = Orders(s.Arms[0].Rule, order.Forward{}, nil) }, "nil order"},
		{"nil pointer order", func(s *Spec) { s.Arms = Orders(s.Arms[0].Rule, (*order.Switch)(nil)) }, "nil *order.Switch"},
		{"subnormal learning rate", func(s *Spec) { s.Arms[0].Rule = update.SGD{LearningRate: 5e-324} }, "below float32's smallest normal"},
		{"infinite AdamW ε", func(s *Spec) {
			r := update.DefaultAdamW(0.01)
			r.Epsilon = math.Inf(1)
			s.Arms[0].Rule = r
		}, "ε must be positive and finite"},
		{"infinite weight decay", func(s *Spec) {
			r := update.DefaultAdamW(0.01)
			r.WeightDecay = math.Inf(1)
			s.Arms[0].Rule = r
		}, "weight decay must be non-negative and finite"},
		{"negative EvalLimit", func(s *Spec) { s.Metrics, s.EvalLimit = true, -5 }, "EvalLimit must be 0"},
		{"duplicate seeds", func(s *Spec) { s.Seeds = []uint64{1, 2, 1} }, "seed 1 is listed twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.change(s)
			_, err := Run(context.Background(), backendtest.Default(t), s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := Run(context.Background(), backendtest.Default(t), good()); err != nil {
		t.Fatalf("the unchanged spec fails: %v", err)
	}
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Spec{Problem: regressionProblem(t), Arms: Orders(update.SGD{LearningRate: 0.1}, order.Backward{}),
		Seeds: []uint64{1}, Steps: 10, BatchSize: 4}
	if _, err := Run(ctx, backendtest.Default(t), s); err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
