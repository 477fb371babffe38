package lie

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// The cost of the second-order correction and of the linearised composition at n = 50, against n = 50 forward
// SGD steps (one replica): the lie-bracket figure's sweep problem (MLP 8-16-1, batch 8, float64).
func BenchmarkCorrectionAgainstForwardSteps(b *testing.B) {
	p, err := problem.Regression{Data: data.TeacherRegression{Dim: 8, Hidden: 16, Noise: 0.1, Train: 256, Test: 64, Seed: 2025},
		Hidden: []int{16}, Activation: models.TanhActivation}.New()
	if err != nil {
		b.Fatal(err)
	}
	const n = 50
	e, err := replay.New(backendtest.Default(b), p, update.SGD{LearningRate: 0.05}, dtypes.Float64)
	if err != nil {
		b.Fatal(err)
	}
	hist, _ := data.Sampler{Examples: 256, BatchSize: 8, Mode: data.Shuffled}.History(1, n)
	theta0 := p.Model.Init(rng.New(1))
	x := &Expansion{Engine: e, H: 0.05, Theta0: theta0, Batches: hist}
	b.Run("forward-50-steps", func(b *testing.B) {
		for range b.N {
			g, _ := e.NewGroup([][]float64{theta0})
			for k := 1; k <= n; k++ {
				if err := g.Step(hist.Batch(k), []bool{true}); err != nil {
					b.Fatal(err)
				}
			}
			g.Close()
		}
	})
	b.Run("second-order-correction", func(b *testing.B) {
		for range b.N {
			if _, err := x.Correction(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("linearised-composition", func(b *testing.B) {
		for range b.N {
			if _, err := x.Linearised(n); err != nil {
				b.Fatal(err)
			}
		}
	})
}
