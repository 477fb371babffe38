// Package models holds the parametric models of revsgd, written for replicas: every parameter carries a leading
// replica axis, so that R independent copies of a model (different seeds, different replays) are trained in
// lockstep inside one graph, each with exactly its own gradient.
package models

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/revsgd/revsgd/pkg/rng"
)

// Param describes one parameter tensor of a model, for a single replica.
type Param struct {
	// Name identifies the parameter, e.g. "layer1/weights".
	Name string
	// Dims are its dimensions without the replica axis.
	Dims []int
}

// Size is the number of scalars in the parameter.
func (p Param) Size() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// Model is a parametric function, written for replicas.
//
// The flat parameter vector θ of one replica is the concatenation of its parameters, in the order of Params,
// each in row-major order. That vector is what Init returns, what the run store saves and what convergence
// analysis measures distances on.
type Model interface {
	// Name says what the model is, e.g. "mlp-8-32-32-1".
	Name() string
	// Params lists the parameter tensors.
	Params() []Param
	// Init returns the initial parameter vector θ_0, drawing what it needs from src.
	Init(src *rng.Source) []float64
	// Apply builds the model's output. Each params[i] has shape [R, Params()[i].Dims...]. The inputs x have shape
	// [R, B, ...] (a batch per replica) or [1, B, ...] (the same examples for every replica), or are nil for models
	// without inputs. The output has shape [R, B', ...] with B' = B, or B' = 1 for models without inputs (it then
	// broadcasts against the targets).
	//
	// This is a graph-building function and panics on error, as GoMLX does.
	Apply(params []*Node, x *Node) *Node
}

// NumParams returns the length of the flat parameter vector of m.
func NumParams(m Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Size()
	}
	return n
}

// Backpropagator is implemented by models that build their parameters' gradients themselves (explicit
// backpropagation), given the loss's gradient with respect to their output; the replay engine then uses them
// instead of graph.Gradient for update maps. They must compute the same gradient (tested against
// graph.Gradient).
type Backpropagator interface {
	Model
	Backprop(params []*Node, x *Node, outputGrad func(output *Node) *Node) []*Node
}

// ForwardScalars is the number of scalars the values of m's forward graph hold per example, for one replica: the
// growth of the sum of their sizes from one example to two (so parameters and what is computed from them alone do
// not count; inputs and outputs do). It bounds the activations of an evaluation, which a compiler frees and fuses
// in part. The graphs are built on b but neither compiled nor run. Models without inputs take exampleDims nil
// (and give 0).
func ForwardScalars(b compute.Backend, m Model, exampleDims []int) (int64, error) {
	if exampleDims == nil {
		return 0, nil
	}
	var sizes [2]int64
	for k := range sizes {
		err := exceptions.TryCatch[error](func() {
			g := NewGraph(b, "forward-scalars")
			defer g.Finalize()
			params := m.Params()
			ps := make([]*Node, len(params))
			for i, q := range params {
				ps[i] = Parameter(g, q.Name, shapes.Make(dtypes.Float32, append([]int{1}, q.Dims...)...))
			}
			m.Apply(ps, Parameter(g, "x", shapes.Make(dtypes.Float32, append([]int{1, k + 1}, exampleDims...)...)))
			for _, node := range g.Nodes() {
				sizes[k] += int64(node.Shape().Size())
			}
		})
		if err != nil {
			return 0, fmt.Errorf("models: building %s's forward graph: %w", m.Name(), err)
		}
	}
	return sizes[1] - sizes[0], nil
}
