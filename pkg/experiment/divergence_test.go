package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/schedule"
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
		spec := &Spec{Problem: c.p, Rule: update.SGD{LearningRate: c.h}, Orders: []order.Order{order.Forward{}},
			Seeds: []uint64{1}, Steps: c.steps, BatchSize: 1, Sampling: data.Shuffled, Schedule: schedule.Every(2),
			DType: dtypes.Float64, Metrics: c.metrics, KeepIterates: !c.metrics, Store: &runs.Store{Root: root}}
		_, err := Run(context.Background(), backendtest.Go(t), spec)
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
