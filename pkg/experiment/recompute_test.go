package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// A stored run is recomputed from its directory alone — config.json (problem source, rule, order), theta0.npy,
// batches.npy — and gives the stored iterates bit for bit: for every order, with SGD and with AdamW, in float64
// and float32, although the run computed them in lockstep groups of several replicas and the recomputation one
// replica at a time (on the pure-Go backend a replica's arithmetic does not depend on its group).
func TestRecomputeFromTheDirectoryAlone(t *testing.T) {
	b := backendtest.Default(t)
	for _, c := range []struct {
		rule  update.Rule
		dtype dtypes.DType
	}{{update.SGD{LearningRate: 0.1}, dtypes.Float64}, {update.DefaultAdamW(0.01), dtypes.Float64},
		{update.SGD{LearningRate: 0.1}, dtypes.Float32}} {
		store := &runs.Store{Root: t.TempDir()}
		spec := &Spec{Problem: regressionProblem(t), Arms: Orders(c.rule, order.Forward{}, order.Backward{}, order.Intermittent{Resets: order.EveryW(4)}, order.Switch{At: 6}),

			Seeds: []uint64{1, 2}, Steps: 12, BatchSize: 4, Sampling: data.Shuffled, Evaluated: evaluation.Every(3),
			DType: c.dtype, KeepIterates: true}
		res, err := Runner{Backend: b, Store: store}.Run(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, cv := range res.Trajectories {
			got, err := Recompute(context.Background(), b, cv.Dir)
			if err != nil {
				t.Fatalf("%s: %v", cv.Dir, err)
			}
			for k, n := range cv.Steps {
				if d := maxAbsDiff(got.Iterates[k], cv.Iterates[k]); got.Steps[k] != n || d != 0 {
					t.Errorf("%s %s %s seed %d step %d: recomputed θ differs by %.3g", c.rule.Name(), c.dtype,
						cv.Order, cv.Seed, n, d)
				}
			}
		}
	}

	// theta0.npy is exactly the θ_0 the seed draws, and the recomputation needs it; a problem without a source
	// (data read from files) is refused with the reason.
	p := regressionProblem(t)
	spec := &Spec{Problem: p, Arms: Orders(update.SGD{LearningRate: 0.1}, order.Backward{}),
		Seeds: []uint64{1}, Steps: 6, BatchSize: 4, Evaluated: evaluation.Every(3), DType: dtypes.Float64,
		KeepIterates: true}
	res, err := Runner{Backend: b, Store: &runs.Store{Root: t.TempDir()}}.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := res.Trajectories[0].Dir
	st, err := runs.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	theta0, _, err := spec.Draw(1)
	if err != nil {
		t.Fatal(err)
	}
	if maxAbsDiff(st.Theta0, theta0) != 0 || len(st.Theta0) != len(theta0) {
		t.Error("theta0.npy is not the θ_0 the seed draws")
	}
	if err := os.Remove(filepath.Join(dir, "theta0.npy")); err != nil {
		t.Fatal(err)
	}
	if _, err := Recompute(context.Background(), b, dir); err == nil || !strings.Contains(err.Error(), "theta0.npy") {
		t.Errorf("recomputed without θ_0: %v", err)
	}
	p.Source = nil
	if res, err = (Runner{Backend: b, Store: &runs.Store{Root: t.TempDir()}}).Run(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, err := Recompute(context.Background(), b, res.Trajectories[0].Dir); err == nil || !strings.Contains(err.Error(), "no source") {
		t.Errorf("recomputed a problem without a source: %v", err)
	}
}
