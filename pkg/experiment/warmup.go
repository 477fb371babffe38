package experiment

import (
	"context"
	"fmt"

	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
)

// warmStart is the θ_0 of each seed of a warm-started experiment, with the warm-up runs that made them.
type warmStart struct {
	theta0 map[uint64][]float64
	runs   []*Trajectory
}

// warmUpSpec returns the experiment that makes θ_0 of a spec with a warm-up: one forward arm, one run per seed
// (the warm-up's own seeds), evaluated once at its end with θ kept.
func (s *Spec) warmUpSpec() *Spec {
	w := s.WarmUp
	seeds := make([]uint64, len(s.Seeds))
	for i, seed := range s.Seeds {
		seeds[i] = w.Seed(seed)
	}
	return &Spec{Problem: s.Problem, Arms: []Arm{{Name: "warm-up", Rule: w.Rule, Order: order.Forward{}}},
		Seeds: seeds, Steps: w.Steps, BatchSize: s.BatchSize, Sampling: s.Sampling,
		Evaluated: evaluation.List{w.Steps}, DType: s.DType, KeepIterates: true, Metrics: s.Metrics,
		EvalLimit: s.EvalLimit}
}

// warmUp runs the warm-up of a validated spec with the runner (stored and resumed like any run) and returns θ_0
// of each seed. A warm-up that diverges is an error: nothing can start from it.
func (x Runner) warmUp(ctx context.Context, spec *Spec) (*warmStart, error) {
	x.OnReport = nil
	res, err := x.Run(ctx, spec.warmUpSpec())
	if err != nil {
		return nil, fmt.Errorf("experiment: the warm-up (%d forward maps of %s per seed): %w; lower its learning "+
			"rate or its number of steps", spec.WarmUp.Steps, spec.WarmUp.Rule.Name(), err)
	}
	ws := &warmStart{theta0: map[uint64][]float64{}, runs: res.Trajectories}
	for i, seed := range spec.Seeds {
		t := res.Trajectories[i]
		if len(t.Iterates) == 0 {
			return nil, fmt.Errorf("experiment: the warm-up run of seed %d has no last iterate", seed)
		}
		ws.theta0[seed] = t.Iterates[len(t.Iterates)-1]
	}
	return ws, nil
}

// config returns how seed's θ_0 was made, for the run configurations of the warm-started runs.
func (ws *warmStart) config(spec *Spec, seed uint64) *runs.WarmUpConfig {
	w := spec.WarmUp
	return &runs.WarmUpConfig{Rule: runs.RuleConfig{Name: w.Rule.Name(), Hyper: w.Rule.Hyper()}, Steps: w.Steps,
		Seed: w.Seed(seed), Theta0SHA256: runs.VectorSHA256(ws.theta0[seed])}
}
