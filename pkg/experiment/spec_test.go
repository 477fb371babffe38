package experiment

import (
	"context"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/schedule"
	"github.com/revsgd/revsgd/pkg/update"
)

// Bad input is an error that says what is wrong, never a panic.
func TestBadSpecsGiveClearErrors(t *testing.T) {
	p := regressionProblem(t) // 32 training examples
	good := func() *Spec {
		return &Spec{Problem: p, Rule: update.SGD{LearningRate: 0.1}, Orders: []order.Order{order.Forward{}},
			Seeds: []uint64{1}, Steps: 10, BatchSize: 4}
	}
	cases := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"zero learning rate", func(s *Spec) { s.Rule = update.SGD{LearningRate: 0} }, "learning rate must be positive"},
		{"negative learning rate", func(s *Spec) { s.Rule = update.SGD{LearningRate: -0.1} }, "learning rate must be positive"},
		{"zero steps", func(s *Spec) { s.Steps = 0 }, "number of steps must be positive"},
		{"negative steps", func(s *Spec) { s.Steps = -3 }, "number of steps must be positive"},
		{"batch larger than data", func(s *Spec) { s.BatchSize = 33 }, "batch size 33 is larger than the data set (32 examples)"},
		{"schedule after the last step", func(s *Spec) { s.Schedule = schedule.List{5, 11} }, "step 11 is outside [1, 10]"},
		{"schedule at step zero", func(s *Spec) { s.Schedule = schedule.List{0, 5} }, "step 0 is outside [1, 10]"},
		{"zero interval", func(s *Spec) { s.Schedule = schedule.Every(0) }, "interval must be positive"},
		{"no seeds", func(s *Spec) { s.Seeds = nil }, "no seeds"},
		{"no orders", func(s *Spec) { s.Orders = nil }, "no composition orders"},
		{"order twice", func(s *Spec) { s.Orders = []order.Order{order.Forward{}, order.Forward{}} }, "listed twice"},
		{"no rule", func(s *Spec) { s.Rule = nil }, "no update rule"},
		{"unknown sampling", func(s *Spec) { s.Sampling = "sometimes" }, `unknown sampling "sometimes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.change(s)
			_, err := Run(context.Background(), backendtest.Go(t), s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := Run(context.Background(), backendtest.Go(t), good()); err != nil {
		t.Fatalf("the unchanged spec fails: %v", err)
	}
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Spec{Problem: regressionProblem(t), Rule: update.SGD{LearningRate: 0.1}, Orders: []order.Order{order.Backward{}},
		Seeds: []uint64{1}, Steps: 10, BatchSize: 4}
	if _, err := Run(ctx, backendtest.Go(t), s); err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
