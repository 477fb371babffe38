package update

import (
	"fmt"
	"maps"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// Schedule is a learning-rate schedule, a value a rule takes beside its learning rate h (as optax's rules take
// a schedule in place of a number): map k applies the rule with the learning rate h·f(k), k being the replica's
// step count (for forward SGD, the step). A decaying schedule is the baseline that makes forward iterates settle
// by taking smaller and smaller steps, against which backward SGD's settling at a constant h is compared.
type Schedule interface {
	// Name identifies the schedule; a scheduled rule's name is the rule's, "+" and this, e.g. "sgd+cosine".
	Name() string
	// Hyper returns the schedule's hyper-parameters by name; they join the rule's.
	Hyper() map[string]float64
	// Validate checks the hyper-parameters and says how to fix them.
	Validate() error
	// Factor returns f(k), the factor of map k (k ≥ 1).
	Factor(k int) float64
	// Graph builds f(count) for each replica's step count [R]: Factor in a graph.
	Graph(count *Node) *Node
}

// Cosine decays to a horizon of N maps as f(k) = ½(1 + cos(π (k−1)/N)) for k ≤ N: from 1 at the first map to 0
// after the horizon (PyTorch's CosineAnnealingLR to a minimum of 0); f(k) = 0 beyond it.
type Cosine struct {
	// Horizon is N, the number of maps the decay spans (a run's number of steps).
	Horizon int
}

// Name implements Schedule.
func (Cosine) Name() string { return "cosine" }

// Hyper implements Schedule.
func (c Cosine) Hyper() map[string]float64 {
	return map[string]float64{"decay_horizon": float64(c.Horizon)}
}

// Validate implements Schedule.
func (c Cosine) Validate() error { return checkHorizon(c.Horizon) }

// Factor implements Schedule.
func (c Cosine) Factor(k int) float64 {
	done, n := float64(k-1), float64(c.Horizon)
	return 0.5 * (1 + math.Cos(math.Pi*min(done, n)/n))
}

// Graph implements Schedule.
func (c Cosine) Graph(count *Node) *Node {
	done, n := AddScalar(count, -1), float64(c.Horizon)
	return MulScalar(AddScalar(Cos(MulScalar(MinScalar(done, n), math.Pi/n)), 1), 0.5)
}

// StepDecay multiplies by 0.1 after half a horizon of N maps and again after three quarters: f(k) = 1 for
// k−1 < N/2, 0.1 for N/2 ≤ k−1 < 3N/4, 0.01 after (PyTorch's MultiStepLR at milestones N/2 and 3N/4, γ = 0.1).
type StepDecay struct {
	// Horizon is N, the number of maps the decay spans (a run's number of steps).
	Horizon int
}

// stepDecayFactor and the milestones (fractions of the horizon) of StepDecay.
const stepDecayFactor = 0.1

var stepMilestones = [2]float64{0.5, 0.75}

// Name implements Schedule.
func (StepDecay) Name() string { return "step" }

// Hyper implements Schedule.
func (s StepDecay) Hyper() map[string]float64 {
	return map[string]float64{"decay_horizon": float64(s.Horizon)}
}

// Validate implements Schedule.
func (s StepDecay) Validate() error { return checkHorizon(s.Horizon) }

// Factor implements Schedule.
func (s StepDecay) Factor(k int) float64 {
	done, n, f := float64(k-1), float64(s.Horizon), 1.0
	for _, m := range stepMilestones {
		if done >= m*n {
			f *= stepDecayFactor
		}
	}
	return f
}

// Graph implements Schedule.
func (s StepDecay) Graph(count *Node) *Node {
	done, n, f := AddScalar(count, -1), float64(s.Horizon), OnesLike(count)
	for _, m := range stepMilestones {
		past := GreaterOrEqual(done, Scalar(count.Graph(), count.DType(), m*n))
		f = Where(past, MulScalar(f, stepDecayFactor), f)
	}
	return f
}

// checkHorizon checks a decay's horizon: a positive number of maps.
func checkHorizon(n int) error {
	if n < 1 || n > 1<<40 {
		return fmt.Errorf("decay: the horizon must be a positive number of maps (the run's steps), got %d", n)
	}
	return nil
}

// scheduled is a rule with a learning rate that a Schedule can decay: SGD, Momentum and AdamW.
type scheduled interface {
	Rule
	schedule() Schedule
	withSchedule(Schedule) Rule
}

// rate is a rule's learning rate h and its schedule (nil: constant), the part of SGD, Momentum and AdamW that
// names, validates and applies it.
type rate struct {
	h        float64
	schedule Schedule
}

// name returns the rule's name with the schedule's appended.
func (r rate) name(rule string) string {
	if r.schedule == nil {
		return rule
	}
	return rule + "+" + r.schedule.Name()
}

// hyper returns the rule's hyper-parameters with learning_rate and the schedule's.
func (r rate) hyper(others map[string]float64) map[string]float64 {
	out := map[string]float64{"learning_rate": r.h}
	maps.Copy(out, others)
	if r.schedule != nil {
		maps.Copy(out, r.schedule.Hyper())
	}
	return out
}

// minLearningRate is the smallest learning rate accepted: float32's smallest normal number, 2⁻¹²⁶ ≈ 1.2e-38.
// Below it h is subnormal or zero in a float32 graph, and h·∇L is zero for any gradient below 1: the maps would
// not move θ, silently.
const minLearningRate = 0x1p-126

// validate checks h (finite, and positive at least minLearningRate) and the schedule.
func (r rate) validate(rule string) error {
	if !(r.h > 0) || math.IsInf(r.h, 0) {
		return fmt.Errorf("%s: the learning rate must be positive and finite, got %g", rule, r.h)
	}
	if r.h < minLearningRate {
		return fmt.Errorf("%s: the learning rate %g is below float32's smallest normal number %g: the update maps "+
			"would not move θ; use a learning rate of at least that (typical ones are 1e-4 … 1)", rule, r.h, float64(minLearningRate))
	}
	if r.schedule != nil {
		return r.schedule.Validate()
	}
	return nil
}

// times returns h·x, or under a schedule (f(count)·h)·x, f taken per replica.
func (r rate) times(x, count *Node) *Node {
	if r.schedule == nil {
		return MulScalar(x, r.h)
	}
	return Mul(x, MulScalar(replicaColumn(r.schedule.Graph(count), x.Rank()), r.h))
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
