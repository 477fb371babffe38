package update

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2019), as PyTorch's torch.optim.AdamW and
// GoMLX's optimizer.Adam().WeightDecay compute it. With g the gradient and t the step count of the replica:
//
//	m ← β1 m + (1 − β1) g
//	v ← β2 v + (1 − β2) g²
//	θ ← θ − lr · ( (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε) + wd · θ )
//
// State: m and v per parameter, and t per replica (the engine's step count), all fresh (zero) at the start of
// every replay. This is the rule a backward evaluation at step n follows: it starts from θ_0 with fresh state and
// runs AdamW over B_n, B_{n−1}, …, B_1 (the paper's exact rule for stateful optimizers is not available).
type AdamW struct {
	// LearningRate is lr; Beta1 and Beta2 the moment decays; Epsilon the denominator's constant; WeightDecay wd.
	LearningRate, Beta1, Beta2, Epsilon, WeightDecay float64
}

// DefaultAdamW returns AdamW with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8, weight decay 0.01) and the
// given learning rate.
func DefaultAdamW(learningRate float64) AdamW {
	return AdamW{LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.01}
}

// Name implements Rule.
func (AdamW) Name() string { return "adamw" }

// Hyper implements Rule.
func (a AdamW) Hyper() map[string]float64 {
	return map[string]float64{"learning_rate": a.LearningRate, "beta1": a.Beta1, "beta2": a.Beta2,
		"epsilon": a.Epsilon, "weight_decay": a.WeightDecay}
}

// Validate implements Rule.
func (a AdamW) Validate() error {
	if err := checkLearningRate(a.LearningRate); err != nil {
		return fmt.Errorf("adamw: %w", err)
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

// StateSize implements Rule: the two moments.
func (AdamW) StateSize() int { return 2 }

// Apply implements Rule.
func (a AdamW) Apply(theta, grad *Node, state []*Node, count *Node) (*Node, []*Node) {
	return a.ApplyScaled(theta, grad, state, count, nil)
}

// ApplyScaled implements Scalable: the step with lr·f in place of lr (the weight decay scales with it, as under
// PyTorch's learning-rate schedulers).
func (a AdamW) ApplyScaled(theta, grad *Node, state []*Node, count, factor *Node) (*Node, []*Node) {
	m := Add(MulScalar(state[0], a.Beta1), MulScalar(grad, 1-a.Beta1))
	v := Add(MulScalar(state[1], a.Beta2), MulScalar(Square(grad), 1-a.Beta2))
	t := replicaColumn(count, theta.Rank())
	g := theta.Graph()
	one := ScalarOne(g, theta.DType())
	mHat := Div(m, Sub(one, Pow(Scalar(g, theta.DType(), a.Beta1), t)))
	vHat := Div(v, Sub(one, Pow(Scalar(g, theta.DType(), a.Beta2), t)))
	step := Add(Div(mHat, AddScalar(Sqrt(vHat), a.Epsilon)), MulScalar(theta, a.WeightDecay))
	return Sub(theta, timesRate(step, a.LearningRate, factor)), []*Node{m, v}
}

// replicaColumn reshapes a per-replica vector [R] to [R, 1, …, 1] of the given rank, to broadcast against a
// parameter.
func replicaColumn(x *Node, rank int) *Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = x.Shape().Dimensions[0]
	return Reshape(x, dims...)
}
