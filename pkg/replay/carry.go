package replay

import (
	"slices"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/update"
)

// Carry is what one replica carries from one update map to the next: θ, the optimizer state (one vector per name
// of the rule's State, in that order, each laid out like θ) and the optimizer's step count.
type Carry struct {
	Theta []float64
	State [][]float64
	Count float64
}

// layout places a group's carry in the flat list of tensors its graphs take and return: the parameter tensors,
// then each parameter's state under the rule's names (update.Rule.State), then the step count [R].
type layout struct {
	params int      // the number of parameter tensors
	state  []string // the rule's state names, in order
}

// layout returns the engine's carry layout.
func (e *Engine) layout() layout { return layout{len(e.params), e.rule.State()} }

// size is the number of tensors in a carry.
func (l layout) size() int { return l.params*(1+len(l.state)) + 1 }

// stateAt is the index of parameter i's state j (the j-th name).
func (l layout) stateAt(i, j int) int { return l.params + i*len(l.state) + j }

// stateOf returns parameter i's state from a carry, by name.
func (l layout) stateOf(carry []*Node, i int) update.State {
	s := make(update.State, len(l.state))
	for j, name := range l.state {
		s[name] = carry[l.stateAt(i, j)]
	}
	return s
}

// reported is the index in State of the state the rule reports as its iterate, or -1 for θ.
func (l layout) reported() int { return slices.Index(l.state, update.Average) }

// iterateTensors returns, from a group's carry, the tensors of the iterate it reports, one per parameter: the
// parameters themselves, or for an averaged rule the average it keeps.
func (e *Engine) iterateTensors(carry []*tensors.Tensor) []*tensors.Tensor {
	l := e.layout()
	j := l.reported()
	if j < 0 {
		return carry[:l.params]
	}
	out := make([]*tensors.Tensor, l.params)
	for i := range out {
		out[i] = carry[l.stateAt(i, j)]
	}
	return out
}

// Iterate returns the iterate a carry reports: its θ, or for an averaged rule the average it keeps (nil if the
// carry has no state). This is what orders report, what is evaluated and what is stored; the carry's Theta is
// what the next map acts on.
func (e *Engine) Iterate(c Carry) []float64 {
	j := e.layout().reported()
	if j < 0 {
		return c.Theta
	}
	if c.State == nil {
		return nil
	}
	return c.State[j]
}
