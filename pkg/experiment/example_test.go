package experiment_test

import (
	"context"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	revsgdbackend "github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/schedule"
	"github.com/revsgd/revsgd/pkg/update"
)

// Forward and backward SGD on the 1-D quadratic of Section 3.1: late in the run, forward iterates still move by
// about hσ per step while backward iterates have settled on a point.
func ExampleRun() {
	backend, err := compute.NewWithConfig(revsgdbackend.GoConfig(""))
	if err != nil {
		panic(err)
	}
	quad, err := problem.Quadratic{Dim: 1, Sigma: 1, Start: 2, Examples: 1 << 12, Seed: 1}.New()
	if err != nil {
		panic(err)
	}
	res, err := experiment.Run(context.Background(), backend, &experiment.Spec{
		Problem:   quad,
		Rule:      update.SGD{LearningRate: 0.1},
		Orders:    []order.Order{order.Forward{}, order.Backward{}},
		Seeds:     []uint64{1},
		Steps:     150,
		BatchSize: 1, Sampling: data.WithReplacement,
		Schedule: schedule.List{149, 150},
		DType:    dtypes.Float64, KeepIterates: true,
	})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"forward", "backward"} {
		_, sizes := res.Curve(name, 1).StepSizes()
		fmt.Printf("%s: |θ_150 − θ_149| < 1e-6: %v\n", name, sizes[0] < 1e-6)
	}
	// Output:
	// forward: |θ_150 − θ_149| < 1e-6: false
	// backward: |θ_150 − θ_149| < 1e-6: true
}
