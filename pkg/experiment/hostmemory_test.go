package experiment

import (
	"context"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// The host-memory estimate adds up what the experiment holds from its start, term by term.
func TestHostBytesAddsUpTheTerms(t *testing.T) {
	p, err := problem.Quadratic{Dim: 3, Sigma: 1, Start: 2, Examples: 64, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &Spec{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Forward{}, order.Backward{}),
		Seeds: SeedRange(2), Steps: 10, BatchSize: 2, Evaluated: evaluation.Every(5), KeepIterates: true}
	got, err := s.HostBytes()
	if err != nil {
		t.Fatal(err)
	}
	params := int64(models.NumParams(p.Model)) // 3
	want := 2*params*8 +                       // θ_0s
		2*10*2*4 + // batch histories
		10*8 + (5+10+10)*8 + // plans: forward N; backward Σ n (5 + 10) + N
		2*2*2*(4*8+params*8) // trajectories: seeds × arms × evaluated steps × (metrics + θ)
	if got != want {
		t.Errorf("HostBytes %d, want %d", got, want)
	}
}

// An experiment that would not fit the host's memory is refused before anything is allocated, with the estimate;
// so is one of a thousand million steps, whose evaluated steps are not even listed.
func TestTooLargeExperimentsAreRefusedFirst(t *testing.T) {
	defer func(f func() int64) { availableBytes = f }(availableBytes)
	availableBytes = func() int64 { return 1 << 30 } // 1 GiB
	p, err := problem.Quadratic{Dim: 1000, Sigma: 1, Start: 2, Examples: 64, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Spec{
		{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Forward{}), Seeds: SeedRange(200_000),
			Steps: 10, BatchSize: 1}, // 1.6 GB of θ_0s
		{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Backward{}), Seeds: SeedRange(1),
			Steps: 1_000_000_000, BatchSize: 1, Evaluated: evaluation.Every(1)},
	} {
		_, err := Runner{Backend: backendtest.Default(t)}.Run(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), "GiB of host memory") {
			t.Errorf("%d seeds, N = %d: %v, want it refused with the estimate", len(s.Seeds), s.Steps, err)
		}
	}
}
