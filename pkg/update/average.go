package update

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// Averaged composes a rule with a running average ā of the iterates its maps produce, kept as the state Average
// and reported in place of θ, while the maps go on acting on θ: the iterate-averaging baselines of forward SGD. After map k (θ_k its result),
//
//	ā_k = ā_{k−1} + w_k (θ_k − ā_{k−1}),   ā_0 = θ_0,
//
// with w_k = 1 − β for an exponential moving average of decay β (EMA), and for a tail (Polyak–Ruppert, SWA)
// average from step S, w_k = 1/(k − S + 1) for k ≥ S and 1 before, so that ā_n = θ_n for n < S and
// ā_n = (θ_S + … + θ_n)/(n − S + 1) after. Exactly one of EMA and TailStart is set.
//
// An average of forward iterates converges to the mean of the stationary law, while a backward iterate converges
// to a point drawn from that law; this rule is what lets the two be compared on the same runs.
type Averaged struct {
	// Rule is the rule whose iterates are averaged.
	Rule Rule
	// EMA is the decay β ∈ (0, 1) of an exponential moving average; 0 for a tail average.
	EMA float64
	// TailStart is the first step S of a tail average (≥ 1); 0 for an exponential moving average.
	TailStart int
}

// Name implements Rule: the rule's name and the kind of average, e.g. "sgd+ema" or "sgd+tail".
func (a Averaged) Name() string {
	if a.TailStart > 0 {
		return a.Rule.Name() + "+tail"
	}
	return a.Rule.Name() + "+ema"
}

// Hyper implements Rule: the rule's hyper-parameters and ema_decay or tail_start.
func (a Averaged) Hyper() map[string]float64 {
	h := a.Rule.Hyper()
	if a.TailStart > 0 {
		h["tail_start"] = float64(a.TailStart)
	} else {
		h["ema_decay"] = a.EMA
	}
	return h
}

// Validate implements Rule.
func (a Averaged) Validate() error {
	if a.Rule == nil {
		return fmt.Errorf("average: no rule whose iterates to average (e.g. update.SGD{LearningRate: 0.1})")
	}
	if Averages(a.Rule) {
		return fmt.Errorf("average: the rule %s already reports an average; average the plain rule", a.Rule.Name())
	}
	if err := a.Rule.Validate(); err != nil {
		return err
	}
	switch {
	case a.TailStart == 0 && !(a.EMA > 0 && a.EMA < 1):
		return fmt.Errorf("average: the EMA decay β must be in (0, 1), got %g (0.99 and 0.999 are usual), or set "+
			"TailStart for a tail average", a.EMA)
	case a.TailStart != 0 && a.EMA != 0:
		return fmt.Errorf("average: set either EMA (%g) or TailStart (%d), not both", a.EMA, a.TailStart)
	case a.TailStart < 0 || a.TailStart > 1<<40:
		return fmt.Errorf("average: the tail average's first step must be positive, got %d", a.TailStart)
	}
	return nil
}

// State implements Rule: the rule's state, then Average.
func (a Averaged) State() []string { return append(a.Rule.State(), Average) }

// Weight returns w_k, the weight of θ_k in the average after map k (k ≥ 1).
func (a Averaged) Weight(k int) float64 {
	if a.TailStart == 0 {
		return 1 - a.EMA
	}
	return 1 / float64(max(k-a.TailStart+1, 1))
}

// Update implements Rule: the rule's map, then the average. Before the first map the average is θ_0 itself.
func (a Averaged) Update(theta, grad *Node, state State, count *Node) (*Node, State) {
	next, out := a.Rule.Update(theta, grad, state, count)
	prev := Where(Equal(count, OnesLike(count)), theta, state[Average])
	var step *Node
	if a.TailStart == 0 {
		step = MulScalar(Sub(next, prev), 1-a.EMA)
	} else {
		w := Reciprocal(MaxScalar(AddScalar(count, float64(1-a.TailStart)), 1))
		step = Mul(Sub(next, prev), replicaColumn(w, theta.Rank()))
	}
	if out == nil {
		out = State{}
	}
	out[Average] = Add(prev, step)
	return next, out
}
