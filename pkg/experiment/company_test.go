package experiment

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem/problemtest"
	"github.com/revsgd/revsgd/pkg/update"
)

// A run's numbers do not depend on the runs computed beside it: seed 1 run alone and among five seeds gives the
// same float32 metrics, bit for bit (they differed in the 7th digit, 1.9717263083 against 1.9717271328, because
// the evaluation's split into calls depended on the size of the lockstep group — which is not part of a run's
// identity, so a store could mix the two). The data has FashionMNIST's shapes, so that evaluating ten replicas
// needs several calls.
//
// With FashionMNIST's MLP (784-256-256-10) the training steps also depended on the company: the pure-Go backend chose its matrix
// kernel by the size of the whole product, replicas included (a group of one took the small kernel, a group of
// five the large one), so seed 1 alone and among five seeds differed in the last bits of θ; revsgd now makes it
// use one kernel for every size (pkg/backend).
func TestRunNumbersDoNotDependOnTheirCompany(t *testing.T) {
	for _, widths := range [][]int{{784, 16, 10}, {784, 256, 256, 10}} {
		t.Run(fmt.Sprint(widths), func(t *testing.T) { testCompany(t, widths) })
	}
}

func testCompany(t *testing.T, widths []int) {
	p := problemtest.ImageLike(2000, 16, 9)
	p.Model = models.MLP{Widths: widths, Activation: models.ReLUActivation}
	curve := func(seeds []uint64) *Trajectory {
		spec := &Spec{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.05}, order.Forward{}, order.Backward{}),
			Seeds: seeds, Steps: 6, BatchSize: 8, Sampling: data.Shuffled, Evaluated: evaluation.Every(3),
			DType: dtypes.Float32, Metrics: true, KeepIterates: true}
		res, err := Run(context.Background(), backendtest.Default(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		return res.Trajectory("backward", 1)
	}
	alone, company := curve([]uint64{1}), curve([]uint64{1, 2, 3, 4, 5})
	for _, c := range []struct {
		name       string
		got, alone []float64
	}{{"training loss", company.TrainLoss, alone.TrainLoss}, {"test loss", company.TestLoss, alone.TestLoss},
		{"test accuracy", company.TestAccuracy, alone.TestAccuracy}} {
		if !slices.Equal(c.got, c.alone) {
			t.Errorf("%s of seed 1: %.10f among five seeds, %.10f alone", c.name, c.got, c.alone)
		}
	}
	for k := range alone.Iterates {
		if hasDifferentBits(company.Iterates[k], alone.Iterates[k]) {
			t.Errorf("θ of seed 1 at step %d: among five seeds it differs from alone by up to %g", alone.Steps[k],
				maxAbsDiff(company.Iterates[k], alone.Iterates[k]))
		}
	}
}
