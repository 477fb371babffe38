package update

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// SGD is plain stochastic gradient descent with a constant learning rate h: θ ← θ − h g. This is the regime the
// paper studies; Decayed adds a learning-rate schedule.
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
	if err := checkLearningRate(s.LearningRate); err != nil {
		return fmt.Errorf("sgd: %w", err)
	}
	return nil
}

// minLearningRate is the smallest learning rate accepted: float32's smallest normal number, 2⁻¹²⁶ ≈ 1.2e-38.
// Below it h is subnormal or zero in a float32 graph, and h·∇L is zero for any gradient below 1: the maps would
// not move θ, silently.
const minLearningRate = 0x1p-126

// checkLearningRate checks a rule's learning rate h: finite, and positive at least minLearningRate.
func checkLearningRate(h float64) error {
	if !(h > 0) || math.IsInf(h, 0) {
		return fmt.Errorf("the learning rate must be positive and finite, got %g", h)
	}
	if h < minLearningRate {
		return fmt.Errorf("the learning rate %g is below float32's smallest normal number %g: the update maps "+
			"would not move θ; use a learning rate of at least that (typical ones are 1e-4 … 1)", h, float64(minLearningRate))
	}
	return nil
}

// StateSize implements Rule: SGD has no state.
func (SGD) StateSize() int { return 0 }

// Apply implements Rule.
func (s SGD) Apply(theta, grad *Node, state []*Node, count *Node) (*Node, []*Node) {
	return s.ApplyScaled(theta, grad, state, count, nil)
}

// ApplyScaled implements Scalable: θ ← θ − h·f·g.
func (s SGD) ApplyScaled(theta, grad *Node, _ []*Node, _, factor *Node) (*Node, []*Node) {
	return Sub(theta, timesRate(grad, s.LearningRate, factor)), nil
}

// Momentum is SGD with heavy-ball momentum as PyTorch computes it: b ← μ b + g, θ ← θ − h b, with the buffer b
// fresh (zero) at the start of every replay.
type Momentum struct {
	// LearningRate is h; Mu the momentum coefficient μ in [0, 1).
	LearningRate, Mu float64
}

// Name implements Rule.
func (Momentum) Name() string { return "momentum" }

// Hyper implements Rule.
func (m Momentum) Hyper() map[string]float64 {
	return map[string]float64{"learning_rate": m.LearningRate, "momentum": m.Mu}
}

// Validate implements Rule.
func (m Momentum) Validate() error {
	if err := checkLearningRate(m.LearningRate); err != nil {
		return fmt.Errorf("momentum: %w", err)
	}
	if !(m.Mu >= 0 && m.Mu < 1) {
		return fmt.Errorf("momentum: μ must be in [0, 1), got %g", m.Mu)
	}
	return nil
}

// StateSize implements Rule: the velocity buffer.
func (Momentum) StateSize() int { return 1 }

// Apply implements Rule.
func (m Momentum) Apply(theta, grad *Node, state []*Node, count *Node) (*Node, []*Node) {
	return m.ApplyScaled(theta, grad, state, count, nil)
}

// ApplyScaled implements Scalable: b ← μ b + g, θ ← θ − h·f·b.
func (m Momentum) ApplyScaled(theta, grad *Node, state []*Node, _, factor *Node) (*Node, []*Node) {
	b := Add(MulScalar(state[0], m.Mu), grad)
	return Sub(theta, timesRate(b, m.LearningRate, factor)), []*Node{b}
}
