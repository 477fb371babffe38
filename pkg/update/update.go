// Package update defines update maps: one optimizer step on one batch, T_i(θ) = θ − h ∇L_{B_i}(θ) for SGD.
//
// A Rule is the optimizer part of an update map, shaped like optax's GradientTransformation: it names the state
// it keeps (State, fresh state being zeros, as optax's init returns) and builds the step that turns the
// gradient of the batch loss into new parameters and new state (Update). A learning rate may decay by a
// Schedule, a value like any other hyper-parameter; Averaged composes a rule with an average of its iterates.
// Rules build graphs for replicas: every tensor carries a leading replica axis, and replicas never mix.
//
// revsgd writes its rules itself instead of using GoMLX's optimizers, whose updates are bound to model.Store
// variables and share one global step counter: a replay needs the rule's state reset to fresh at will, replicated
// per replica, and frozen for replicas that are idle in a lockstep group. The SGD rule is tested to give the same
// numbers as GoMLX's optimizer.StochasticGradientDescent().WithDecay(false).
package update

import (
	"fmt"
	"math"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
)

// Rule is the optimizer step inside an update map.
type Rule interface {
	// Name identifies the rule, e.g. "sgd", or "sgd+cosine" for SGD under a cosine schedule.
	Name() string
	// Hyper returns the rule's hyper-parameters by name, for configurations and labels.
	Hyper() map[string]float64
	// Validate checks the hyper-parameters and says how to fix them.
	Validate() error
	// State names the state the rule keeps for each parameter tensor, in a fixed order (the order checkpoints
	// store it in): AdamW's moments "mu" and "nu", Momentum's "momentum". Each is a tensor of the parameter's
	// shape, fresh (all zeros) at the start of every replay. A rule whose state includes Average reports that
	// average as its iterate instead of θ.
	State() []string
	// Update builds one step for one parameter tensor: theta and grad have shape [R, ...], state holds the
	// tensors State names, of the same shape, and count [R] (the dtype of theta) is the number of steps each
	// replica has taken, this one included. It returns the new parameter and the new state, under the same
	// names. Graph-building code: it panics on error.
	Update(theta, grad *Node, state State, count *Node) (*Node, State)
}

// State is a rule's state for one parameter tensor, by name (see Rule.State).
type State map[string]*Node

// Average is the name of the state that holds an average of the iterates (Averaged): the iterate a rule that
// keeps it reports, evaluates and stores, while its maps go on acting on θ.
const Average = "average"

// Averages says whether a rule keeps the state Average, and so reports an average of its iterates instead of θ.
func Averages(r Rule) bool { return slices.Contains(r.State(), Average) }

// FromConfig returns the rule with the given name and hyper-parameters, as Name and Hyper write them (a run's
// configuration): the inverse of those two methods. A missing or unknown hyper-parameter is an error.
func FromConfig(name string, hyper map[string]float64) (Rule, error) {
	if i := strings.LastIndex(name, "+"); i >= 0 {
		return composedFromConfig(name[:i], name[i+1:], hyper)
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
			"+cosine or +step (a Schedule) and then by +ema or +tail (Averaged)", name)
	}
	return r, err
}

// composedFromConfig rebuilds a rule named base+"+"+kind from its hyper-parameters: a schedule's (decay_horizon)
// or an average's (ema_decay or tail_start), and the base rule's.
func composedFromConfig(base, kind string, hyper map[string]float64) (Rule, error) {
	key := map[string]string{Cosine{}.Name(): "decay_horizon", StepDecay{}.Name(): "decay_horizon",
		"ema": "ema_decay", "tail": "tail_start"}[kind]
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
	if kind != "ema" && (v != math.Trunc(v) || v < 0 || v > 1<<40) {
		return nil, fmt.Errorf("update: rule %q: %s must be a whole number of steps, got %g", base+"+"+kind, key, v)
	}
	var r Rule
	switch kind {
	case "ema":
		r = Averaged{Rule: inner, EMA: v}
	case "tail":
		r = Averaged{Rule: inner, TailStart: int(v)}
	default:
		s, ok := inner.(scheduled)
		if !ok || s.schedule() != nil {
			return nil, fmt.Errorf("update: rule %q: %s has no constant learning rate to decay", base+"+"+kind, base)
		}
		schedule := map[string]Schedule{Cosine{}.Name(): Cosine{Horizon: int(v)}, StepDecay{}.Name(): StepDecay{Horizon: int(v)}}[kind]
		r = s.withSchedule(schedule)
	}
	return r, r.Validate()
}
