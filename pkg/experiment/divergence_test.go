package experiment

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// A diverging run stops with an error that names the order, the seed, the step and the last finite loss, and
// what was computed before it stays in the store, readable, with no NaN in its files (it was `json: unsupported
// value: NaN`, naming nothing, with nothing kept). With metrics (linear least squares at h = 5, far beyond 2/λ_max)
// and with iterates only (the quadratic at h = 2.5, whose maps multiply θ by 1 − h = −1.5 each step: it
// overflows to Inf, then NaN).
func TestDivergenceIsReportedAndWhatCameBeforeIsKept(t *testing.T) {
	quad, err := problem.Quadratic{Dim: 1, Sigma: 1, Start: 2, Examples: 64, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	lin, err := problem.Linear{Data: data.LinearRegression{Dim: 3, Noise: 0.5, Train: 64, Test: 16, Seed: 1}}.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		p       *problem.Problem
		h       float64
		metrics bool
		steps   int
	}{{"linear regression", lin, 5, true, 2000}, {"quadratic", quad, 2.5, false, 2000}} {
		root := t.TempDir()
		spec := &Spec{Problem: c.p, Arms: Orders(update.SGD{LearningRate: c.h}, order.Forward{}),
			Seeds: []uint64{1}, Steps: c.steps, BatchSize: 1, Sampling: data.Shuffled, Evaluated: evaluation.Every(2),
			DType: dtypes.Float64, Metrics: c.metrics, KeepIterates: !c.metrics}
		_, err := Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: root}}.Run(context.Background(), spec)
		var div *DivergenceError
		if !errors.As(err, &div) {
			t.Fatalf("%s: got %v, want a divergence error", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
		if div.Order != "forward" || div.Seed != 1 || div.Step < 2 || !strings.Contains(err.Error(), "diverged") {
			t.Errorf("%s: %+v", c.name, div)
		}
		if c.metrics && (div.LastFiniteStep < 0 || div.LastFiniteStep >= div.Step) {
			t.Errorf("%s: last finite step %d, divergence at %d", c.name, div.LastFiniteStep, div.Step)
		}
		dirs, _ := filepath.Glob(filepath.Join(root, "*", "forward", "*"))
		if len(dirs) != 1 {
			t.Fatalf("%s: %d run directories", c.name, len(dirs))
		}
		st, err := runs.ReadDir(dirs[0])
		if err != nil {
			t.Fatalf("%s: the store is not readable after the divergence: %v", c.name, err)
		}
		if st.Completed == 0 || st.Completed >= div.Step/2 {
			t.Errorf("%s: %d evaluated steps stored, divergence at step %d", c.name, st.Completed, div.Step)
		}
		for _, name := range []string{"record.json", "metrics.csv"} {
			if b, err := os.ReadFile(filepath.Join(dirs[0], name)); err == nil && strings.Contains(strings.ToLower(string(b)), "nan") {
				t.Errorf("%s: %s holds a NaN", c.name, name)
			}
		}
	}
}

// A diverging chain does not stop the others (nor do the windows that follow a diverged one in intermittent
// order keep the run waiting for their start): with rare outlying examples (x = 100 among x = 0.1), a seed whose
// batches hit them often enough diverges and the others do not. Run returns every curve — the diverged ones NaN
// from their divergence on, marked — and an error naming each diverged chain.
func TestDivergenceStopsOnlyItsChain(t *testing.T) {
	const m = 100
	x, y := make([]float32, m), make([]float32, m)
	for i := range x {
		x[i] = 0.1
		if i%20 == 0 {
			x[i] = 100
		}
	}
	d := &data.Dataset{Name: "outliers", Inputs: tensors.FromFlatDataAndDimensions(x, m, 1), Targets: tensors.FromFlatDataAndDimensions(y, m, 1)}
	p := &problem.Problem{Name: "outliers", Model: models.MLP{Widths: []int{1, 1}}, Loss: problem.HalfSquaredError{}, Train: d}
	spec := &Spec{Problem: p, Arms: Orders(update.SGD{LearningRate: 1}, order.Forward{}, order.Backward{},
		order.Intermittent{Resets: order.EveryW(55)}), Seeds: SeedRange(8), Steps: 60, BatchSize: 1, Evaluated: evaluation.Every(5), DType: dtypes.Float32, Metrics: true}
	res, err := Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: t.TempDir()}}.Run(context.Background(), spec)
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	diverged, finite := 0, 0
	for _, c := range res.Trajectories {
		if len(c.Steps) != 12 || len(c.TrainLoss) != 12 {
			t.Fatalf("%s seed %d: %d steps, %d losses; want 12 of each", c.Order, c.Seed, len(c.Steps), len(c.TrainLoss))
		}
		if c.Diverged == nil {
			finite++
			for k, l := range c.TrainLoss {
				if math.IsNaN(l) || math.IsInf(l, 0) {
					t.Errorf("%s seed %d: loss %g at step %d, not marked diverged", c.Order, c.Seed, l, c.Steps[k])
				}
			}
			continue
		}
		diverged++
		if !strings.Contains(err.Error(), c.Diverged.Error()) {
			t.Errorf("the error does not name %s seed %d: %v", c.Order, c.Seed, err)
		}
		// Forward: NaN from the divergence on. Backward: each step is its own replay, so the ones before the
		// earliest divergence are finite, and that one is NaN.
		for k, step := range c.Steps {
			nan := math.IsNaN(c.TrainLoss[k])
			if step < c.Diverged.Step && nan || step == c.Diverged.Step && !nan || c.Order == "forward" && step > c.Diverged.Step && !nan {
				t.Errorf("%s seed %d: loss %g at step %d, divergence at %d", c.Order, c.Seed, c.TrainLoss[k], step, c.Diverged.Step)
			}
		}
	}
	t.Logf("%d chains diverged, %d did not: %v", diverged, finite, err)
	if diverged == 0 || finite == 0 {
		t.Fatalf("%d chains diverged and %d did not; the test needs some of each", diverged, finite)
	}
	var div *DivergenceError
	if !errors.As(err, &div) {
		t.Errorf("errors.As finds no DivergenceError in %v", err)
	}
}
