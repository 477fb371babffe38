package experiment

import (
	"context"
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// The cost of an intermittent curve evaluated at every step: per evaluated step it grows with the window W, not
// with the step n (compare N = 64 and N = 256 at the same W). FashionMNIST MLP 784-256-256-10, batch 8, one
// seed. Run with -benchtime 1x; the metrics are update maps and milliseconds per evaluated step.
func BenchmarkIntermittentCurve(b *testing.B) {
	train, err := data.LoadFashionMNIST("train")
	if err != nil {
		b.Fatal(err)
	}
	p := &problem.Problem{Name: "fashion", Model: models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation},
		Loss: problem.CrossEntropy{}, Train: train}
	for _, c := range []struct{ n, w int }{{64, 4}, {64, 16}, {64, 64}, {256, 4}, {256, 16}} {
		b.Run(fmt.Sprintf("N=%d/W=%d", c.n, c.w), func(b *testing.B) {
			var maps int
			for range b.N {
				res, err := Run(context.Background(), backendtest.Default(b), &Spec{
					Problem: p, Arms: Orders(update.SGD{LearningRate: 0.025}, order.Intermittent{Resets: order.EveryW(c.w)}), Seeds: []uint64{1}, Steps: c.n, BatchSize: 8,
					Evaluated: evaluation.Every(1),
					DType:     dtypes.Float32,
				})
				if err != nil {
					b.Fatal(err)
				}
				maps = res.Stats.Applied
			}
			evals := float64(c.n * b.N)
			b.ReportMetric(float64(maps)/float64(c.n), "maps/eval")
			b.ReportMetric(b.Elapsed().Seconds()*1000/evals, "ms/eval")
		})
	}
}
