package models

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/revsgd/revsgd/pkg/rng"
)

// Activation names a hidden-layer nonlinearity.
type Activation string

const (
	// TanhActivation is the hyperbolic tangent.
	TanhActivation Activation = "tanh"
	// ReLUActivation is max(x, 0).
	ReLUActivation Activation = "relu"
)

// MLP is a fully connected network: Widths[0] inputs, hidden layers of Widths[1:len−1] units with the
// activation, and a linear output layer of Widths[len−1] units. Inputs with more than one feature axis (images)
// are flattened.
//
// Initialisation is PyTorch's default for linear layers: weights and biases uniform in ±1/√fan_in, drawn layer
// by layer, weights (row-major, [in, out]) before biases.
type MLP struct {
	// Widths lists the layer widths from input to output; at least two.
	Widths []int
	// Activation is the hidden nonlinearity (unused, and may be empty, without hidden layers).
	Activation Activation
}

// Validate checks the widths and activation.
func (m MLP) Validate() error {
	if len(m.Widths) < 2 {
		return fmt.Errorf("mlp: need at least input and output widths, got %v", m.Widths)
	}
	for _, w := range m.Widths {
		if w <= 0 {
			return fmt.Errorf("mlp: widths must be positive, got %v", m.Widths)
		}
	}
	if len(m.Widths) > 2 && m.Activation != TanhActivation && m.Activation != ReLUActivation {
		return fmt.Errorf("mlp: unknown activation %q; use %q or %q", m.Activation, TanhActivation, ReLUActivation)
	}
	return nil
}

// Name implements Model, e.g. "mlp-8-32-32-1-tanh" ("mlp-3-1" for a linear model).
func (m MLP) Name() string {
	parts := make([]string, len(m.Widths))
	for i, w := range m.Widths {
		parts[i] = fmt.Sprint(w)
	}
	name := "mlp-" + strings.Join(parts, "-")
	if len(m.Widths) > 2 {
		name += "-" + string(m.Activation)
	}
	return name
}

// Params implements Model: for each layer, weights [in, out] then biases [out].
func (m MLP) Params() []Param {
	var ps []Param
	for l := 1; l < len(m.Widths); l++ {
		ps = append(ps,
			Param{Name: fmt.Sprintf("layer%d/weights", l), Dims: []int{m.Widths[l-1], m.Widths[l]}},
			Param{Name: fmt.Sprintf("layer%d/biases", l), Dims: []int{m.Widths[l]}})
	}
	return ps
}

// Init implements Model.
func (m MLP) Init(src *rng.Source) []float64 {
	theta := make([]float64, 0, NumParams(m))
	for l := 1; l < len(m.Widths); l++ {
		bound := 1 / math.Sqrt(float64(m.Widths[l-1]))
		for range m.Widths[l-1]*m.Widths[l] + m.Widths[l] {
			theta = append(theta, src.Uniform(-bound, bound))
		}
	}
	return theta
}

// Apply implements Model.
func (m MLP) Apply(params []*Node, x *Node) *Node {
	r, b := params[0].Shape().Dimensions[0], x.Shape().Dimensions[1]
	h := Reshape(x, x.Shape().Dimensions[0], b, -1) // flatten feature axes: [R or 1, B, in]
	layers := len(m.Widths) - 1
	for l := range layers {
		w, bias := params[2*l], params[2*l+1]
		if h.Shape().Dimensions[0] == 1 && r > 1 {
			h = Einsum("bi,rio->rbo", Reshape(h, b, -1), w) // the same examples for every replica
		} else {
			h = Einsum("rbi,rio->rbo", h, w)
		}
		h = Add(h, InsertAxes(bias, 1))
		if l < layers-1 {
			h = m.activate(h)
		}
	}
	return h
}

func (m MLP) activate(x *Node) *Node {
	if m.Activation == TanhActivation {
		return Tanh(x)
	}
	return Max(x, ZerosLike(x))
}

// Backprop builds the gradients of a loss with respect to the MLP's parameters by explicit backpropagation, given
// outputGrad, which returns the loss's gradient with respect to the output. It computes what graph.Gradient
// computes, with every matrix product oriented so that the pure-Go backend needs no transposition of a weight
// matrix: GoMLX's automatic gradient of a matrix product hands the weight gradient back through a transposition,
// an identity one here, which that backend copies in full — a third of an MLP step (see the package replay
// benchmarks). Inputs x are [R, B, ...] (per replica, as in training).
func (m MLP) Backprop(params []*Node, x *Node, outputGrad func(output *Node) *Node) []*Node {
	layers := len(m.Widths) - 1
	r, b := params[0].Shape().Dimensions[0], x.Shape().Dimensions[1]
	h := Reshape(x, r, b, -1)
	inputs := make([]*Node, layers) // the input of each layer
	pre := make([]*Node, layers)    // pre-activations
	for l := range layers {
		inputs[l] = h
		z := Add(Einsum("rbi,rio->rbo", h, params[2*l]), InsertAxes(params[2*l+1], 1))
		pre[l] = z
		h = z
		if l < layers-1 {
			h = m.activate(z)
		}
	}
	grads := make([]*Node, 2*layers)
	dz := outputGrad(h)
	for l := layers - 1; l >= 0; l-- {
		grads[2*l] = Einsum("rbi,rbo->rio", inputs[l], dz)
		grads[2*l+1] = ReduceSum(dz, 1)
		if l == 0 {
			break
		}
		dh := Einsum("rbo,rio->rbi", dz, params[2*l])
		if m.Activation == TanhActivation {
			t := inputs[l] // tanh(z_{l−1})
			dz = Mul(dh, Sub(OnesLike(t), Square(t)))
		} else {
			dz = Where(GreaterThan(pre[l-1], ZerosLike(pre[l-1])), dh, ZerosLike(dh))
		}
	}
	return grads
}
