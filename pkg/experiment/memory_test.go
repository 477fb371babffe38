package experiment

import (
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// A replica's estimated memory holds at least its parameters, gradients and state twice over, grows with the
// batch, and the group size for a device is half its memory over that estimate.
func TestReplicasForMemory(t *testing.T) {
	b := backendtest.Default(t)
	quad, err := problem.Quadratic{Dim: 3, Sigma: 1, Examples: 16, Seed: 1}.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    *problem.Problem
		rule update.Rule
	}{{regressionProblem(t), update.SGD{LearningRate: 0.1}}, {regressionProblem(t), update.DefaultAdamW(1e-3)},
		{quad, update.SGD{LearningRate: 0.1}}} {
		np := int64(models.NumParams(c.p.Model))
		small, err := ReplicaBytes(b, c.p, c.rule, 1)
		if err != nil {
			t.Fatal(err)
		}
		large, err := ReplicaBytes(b, c.p, c.rule, 64)
		if err != nil {
			t.Fatal(err)
		}
		if min := 4 * 2 * np * int64(2+len(c.rule.State())); small < min {
			t.Errorf("%s, %s: %d bytes per replica, less than parameters, gradients and state twice (%d)",
				c.p.Model.Name(), c.rule.Name(), small, min)
		}
		if c.p.Train.Inputs != nil && large <= small {
			t.Errorf("%s: %d bytes at batch 64, %d at batch 1", c.p.Model.Name(), large, small)
		}
		for _, k := range []int64{1, 3, 10} {
			r, err := ReplicasForMemory(b, c.p, c.rule, 1, 2*k*small+1)
			if err != nil || int64(r) != k {
				t.Errorf("%s: %d replicas for %d bytes, want %d (%v)", c.p.Model.Name(), r, 2*k*small+1, k, err)
			}
		}
	}
}
