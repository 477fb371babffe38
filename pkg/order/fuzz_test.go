package order

import (
	"testing"

	"github.com/revsgd/revsgd/pkg/evaluation"
)

// FuzzPlans builds the plan of any order name over any evaluation interval and run length (up to 2 000 steps):
// a name is parsed or refused with an error, never a panic, and every plan built passes Check — each evaluated
// step reported once, after a replay that applies that many maps, from a start that is reported or θ_0 — and
// applies no more maps than a full backward curve (Σ n over the evaluated steps n), the bound the experiment's
// memory estimate (experiment.Spec.HostBytes) assumes.
func FuzzPlans(f *testing.F) {
	for _, seed := range []struct {
		name         string
		steps, every int
	}{{"backward", 100, 10}, {"forward", 7, 3}, {"intermittent-w16", 160, 1}, {"switch-s60", 160, 7},
		{"intermittent-w0", 10, 1}, {"switch-s-1", 10, 1}, {"intermittent-w99999999999999999999", 50, 5},
		{"switch-s5", 3, 1}, {"", 1, 1}} {
		f.Add(seed.name, seed.steps, seed.every)
	}
	f.Fuzz(func(t *testing.T, name string, steps, every int) {
		if steps < 1 || steps > 2000 || every < 1 {
			return
		}
		o, err := ByName(name)
		if err != nil {
			return
		}
		evaluated, err := evaluation.Every(every).Steps(steps)
		if err != nil {
			t.Fatalf("every %d of %d steps: %v", every, steps, err)
		}
		plan := o.Plan(evaluated)
		if err := Check(plan, evaluated); err != nil {
			t.Fatalf("%s over %v: %v", name, evaluated, err)
		}
		maps, bound := 0, steps
		for _, n := range evaluated {
			bound += n
		}
		for _, r := range plan {
			maps += len(r.Steps)
		}
		if maps > bound {
			t.Fatalf("%s: %d maps, more than a backward curve's %d", name, maps, bound)
		}
	})
}
