package update

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// SGD is plain stochastic gradient descent: θ ← θ − h g, with a constant learning rate h — the regime the paper
// studies — or one that a Schedule decays.
type SGD struct {
	// LearningRate is h, positive.
	LearningRate float64
	// Schedule, if set, multiplies h by f(k) at map k (e.g. Cosine{Horizon: N}); nil keeps h constant.
	Schedule Schedule
}

func (s SGD) rate() rate { return rate{s.LearningRate, s.Schedule} }

// Name implements Rule: "sgd", or e.g. "sgd+cosine" under a schedule.
func (s SGD) Name() string { return s.rate().name("sgd") }

// Hyper implements Rule: learning_rate, and the schedule's.
func (s SGD) Hyper() map[string]float64 { return s.rate().hyper(nil) }

// Validate implements Rule.
func (s SGD) Validate() error { return s.rate().validate("sgd") }

// State implements Rule: SGD keeps none.
func (SGD) State() []string { return nil }

// Update implements Rule: θ ← θ − h·f(count)·g.
func (s SGD) Update(theta, grad *Node, _ State, count *Node) (*Node, State) {
	return Sub(theta, s.rate().times(grad, count)), nil
}

func (s SGD) schedule() Schedule { return s.Schedule }

func (s SGD) withSchedule(x Schedule) Rule { s.Schedule = x; return s }

// Momentum is SGD with heavy-ball momentum as PyTorch computes it: b ← μ b + g, θ ← θ − h b, with the buffer b
// (the state "momentum") fresh at the start of every replay.
type Momentum struct {
	// LearningRate is h; Mu the momentum coefficient μ in [0, 1).
	LearningRate, Mu float64
	// Schedule, if set, multiplies h by f(k) at map k; nil keeps h constant.
	Schedule Schedule
}

func (m Momentum) rate() rate { return rate{m.LearningRate, m.Schedule} }

// Name implements Rule.
func (m Momentum) Name() string { return m.rate().name("momentum") }

// Hyper implements Rule.
func (m Momentum) Hyper() map[string]float64 {
	return m.rate().hyper(map[string]float64{"momentum": m.Mu})
}

// Validate implements Rule.
func (m Momentum) Validate() error {
	if err := m.rate().validate("momentum"); err != nil {
		return err
	}
	if !(m.Mu >= 0 && m.Mu < 1) {
		return fmt.Errorf("momentum: μ must be in [0, 1), got %g", m.Mu)
	}
	return nil
}

// State implements Rule: the velocity buffer.
func (Momentum) State() []string { return []string{"momentum"} }

// Update implements Rule: b ← μ b + g, θ ← θ − h·f(count)·b.
func (m Momentum) Update(theta, grad *Node, state State, count *Node) (*Node, State) {
	b := Add(MulScalar(state["momentum"], m.Mu), grad)
	return Sub(theta, m.rate().times(b, count)), State{"momentum": b}
}

func (m Momentum) schedule() Schedule { return m.Schedule }

func (m Momentum) withSchedule(x Schedule) Rule { m.Schedule = x; return m }
