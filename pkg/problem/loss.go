package problem

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// Loss is a per-example loss, averaged over each replica's batch.
type Loss interface {
	// Name identifies the loss, e.g. "half-squared-error".
	Name() string
	// Mean builds the mean loss of each replica's batch: predictions [R, B, ...] (B may be 1 and broadcast) and
	// targets [R, B, ...] give a vector of shape [R]. Graph-building code: it panics on error.
	Mean(predictions, targets *Node) *Node
}

// HalfSquaredError is ℓ(ŷ, y) = ½‖ŷ − y‖², summed over the feature axes and averaged over the batch. With the
// Point model it is the quadratic of Section 3.1, L_i(θ) = ½‖θ − ε_i‖².
type HalfSquaredError struct{}

// Name implements Loss.
func (HalfSquaredError) Name() string { return "half-squared-error" }

// Mean implements Loss.
func (HalfSquaredError) Mean(predictions, targets *Node) *Node {
	diff := Sub(predictions, targets)
	perExample := MulScalar(Square(diff), 0.5)
	for perExample.Rank() > 2 {
		perExample = ReduceSum(perExample, -1)
	}
	return ReduceMean(perExample, 1)
}
