package experiment_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	revsgdbackend "github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// quadratic returns the pure-Go backend and the 1-D quadratic of Section 3.1 (σ = 1, θ_0 = 2), for the examples.
func quadratic() (compute.Backend, *problem.Problem) {
	backend, err := compute.NewWithConfig(revsgdbackend.GoConfig(""))
	if err != nil {
		panic(err)
	}
	quad, err := problem.Quadratic{Dim: 1, Sigma: 1, Start: 2, Examples: 1 << 12, Seed: 1}.New()
	if err != nil {
		panic(err)
	}
	return backend, quad
}

// Forward and backward SGD on the 1-D quadratic of Section 3.1: late in the run, forward iterates still move by
// about hσ per step while backward iterates have settled on a point.
func ExampleRun() {
	backend, quad := quadratic()
	res, err := experiment.Run(context.Background(), backend, &experiment.Spec{
		Problem: quad,
		Arms:    experiment.Orders(update.SGD{LearningRate: 0.1}, order.Forward{}, order.Backward{}),

		Seeds:     []uint64{1},
		Steps:     150,
		BatchSize: 1, Sampling: data.WithReplacement,
		Evaluated: evaluation.List{149, 150},
		DType:     dtypes.Float64, KeepIterates: true,
	})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"forward", "backward"} {
		_, sizes := res.Trajectory(name, 1).StepSizes()
		fmt.Printf("%s: |θ_150 − θ_149| < 1e-6: %v\n", name, sizes[0] < 1e-6)
	}
	// Output:
	// forward: |θ_150 − θ_149| < 1e-6: false
	// backward: |θ_150 − θ_149| < 1e-6: true
}

// Iterate averaging, a baseline of backward SGD, as a second arm of one experiment: a tail average of the
// forward iterates from step 501 on, beside forward SGD, on the same seeds and batches. Across seeds, forward
// iterates keep the stationary law's spread (variance hσ²/(2−h) ≈ 0.053 here), while the average concentrates on
// its mean (variance about σ²/500).
func ExampleArm() {
	backend, quad := quadratic()
	sgd := update.SGD{LearningRate: 0.1}
	res, err := experiment.Run(context.Background(), backend, &experiment.Spec{
		Problem: quad,
		Arms: []experiment.Arm{
			{Rule: sgd, Order: order.Forward{}}, // named "forward", after its order
			{Name: "tail average", Rule: update.Averaged{Rule: sgd, TailStart: 501}, Order: order.Forward{}},
		},
		Seeds: experiment.SeedRange(400), Steps: 1000, BatchSize: 1, Sampling: data.WithReplacement,
		Evaluated: evaluation.List{1000}, DType: dtypes.Float64, KeepIterates: true,
	})
	if err != nil {
		panic(err)
	}
	variance := map[string]float64{}
	for _, name := range []string{"forward", "tail average"} {
		var sum, sum2 float64
		for _, c := range res.Arm(name) {
			x := c.Iterates[0][0]
			sum, sum2 = sum+x, sum2+x*x
		}
		n := float64(len(res.Arm(name)))
		variance[name] = sum2/n - (sum/n)*(sum/n)
	}
	fmt.Printf("forward: variance of θ_1000 across seeds in [0.04, 0.07]: %v\n", variance["forward"] > 0.04 && variance["forward"] < 0.07)
	fmt.Printf("tail average: below 0.005: %v\n", variance["tail average"] < 0.005)
	// Output:
	// forward: variance of θ_1000 across seeds in [0.04, 0.07]: true
	// tail average: below 0.005: true
}

// A Runner says how an experiment runs; the Spec, what. With a run store, running the same Spec again reads
// every run back instead of computing it.
func ExampleRunner() {
	backend, quad := quadratic()
	spec := &experiment.Spec{
		Problem: quad, Arms: experiment.Orders(update.SGD{LearningRate: 0.1}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(3),
		Steps: 40, BatchSize: 1, Sampling: data.WithReplacement, Evaluated: evaluation.Every(10),
		DType: dtypes.Float64, KeepIterates: true,
	}
	dir, err := os.MkdirTemp("", "revsgd-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	runner := experiment.Runner{Backend: backend, Store: &runs.Store{Root: dir}}
	for range 2 {
		res, err := runner.Run(context.Background(), spec)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%d trajectories, %d update maps computed\n", len(res.Trajectories), res.Stats.Applied)
	}
	// Output:
	// 6 trajectories, 420 update maps computed
	// 6 trajectories, 0 update maps computed
}
