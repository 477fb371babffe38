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

// Classifier is a loss for classification that also scores accuracy.
type Classifier interface {
	Loss
	// Accuracy builds the fraction of each replica's examples whose highest-scoring class is the label: [R].
	Accuracy(predictions, targets *Node) *Node
}

// CrossEntropy is the softmax cross-entropy ℓ(z, y) = −log softmax(z)_y of logits z [R, B, K] and int32 labels
// y [R, B] (or [1, B], the same labels for every replica), averaged over the batch.
type CrossEntropy struct{}

// Name implements Loss.
func (CrossEntropy) Name() string { return "cross-entropy" }

// Mean implements Loss.
func (CrossEntropy) Mean(logits, labels *Node) *Node {
	k := logits.Shape().Dimensions[logits.Rank()-1]
	logp := LogSoftmax(logits, -1)
	picked := ReduceSum(Mul(logp, OneHot(labels, k, logits.DType())), -1) // [R, B]
	return Neg(ReduceMean(picked, 1))
}

// Accuracy implements Classifier.
func (CrossEntropy) Accuracy(logits, labels *Node) *Node {
	predicted := ArgMax(logits, -1, labels.DType())
	correct := ConvertDType(Equal(predicted, labels), logits.DType())
	return ReduceMean(correct, 1)
}

// OutputGradienter is a loss that also builds its own gradient with respect to the predictions, for models that
// backpropagate by hand (models.MLP.Backprop).
type OutputGradienter interface {
	Loss
	// OutputGradient builds the gradient of Σ_r Mean(predictions, targets)_r with respect to predictions [R, B, ...].
	OutputGradient(predictions, targets *Node) *Node
}

// OutputGradient implements OutputGradienter: (ŷ − y)/B.
func (HalfSquaredError) OutputGradient(predictions, targets *Node) *Node {
	b := predictions.Shape().Dimensions[1]
	return DivScalar(Sub(predictions, targets), float64(b))
}

// OutputGradient implements OutputGradienter: (softmax(z) − onehot(y))/B.
func (CrossEntropy) OutputGradient(logits, labels *Node) *Node {
	k := logits.Shape().Dimensions[logits.Rank()-1]
	b := logits.Shape().Dimensions[1]
	return DivScalar(Sub(Softmax(logits, -1), OneHot(labels, k, logits.DType())), float64(b))
}
