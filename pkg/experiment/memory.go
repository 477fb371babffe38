package experiment

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// ReplicaBytes estimates the device memory one replica of a lockstep group needs for an update map of the
// problem's model at the given batch size, in float32: its parameters, their gradient and the rule's state,
// twice over (a step's inputs and outputs are alive together), plus every value the update map's graph
// computes for one replica. The last term is an upper bound, since a compiler frees and fuses intermediate
// values; so the estimate errs on the safe side. The graph is built on b but neither compiled nor run.
func ReplicaBytes(b compute.Backend, p *problem.Problem, rule update.Rule, batch int) (int64, error) {
	params := p.Model.Params()
	np := int64(models.NumParams(p.Model))
	var values int64
	err := exceptions.TryCatch[error](func() {
		g := NewGraph(b, "replica-bytes")
		defer g.Finalize()
		ps := make([]*Node, len(params))
		for i, q := range params {
			ps[i] = Parameter(g, q.Name, shapes.Make(dtypes.Float32, append([]int{1}, q.Dims...)...))
		}
		var x *Node
		if p.Train.Inputs != nil {
			dims := append([]int{1, batch}, p.Train.Inputs.Shape().Dimensions[1:]...)
			x = Parameter(g, "x", shapes.Make(dtypes.Float32, dims...))
		}
		if bp, ok := p.Model.(models.Backpropagator); ok && x != nil {
			bp.Backprop(ps, x, func(o *Node) *Node { return OnesLike(o) })
		} else {
			Gradient(ReduceAllSum(p.Model.Apply(ps, x)), ps...)
		}
		for _, n := range g.Nodes() {
			values += int64(n.Shape().Size())
		}
	})
	if err != nil {
		return 0, fmt.Errorf("experiment: estimating the memory of %s: %w", p.Model.Name(), err)
	}
	const bytes = 4
	return bytes * (2*np*int64(2+len(rule.State())) + values), nil
}

// ReplicasForMemory is the lockstep group size that fits a device with the given free memory in bytes: half of
// it divided by ReplicaBytes (the other half is left to the data, the evaluation graphs and the compiler's
// workspace), at least 1 and at most 4096.
func ReplicasForMemory(b compute.Backend, p *problem.Problem, rule update.Rule, batch int, memory int64) (int, error) {
	per, err := ReplicaBytes(b, p, rule, batch)
	if err != nil {
		return 0, err
	}
	return int(max(1, min(4096, memory/2/max(per, 1)))), nil
}
