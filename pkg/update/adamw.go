package update

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2019), as PyTorch's torch.optim.AdamW and
// GoMLX's optimizer.Adam().WeightDecay compute it. With g the gradient and t the step count of the replica:
//
//	μ ← β1 μ + (1 − β1) g
//	ν ← β2 ν + (1 − β2) g²
//	θ ← θ − lr · ( (μ / (1 − β1^t)) / (√(ν / (1 − β2^t)) + ε) + wd · θ )
//
// State: the moments "mu" and "nu" per parameter (optax's ScaleByAdamState), and t per replica (the engine's
// step count), all fresh (zero) at the start of every replay. This is the rule a backward evaluation at step n
// follows: it starts from θ_0 with fresh state and runs AdamW over B_n, B_{n−1}, …, B_1 (the paper's exact rule
// for stateful optimizers is not available).
type AdamW struct {
	// LearningRate is lr; Beta1 and Beta2 the moment decays; Epsilon the denominator's constant; WeightDecay wd.
	LearningRate, Beta1, Beta2, Epsilon, WeightDecay float64
	// Schedule, if set, multiplies lr by f(k) at map k (the weight decay scales with it, as under PyTorch's
	// learning-rate schedulers); nil keeps lr constant.
	Schedule Schedule
}

// DefaultAdamW returns AdamW with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8, weight decay 0.01) and the
// given learning rate.
func DefaultAdamW(learningRate float64) AdamW {
	return AdamW{LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.01}
}

func (a AdamW) rate() rate { return rate{a.LearningRate, a.Schedule} }

// Name implements Rule.
func (a AdamW) Name() string { return a.rate().name("adamw") }

// Hyper implements Rule.
func (a AdamW) Hyper() map[string]float64 {
	return a.rate().hyper(map[string]float64{"beta1": a.Beta1, "beta2": a.Beta2, "epsilon": a.Epsilon,
		"weight_decay": a.WeightDecay})
}

// Validate implements Rule.
func (a AdamW) Validate() error {
	if err := a.rate().validate("adamw"); err != nil {
		return err
	}
	switch {
	case !(a.Beta1 >= 0 && a.Beta1 < 1) || !(a.Beta2 >= 0 && a.Beta2 < 1):
		return fmt.Errorf("adamw: β1 and β2 must be in [0, 1), got %g and %g (DefaultAdamW has PyTorch's)", a.Beta1, a.Beta2)
	case !(a.Epsilon > 0) || math.IsInf(a.Epsilon, 0):
		return fmt.Errorf("adamw: ε must be positive and finite, got %g (PyTorch's default is 1e-8)", a.Epsilon)
	case !(a.WeightDecay >= 0) || math.IsInf(a.WeightDecay, 0):
		return fmt.Errorf("adamw: the weight decay must be non-negative and finite, got %g (PyTorch's default is 0.01)", a.WeightDecay)
	}
	return nil
}

// State implements Rule: the two moments.
func (AdamW) State() []string { return []string{"mu", "nu"} }

// Update implements Rule.
func (a AdamW) Update(theta, grad *Node, state State, count *Node) (*Node, State) {
	mu := Add(MulScalar(state["mu"], a.Beta1), MulScalar(grad, 1-a.Beta1))
	nu := Add(MulScalar(state["nu"], a.Beta2), MulScalar(Square(grad), 1-a.Beta2))
	t := replicaColumn(count, theta.Rank())
	g := theta.Graph()
	one := ScalarOne(g, theta.DType())
	muHat := Div(mu, Sub(one, Pow(Scalar(g, theta.DType(), a.Beta1), t)))
	nuHat := Div(nu, Sub(one, Pow(Scalar(g, theta.DType(), a.Beta2), t)))
	step := Add(Div(muHat, AddScalar(Sqrt(nuHat), a.Epsilon)), MulScalar(theta, a.WeightDecay))
	return Sub(theta, a.rate().times(step, count)), State{"mu": mu, "nu": nu}
}

func (a AdamW) schedule() Schedule { return a.Schedule }

func (a AdamW) withSchedule(x Schedule) Rule { a.Schedule = x; return a }
