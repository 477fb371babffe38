package replay

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/models"
)

// Derivatives of batch losses, for the Lie-bracket corrections: gradients ∇L_B(θ) and Hessian-vector products
// ∇²L_B(θ)·v, the latter by double reverse-mode differentiation in one graph (the gradient of ∇L_B(θ)·v), which
// works on every backend. Each replica of a group has its own parameters, batch and vector.

// derivativeGraph builds, for inputs params…, [data inputs], data targets, indices [R, B] and, with hvp, vectors…
// shaped like params, the outputs ∇L… or ∇²L·v….
func (e *Engine) derivativeGraph(hvp bool) func(in []*Node) []*Node {
	return func(in []*Node) []*Node {
		np := len(e.params)
		params := in[:np]
		x, y, vs := e.trainingBatches(in[np:])
		var predictions *Node
		if tm, ok := e.problem.Model.(models.TwiceDifferentiable); ok && hvp {
			predictions = tm.ApplyTwiceDifferentiable(params, x)
		} else {
			predictions = e.problem.Model.Apply(params, x)
		}
		losses := e.problem.Loss.Mean(predictions, y)
		grads := Gradient(ReduceAllSum(losses), params...)
		if !hvp {
			return grads
		}
		dot := ReduceAllSum(Mul(grads[0], vs[0]))
		for i := 1; i < np; i++ {
			dot = Add(dot, ReduceAllSum(Mul(grads[i], vs[i])))
		}
		return Gradient(dot, params...)
	}
}

// Gradients returns ∇L_B(θ) of each replica's batch (batches[r·B : (r+1)·B]) at its parameters, as flat vectors.
func (g *Group) Gradients(batches []int32) ([][]float64, error) {
	return g.derivatives(batches, nil)
}

// HessianVectorProducts returns ∇²L_B(θ)·v of each replica's batch and vector at its parameters.
func (g *Group) HessianVectorProducts(batches []int32, vectors [][]float64) ([][]float64, error) {
	if len(vectors) != g.size {
		return nil, fmt.Errorf("replay: %d vectors for %d replicas", len(vectors), g.size)
	}
	want := models.NumParams(g.e.problem.Model)
	for r, v := range vectors {
		if v != nil && len(v) != want {
			return nil, fmt.Errorf("replay: vector %d has %d values, the model %s has %d parameters", r, len(v),
				g.e.problem.Model.Name(), want)
		}
	}
	return g.derivatives(batches, vectors)
}

func (g *Group) derivatives(batches []int32, vectors [][]float64) ([][]float64, error) {
	e := g.e
	if len(batches) == 0 || len(batches)%g.size != 0 {
		return nil, fmt.Errorf("replay: %d batch indices for %d replicas", len(batches), g.size)
	}
	if err := e.checkIndices(batches); err != nil {
		return nil, err
	}
	exec := &e.grad
	if vectors != nil {
		exec = &e.hvp
	}
	if *exec == nil {
		var err error
		if *exec, err = compile(e.backend, e.derivativeGraph(vectors != nil)); err != nil {
			return nil, err
		}
	}
	batches = g.pad(batches)
	args := dataArgs(g.carry[:len(e.params)], e.train, tensors.FromFlatDataAndDimensions(batches, g.slots, len(batches)/g.slots))
	if vectors != nil {
		for i := range e.params {
			args = append(args, e.replicated(i, pad(vectors, g.slots, nil)))
		}
	}
	out, err := e.call(*exec, args...)
	if err != nil {
		return nil, fmt.Errorf("replay: derivatives: %w", err)
	}
	defer finalize(out)
	return e.perReplica(out, g.size)
}
