package experiment

import (
	"math"
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

// regressionProblem is a small instance of the regression-mlp problem.
func regressionProblem(t *testing.T) *problem.Problem {
	t.Helper()
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 3, Hidden: 4, Noise: 0.1, Train: 32, Test: 16, Seed: 5},
		Hidden: []int{6}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newEngine(t *testing.T, p *problem.Problem, rule update.Rule) *replay.Engine {
	t.Helper()
	e, err := replay.New(backendtest.Default(t), p, rule, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func initSource(seed uint64) *rng.Source { return rng.New(seedInit(seed)) }

func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
