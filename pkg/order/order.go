// Package order defines composition orders: which update maps are applied, in what order, from which starting
// point, to produce the iterate reported at step n.
//
// With T_i the update map of batch B_i:
//
//	forward  (ordinary SGD):  θ_n = T_n ∘ T_{n−1} ∘ … ∘ T_1(θ_0)
//	backward:                 θ_n = T_1 ∘ T_2 ∘ … ∘ T_n(θ_0)
//
// An order is written as a plan of replays. A Replay starts from an iterate of the same order (θ_0, or the
// iterate at an earlier step) and applies the maps of a list of steps, first to last; the iterates it reaches
// along the way are reported at the steps it names. Forward is one long replay reporting as it goes; backward is
// one replay per evaluated step, each restarting from θ_0 and applying B_n first and B_1 last. Replays that do not
// depend on each other are independent, and the replay engine runs them as replicas in lockstep.
//
// A new order is a type with a Plan method.
package order

import (
	"fmt"
	"slices"
)

// Order is a composition order of update maps.
type Order interface {
	// Name identifies the order, e.g. "forward".
	Name() string
	// Plan returns the replays that compute the order's iterates at the evaluated steps (sorted, distinct, ≥ 1).
	Plan(evaluated []int) []Replay
}

// Replay is one chain of update maps.
type Replay struct {
	// From is the step of the order's own iterate the chain starts from: 0 for θ_0. Another replay of the same
	// plan must report it, unless it is 0.
	From int
	// Steps lists the batches whose update maps are applied, first to last: Steps = [5, 4, 3] computes
	// T_3 ∘ T_4 ∘ T_5(θ_From).
	Steps []int
	// Reports names the iterates reached along the chain.
	Reports []Report
}

// Report says that after applying the first After maps of a replay, the iterate is the order's iterate at Step.
type Report struct {
	After, Step int
}

// Cost returns the number of update maps a plan applies: the price of an order in gradient evaluations.
func Cost(plan []Replay) int {
	n := 0
	for _, r := range plan {
		n += len(r.Steps)
	}
	return n
}

// Check verifies that a plan is well formed for the evaluated steps: every evaluated step is reported exactly
// once, every replay starts from θ_0 or a reported iterate, and reports lie within their replay.
func Check(plan []Replay, evaluated []int) error {
	reported := map[int]bool{}
	for _, r := range plan {
		for _, rep := range r.Reports {
			if rep.After < 1 || rep.After > len(r.Steps) {
				return fmt.Errorf("order: report of step %d after %d maps, but the replay applies %d", rep.Step, rep.After, len(r.Steps))
			}
			if reported[rep.Step] {
				return fmt.Errorf("order: step %d is reported twice", rep.Step)
			}
			reported[rep.Step] = true
		}
	}
	for _, r := range plan {
		if r.From != 0 && !reported[r.From] {
			return fmt.Errorf("order: a replay starts from step %d, which no replay reports", r.From)
		}
	}
	for _, n := range evaluated {
		if !reported[n] {
			return fmt.Errorf("order: evaluated step %d is not reported", n)
		}
	}
	return nil
}

// Forward is ordinary SGD: θ_n = T_n ∘ … ∘ T_1(θ_0), one chain that reports at every evaluated step.
type Forward struct{}

// Name implements Order.
func (Forward) Name() string { return "forward" }

// Plan implements Order: one replay over steps 1..max(evaluated).
func (Forward) Plan(evaluated []int) []Replay {
	if len(evaluated) == 0 {
		return nil
	}
	last := slices.Max(evaluated)
	r := Replay{From: 0, Steps: ascending(1, last)}
	for _, n := range evaluated {
		r.Reports = append(r.Reports, Report{After: n, Step: n})
	}
	return []Replay{r}
}

// Backward is backward SGD: θ_n = T_1 ∘ … ∘ T_n(θ_0). Each evaluated step replays from θ_0, newest batch first,
// at a cost of n maps.
type Backward struct{}

// Name implements Order.
func (Backward) Name() string { return "backward" }

// Plan implements Order: one replay per evaluated step n, over steps n, n−1, …, 1.
func (Backward) Plan(evaluated []int) []Replay {
	plan := make([]Replay, 0, len(evaluated))
	for _, n := range evaluated {
		plan = append(plan, Replay{From: 0, Steps: descending(n, 1), Reports: []Report{{After: n, Step: n}}})
	}
	return plan
}

// ascending returns lo, lo+1, …, hi.
func ascending(lo, hi int) []int {
	s := make([]int, 0, hi-lo+1)
	for k := lo; k <= hi; k++ {
		s = append(s, k)
	}
	return s
}

// descending returns hi, hi−1, …, lo.
func descending(hi, lo int) []int {
	s := make([]int, 0, hi-lo+1)
	for k := hi; k >= lo; k-- {
		s = append(s, k)
	}
	return s
}

// ByName returns the order with the given name: "forward", "backward", "intermittent-wW" (resets every W
// steps) or "switch-sS" (forward to step S, then backward).
func ByName(name string) (Order, error) {
	switch name {
	case "forward":
		return Forward{}, nil
	case "backward":
		return Backward{}, nil
	}
	if o, ok, err := parseOrder(name); ok {
		return o, err
	}
	return nil, fmt.Errorf("order: unknown composition order %q; known: forward, backward, intermittent-wW "+
		"(e.g. intermittent-w100), switch-sS (e.g. switch-s1000)", name)
}
