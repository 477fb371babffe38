package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// A warm-started run starts where its warm-up ends: on the 1-D quadratic, θ_0 of seed s is the closed-form
// forward iterate after the warm-up's maps on the batches of seed rng.Derive(s, "warm-up"), and the runs from it
// follow the closed forms from that θ_0. The store keeps the warm-up as a run of its own, records how each θ_0
// was made (and refuses a θ_0 file changed behind its back), and a second Run computes nothing.
func TestWarmUpStartsWhereTheWarmUpEnds(t *testing.T) {
	const start, h, warmSteps, steps = 3.0, 0.1, 40, 25
	p := quadratic1D(t, 4096, start)
	rule := update.SGD{LearningRate: h}
	spec := &Spec{
		Problem: p, Arms: Orders(rule, order.Forward{}, order.Backward{}), Seeds: []uint64{1, 2},
		WarmUp: &WarmUp{Rule: rule, Steps: warmSteps}, Steps: steps, BatchSize: 1,
		Sampling: data.WithReplacement, DType: dtypes.Float64, KeepIterates: true,
	}
	store := &runs.Store{Root: t.TempDir()}
	runner := Runner{Backend: backendtest.Default(t), Store: store}
	res, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.WarmUp) != len(spec.Seeds) {
		t.Fatalf("%d warm-up runs, want one per seed (%d)", len(res.WarmUp), len(spec.Seeds))
	}
	worst := 0.0
	for i, seed := range spec.Seeds {
		theta0 := closedForward(start, h, epsilons(t, p, spec.WarmUp.Seed(seed), warmSteps), warmSteps)
		w := res.WarmUp[i]
		if w.Seed != spec.WarmUp.Seed(seed) || w.Steps[len(w.Steps)-1] != warmSteps {
			t.Errorf("seed %d: warm-up run of seed %d to step %v, want seed %d to step %d", seed, w.Seed, w.Steps,
				spec.WarmUp.Seed(seed), warmSteps)
		}
		worst = max(worst, math.Abs(w.Iterates[len(w.Iterates)-1][0]-theta0))
		eps := epsilons(t, p, seed, steps)
		fwd, bwd := res.Trajectory("forward", seed), res.Trajectory("backward", seed)
		for k, n := range fwd.Steps {
			worst = max(worst, math.Abs(fwd.Iterates[k][0]-closedForward(theta0, h, eps, n)))
			worst = max(worst, math.Abs(bwd.Iterates[k][0]-closedBackward(theta0, h, eps, n)))
		}
		for _, c := range []*Trajectory{fwd, bwd} {
			st, err := runs.ReadDir(c.Dir)
			if err != nil {
				t.Fatal(err)
			}
			wc := st.Config.WarmUp
			if wc == nil || wc.Steps != warmSteps || wc.Seed != spec.WarmUp.Seed(seed) || wc.Rule.Name != "sgd" {
				t.Errorf("%s: config's warm_up is %+v, want %d maps of sgd from seed %d", c.Dir, wc, warmSteps,
					spec.WarmUp.Seed(seed))
			}
			if len(st.Theta0) != 1 || math.Abs(st.Theta0[0]-theta0) > 1e-12 {
				t.Errorf("%s: theta0.npy holds %v, want the warm-up's end %v", c.Dir, st.Theta0, theta0)
			}
		}
	}
	if worst > 1e-12 {
		t.Errorf("largest deviation from the closed forms started at the warm-up's end: %.3g > 1e-12", worst)
	}

	again, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.Applied != 0 {
		t.Errorf("the second run computed %d update maps; the store holds them all", again.Stats.Applied)
	}
	cold := *spec
	cold.WarmUp = nil
	if res, err := runner.Run(context.Background(), &cold); err != nil || res.Stats.Applied == 0 {
		t.Errorf("without the warm-up the runs are other runs (computed %d maps, err %v)", res.Stats.Applied, err)
	}
	if _, _, err := spec.Draw(1); err == nil || !strings.Contains(err.Error(), "warm-up") {
		t.Errorf("Draw of a warm-started spec: %v, want a refusal that names the warm-up", err)
	}
	dir := res.Trajectory("forward", 1).Dir
	raw, err := os.ReadFile(filepath.Join(dir, "theta0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0x40
	if err := os.WriteFile(filepath.Join(dir, "theta0.npy"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// Refused: by the record's checksum of θ_0 (and, for a record without one, by the warm-up's in config.json).
	if _, err := runs.ReadDir(dir); err == nil || !strings.Contains(err.Error(), "theta0.npy") {
		t.Errorf("a changed theta0.npy of a warm-started run was read back: %v", err)
	}
	bad := *spec
	bad.WarmUp = &WarmUp{Rule: rule}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "warm-up") {
		t.Errorf("a warm-up of 0 steps: %v, want an error about the warm-up's steps", err)
	}
}
