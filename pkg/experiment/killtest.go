package experiment

import (
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// KillTestSpec is the experiment the resume test interrupts (and its driver, testdata/driver, runs): AdamW on a
// small regression MLP in the four orders (forward, backward, intermittent with windows of 16, a switch at 60),
// two seeds, every step evaluated, metrics and iterates stored; and its runner without a backend: lockstep groups
// of 4, the given store, saved every 10 ms. It is exported only for that driver.
func KillTestSpec(store *runs.Store) (*Spec, Runner, error) {
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 4, Hidden: 4, Noise: 0.1, Train: 64, Test: 32, Seed: 11},
		Hidden: []int{8}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		return nil, Runner{}, err
	}
	return &Spec{
		Problem: p, Arms: Orders(update.DefaultAdamW(0.01),
			order.Forward{}, order.Backward{}, order.Intermittent{Resets: order.EveryW(16)}, order.Switch{At: 60}),
		Seeds: []uint64{1, 2}, Steps: 160, BatchSize: 2, Evaluated: evaluation.Every(1), DType: dtypes.Float32,
		KeepIterates: true, Metrics: true,
	}, Runner{Replicas: 4, Store: store, SaveEvery: 10 * time.Millisecond}, nil
}
