// Package update defines update maps: one optimizer step on one batch, T_i(θ) = θ − h ∇L_{B_i}(θ) for SGD.
//
// A Rule is the optimizer part of an update map: it turns the gradient of the batch loss into new parameters, and
// may carry state (momentum, Adam moments) from one map to the next. Rules build graphs for replicas: every
// tensor carries a leading replica axis, and replicas never mix.
//
// revsgd writes its rules itself instead of using GoMLX's optimizers, whose updates are bound to model.Store
// variables and share one global step counter: a replay needs the rule's state reset to fresh at will, replicated
// per replica, and frozen for replicas that are idle in a lockstep group. The SGD rule is tested to give the same
// numbers as GoMLX's optimizer.StochasticGradientDescent().WithDecay(false).
package update

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
)

// Rule is the optimizer step inside an update map.
type Rule interface {
	// Name identifies the rule, e.g. "sgd".
	Name() string
	// Hyper returns the rule's hyper-parameters by name, for configurations and labels.
	Hyper() map[string]float64
	// Validate checks the hyper-parameters and says how to fix them.
	Validate() error
	// StateSize is the number of state tensors the rule keeps per parameter tensor, each of the parameter's shape.
	// Fresh state is all zeros.
	StateSize() int
	// Apply builds one step for one parameter tensor: theta and grad have shape [R, ...], state holds StateSize()
	// tensors of that shape, and count [R] (the dtype of theta) is the number of steps each replica has taken,
	// this one included. It returns the new parameter and state. Graph-building code: it panics on error.
	Apply(theta, grad *Node, state []*Node, count *Node) (*Node, []*Node)
}

// FromConfig returns the rule with the given name and hyper-parameters, as Name and Hyper write them (a run's
// configuration): the inverse of those two methods. A missing or unknown hyper-parameter is an error.
func FromConfig(name string, hyper map[string]float64) (Rule, error) {
	if i := strings.LastIndex(name, "+"); i >= 0 {
		return wrapperFromConfig(name[:i], name[i+1:], hyper)
	}
	get := func(keys ...string) ([]float64, error) {
		if len(hyper) != len(keys) {
			return nil, fmt.Errorf("update: rule %q takes the hyper-parameters %v, got %v", name, keys, hyper)
		}
		out := make([]float64, len(keys))
		for i, k := range keys {
			v, ok := hyper[k]
			if !ok {
				return nil, fmt.Errorf("update: rule %q needs the hyper-parameter %q, got %v", name, k, hyper)
			}
			out[i] = v
		}
		return out, nil
	}
	var (
		r   Rule
		v   []float64
		err error
	)
	switch name {
	case SGD{}.Name():
		if v, err = get("learning_rate"); err == nil {
			r = SGD{LearningRate: v[0]}
		}
	case Momentum{}.Name():
		if v, err = get("learning_rate", "momentum"); err == nil {
			r = Momentum{LearningRate: v[0], Mu: v[1]}
		}
	case AdamW{}.Name():
		if v, err = get("learning_rate", "beta1", "beta2", "epsilon", "weight_decay"); err == nil {
			r = AdamW{LearningRate: v[0], Beta1: v[1], Beta2: v[2], Epsilon: v[3], WeightDecay: v[4]}
		}
	default:
		return nil, fmt.Errorf("update: unknown rule %q; known: sgd, momentum, adamw, each optionally followed by "+
			"+cosine or +step (Decayed) and then by +ema or +tail (Averaged)", name)
	}
	return r, err
}

// wrapperFromConfig rebuilds a Decayed or Averaged rule, named base+"+"+kind, from its hyper-parameters: the
// wrapper's own (decay_horizon, ema_decay or tail_start) and the base rule's.
func wrapperFromConfig(base, kind string, hyper map[string]float64) (Rule, error) {
	key := map[string]string{string(Cosine): "decay_horizon", string(Steps): "decay_horizon", "ema": "ema_decay",
		"tail": "tail_start"}[kind]
	if key == "" {
		return nil, fmt.Errorf("update: unknown rule %q; after a \"+\" come cosine, step, ema or tail", base+"+"+kind)
	}
	v, ok := hyper[key]
	if !ok {
		return nil, fmt.Errorf("update: rule %q needs the hyper-parameter %q, got %v", base+"+"+kind, key, hyper)
	}
	rest := make(map[string]float64, len(hyper)-1)
	for k, x := range hyper {
		if k != key {
			rest[k] = x
		}
	}
	inner, err := FromConfig(base, rest)
	if err != nil {
		return nil, err
	}
	whole := func(x float64) (int, error) {
		if x != math.Trunc(x) || x < 0 || x > 1<<40 {
			return 0, fmt.Errorf("update: rule %q: %s must be a whole number of steps, got %g", base+"+"+kind, key, x)
		}
		return int(x), nil
	}
	var r Rule
	switch kind {
	case "ema":
		r = Averaged{Rule: inner, EMA: v}
	case "tail":
		n, err := whole(v)
		if err != nil {
			return nil, err
		}
		r = Averaged{Rule: inner, TailStart: n}
	default:
		s, ok := inner.(Scalable)
		if !ok {
			return nil, fmt.Errorf("update: rule %q: %s has no learning rate to decay", base+"+"+kind, base)
		}
		n, err := whole(v)
		if err != nil {
			return nil, err
		}
		r = Decayed{Rule: s, Shape: DecayShape(kind), Horizon: n}
	}
	return r, r.Validate()
}
