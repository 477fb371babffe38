package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// Gradients by hand. While a network is built for Backprop, each layer records on a tape how to send the
// gradient of its output back to its inputs (and to its parameters); running the tape backwards from the
// output's gradient gives every parameter's gradient. This replaces graph.Gradient where GoMLX's generic
// gradients are slow: its gradient of a grouped convolution is one convolution per group, and on the pure-Go
// backend its gradients of matrix products transpose the large operand in full.

// tape records, while a network is built, how to send gradients back through each layer.
type tape struct {
	steps []tapeStep
	grads []*Node // the gradient of each parameter, by parameter index
}

// tapeStep is one layer: its output, its inputs, and the map from the output's gradient to the inputs' gradients
// (nil where no gradient is needed); it stores its parameters' gradients in the tape as a side effect.
type tapeStep struct {
	out  *Node
	ins  []*Node
	back func(dy *Node) []*Node
}

// record adds a layer to the tape (when there is one) and returns its output.
func (n *net) record(out *Node, ins []*Node, back func(dy *Node) []*Node) *Node {
	if n.tape != nil {
		n.tape.steps = append(n.tape.steps, tapeStep{out: out, ins: ins, back: back})
	}
	return out
}

// paramIndex is the index of the parameter param last returned.
func (n *net) paramIndex() int { return n.next - 1 }

// backprop propagates the output's gradient back through the tape, newest layer first, summing the gradients
// of activations used twice (residual connections).
func (t *tape) backprop(out, dout *Node) {
	grads := map[*Node]*Node{out: dout}
	for i := len(t.steps) - 1; i >= 0; i-- {
		s := t.steps[i]
		dy := grads[s.out]
		if dy == nil {
			continue
		}
		delete(grads, s.out)
		for j, d := range s.back(dy) {
			if d == nil {
				continue
			}
			if prev := grads[s.ins[j]]; prev != nil {
				d = Add(prev, d)
			}
			grads[s.ins[j]] = d
		}
	}
	for i, g := range t.grads {
		if g == nil {
			panic(fmt.Sprintf("models: parameter %d received no gradient on the tape", i))
		}
	}
}
