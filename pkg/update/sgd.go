package update

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// SGD is plain stochastic gradient descent with a constant learning rate h: θ ← θ − h g. This is the regime the
// paper studies; there is no decay.
type SGD struct {
	// LearningRate is h, positive.
	LearningRate float64
}

// Name implements Rule.
func (SGD) Name() string { return "sgd" }

// Hyper implements Rule.
func (s SGD) Hyper() map[string]float64 { return map[string]float64{"learning_rate": s.LearningRate} }

// Validate implements Rule.
func (s SGD) Validate() error {
	if !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0) {
		return fmt.Errorf("sgd: the learning rate must be positive and finite, got %g", s.LearningRate)
	}
	return nil
}

// StateSize implements Rule: SGD has no state.
func (SGD) StateSize() int { return 0 }

// Apply implements Rule.
func (s SGD) Apply(theta, grad *Node, _ []*Node, _ *Node) (*Node, []*Node) {
	return Sub(theta, MulScalar(grad, s.LearningRate)), nil
}
