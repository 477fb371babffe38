package update

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// Scalable is a rule whose learning rate can be multiplied by a factor that changes from map to map: what a
// learning-rate schedule (Decayed) needs. SGD, Momentum and AdamW are Scalable.
type Scalable interface {
	Rule
	// ApplyScaled is Apply with the learning rate multiplied by factor, one value per replica ([R], the dtype of
	// theta); a nil factor is Apply itself.
	ApplyScaled(theta, grad *Node, state []*Node, count, factor *Node) (*Node, []*Node)
}

// timesRate returns h·x, or with a per-replica factor f [R] (f·h)·x.
func timesRate(x *Node, h float64, factor *Node) *Node {
	if factor == nil {
		return MulScalar(x, h)
	}
	return Mul(x, MulScalar(replicaColumn(factor, x.Rank()), h))
}

// DecayShape is the shape of a learning-rate decay over a horizon of N maps: the factor f(k) the learning rate of
// map k is multiplied by.
type DecayShape string

const (
	// Cosine decays as f(k) = ½(1 + cos(π (k−1)/N)) for k ≤ N: from 1 at the first map to 0 after the horizon
	// (PyTorch's CosineAnnealingLR to a minimum of 0); f(k) = 0 beyond it.
	Cosine DecayShape = "cosine"
	// Steps multiplies by 0.1 after half the horizon and again after three quarters: f(k) = 1 for k−1 < N/2,
	// 0.1 for N/2 ≤ k−1 < 3N/4, 0.01 after (PyTorch's MultiStepLR at milestones N/2 and 3N/4, γ = 0.1).
	Steps DecayShape = "step"
)

// stepDecayFactor and the milestones (fractions of the horizon) of the Steps shape.
const stepDecayFactor = 0.1

var stepMilestones = [2]float64{0.5, 0.75}

// Decayed is a rule whose learning rate decays to a horizon: map k applies the rule with its learning rate
// multiplied by Shape's factor f(k), k being the replica's step count (for forward SGD, the step). It is the
// baseline that makes forward iterates settle by taking smaller and smaller steps, against which backward SGD's
// settling at a constant learning rate is compared.
type Decayed struct {
	// Rule is the rule whose learning rate decays.
	Rule Scalable
	// Shape is Cosine or Steps.
	Shape DecayShape
	// Horizon is N, the number of maps the decay spans (a run's number of steps).
	Horizon int
}

// Name implements Rule: the rule's name and the shape, e.g. "sgd+cosine".
func (d Decayed) Name() string { return d.Rule.Name() + "+" + string(d.Shape) }

// Hyper implements Rule: the rule's hyper-parameters and decay_horizon.
func (d Decayed) Hyper() map[string]float64 {
	h := d.Rule.Hyper()
	h["decay_horizon"] = float64(d.Horizon)
	return h
}

// Validate implements Rule.
func (d Decayed) Validate() error {
	if d.Rule == nil {
		return fmt.Errorf("decay: no rule to decay the learning rate of (e.g. update.SGD{LearningRate: 0.1})")
	}
	if err := d.Rule.Validate(); err != nil {
		return err
	}
	if d.Shape != Cosine && d.Shape != Steps {
		return fmt.Errorf("decay: unknown shape %q; use update.Cosine or update.Steps", d.Shape)
	}
	if d.Horizon < 1 || d.Horizon > 1<<40 {
		return fmt.Errorf("decay: the horizon must be a positive number of maps (the run's steps), got %d", d.Horizon)
	}
	return nil
}

// StateSize implements Rule: the rule's.
func (d Decayed) StateSize() int { return d.Rule.StateSize() }

// Factor returns f(k), the factor of map k (k ≥ 1).
func (d Decayed) Factor(k int) float64 {
	done, n := float64(k-1), float64(d.Horizon)
	if d.Shape == Cosine {
		return 0.5 * (1 + math.Cos(math.Pi*min(done, n)/n))
	}
	f := 1.0
	for _, m := range stepMilestones {
		if done >= m*n {
			f *= stepDecayFactor
		}
	}
	return f
}

// Apply implements Rule: the rule with its learning rate times f(count).
func (d Decayed) Apply(theta, grad *Node, state []*Node, count *Node) (*Node, []*Node) {
	done, n := AddScalar(count, -1), float64(d.Horizon)
	var factor *Node
	if d.Shape == Cosine {
		factor = MulScalar(AddScalar(Cos(MulScalar(MinScalar(done, n), math.Pi/n)), 1), 0.5)
	} else {
		factor = OnesLike(count)
		for _, m := range stepMilestones {
			past := GreaterOrEqual(done, Scalar(count.Graph(), count.DType(), m*n))
			factor = Where(past, MulScalar(factor, stepDecayFactor), factor)
		}
	}
	return d.Rule.ApplyScaled(theta, grad, state, count, factor)
}
