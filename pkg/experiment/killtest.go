package experiment

import (
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/schedule"
	"github.com/revsgd/revsgd/pkg/update"
)

// KillTestSpec is the experiment the resume test interrupts (and its driver, testdata/driver, runs): forward and
// backward SGD on a small regression MLP, two seeds, every step evaluated, losses and iterates stored. It is
// exported only for that driver.
func KillTestSpec(store *runs.Store) (*Spec, error) {
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 4, Hidden: 4, Noise: 0.1, Train: 64, Test: 32, Seed: 11},
		Hidden: []int{8}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		return nil, err
	}
	return &Spec{
		Problem: p, Rule: update.SGD{LearningRate: 0.05}, Orders: []order.Order{order.Forward{}, order.Backward{}},
		Seeds: []uint64{1, 2}, Steps: 160, BatchSize: 2, Schedule: schedule.Every(1), DType: dtypes.Float32,
		KeepIterates: true, Metrics: true, Replicas: 4, Store: store, SaveEvery: 10 * time.Millisecond,
	}, nil
}
