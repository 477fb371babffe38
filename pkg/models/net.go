package models

import (
	"fmt"
	"math"
	"slices"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/revsgd/revsgd/pkg/rng"
)

// The convolutional models are written once, as a function of a net: a walk of the architecture that, in
// "describe" mode, only lists the parameters (no graph is built, every node is nil) and, in "build" mode, consumes
// the parameters in the same order and builds the graph. The layers are replica-aware: activations have shape
// [R, B, H, W, C], weights a leading replica axis, and the first layer also takes shared inputs [1, B, H, W, C].
//
// Every layer is made of operations whose gradient is exact on every backend, the pure-Go one included:
// convolutions are written as patches (zero padding by concatenation, strided slices) multiplied by the kernel,
// max-pooling as a reshape and a maximum, batch normalisation from its batch statistics (see normMode).

// normMode says where batch normalisation takes its statistics.
type normMode int

const (
	// normBatch normalises with the statistics of the current batch, per replica: each update map
	// T_i(θ) = θ − h∇L_{B_i}(θ) then depends on θ and B_i alone, as the paper's maps must, and the gradient
	// flows through the statistics (the true batch-norm gradient).
	normBatch normMode = iota
	// normRecord is normBatch on calibration examples, recording each layer's statistics.
	normRecord
	// normRecorded normalises with the recorded statistics ("precise BN", Wu and Johnson 2021): a model is
	// evaluated with statistics recomputed from θ on a fixed set of training examples, so the evaluated model is a
	// function of θ alone — there are no running averages to carry along a replay, forward or backward.
	normRecorded
)

// bnEpsilon is PyTorch's default.
const bnEpsilon = 1e-5

// initKind is how a parameter is initialised (PyTorch's defaults).
type initKind int

const (
	initFanIn initKind = iota // uniform in ±1/√fan_in (conv and linear weights and biases)
	initOnes                  // batch-norm scale
	initZeros                 // batch-norm shift
)

type paramInit struct {
	kind  initKind
	fanIn int
}

// net walks an architecture.
type net struct {
	describe bool
	params   []Param
	inits    []paramInit
	values   []*Node // build mode: the parameters, consumed in order
	next     int
	mode     normMode
	stats    [][2]*Node // recorded batch-norm statistics (mean, variance), in layer order
	statIdx  int
	// twice builds convolutions from matrix products only, so that the graph can be differentiated twice on
	// every backend (Hessian-vector products): slicing, concatenation and padding have gradients whose own
	// gradient (Pad's) GoMLX does not define.
	twice bool
	// folded builds the network in the folded layout (see folded.go); tape, when set, records its layers for
	// Backprop.
	folded bool
	tape   *tape
	input  *Node // the network's input: data, which needs no gradient
}

// param registers (describe) or returns (build) the next parameter.
func (n *net) param(name string, dims []int, init paramInit) *Node {
	if n.describe {
		n.params = append(n.params, Param{Name: name, Dims: dims})
		n.inits = append(n.inits, init)
		return nil
	}
	p := n.values[n.next]
	n.next++
	return p
}

// conv is a k×k convolution with zero padding (k−1)/2 and the given stride, with or without bias.
func (n *net) conv(x *Node, name string, k, cin, cout, stride int, bias bool) *Node {
	fan := paramInit{kind: initFanIn, fanIn: k * k * cin}
	w := n.param(name+"/weights", []int{k, k, cin, cout}, fan)
	var b *Node
	if bias {
		b = n.param(name+"/biases", []int{cout}, fan)
	}
	if n.describe {
		return nil
	}
	wi, bi := n.paramIndex(), -1
	if b != nil {
		wi, bi = wi-1, wi
	}
	if n.folded {
		return n.foldedConv(x, w, b, wi, bi, k, stride)
	}
	if n.twice {
		return addBias(convBySelection(x, w, k, stride), b)
	}
	return n.patchConv(x, w, b, wi, bi, k, stride)
}

// addBias adds per-replica biases b [R, C] (or nothing, for nil) to activations [R, B, H, W, C].
func addBias(y, b *Node) *Node {
	if b == nil {
		return y
	}
	d := b.Shape().Dimensions
	return Add(y, Reshape(b, d[0], 1, 1, 1, d[1]))
}

// norm is batch normalisation over the batch and spatial axes, per replica and channel, with a learned scale and
// shift; see normMode for where the statistics come from. With a tape, the gradient flows through the batch
// statistics: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ with dx̂ = γ·dy.
func (n *net) norm(x *Node, name string, channels int) *Node {
	scale := n.param(name+"/scale", []int{channels}, paramInit{kind: initOnes})
	shift := n.param(name+"/shift", []int{channels}, paramInit{kind: initZeros})
	if n.describe {
		return nil
	}
	si, hi := n.paramIndex()-1, n.paramIndex()
	axes := n.statAxes()
	var mean, variance *Node
	if n.mode == normRecorded {
		mean, variance = n.stats[n.statIdx][0], n.stats[n.statIdx][1]
		n.statIdx++
	} else {
		mean = ReduceAndKeep(x, ReduceMean, axes...)
		variance = ReduceAndKeep(Square(Sub(x, mean)), ReduceMean, axes...)
		if n.mode == normRecord {
			n.stats = append(n.stats, [2]*Node{StopGradient(mean), StopGradient(variance)})
		}
	}
	gamma, beta := n.perChannel(scale), n.perChannel(shift)
	sigma := Sqrt(AddScalar(variance, bnEpsilon)) // Rsqrt has no gradient in GoMLX
	xhat := Div(Sub(x, mean), sigma)
	y := Add(Mul(xhat, gamma), beta)
	return n.record(y, []*Node{x}, func(dy *Node) []*Node {
		if n.mode != normBatch {
			panic("models: gradients of batch normalisation need batch statistics")
		}
		d := scale.Shape().Dimensions
		n.tape.grads[hi] = Reshape(ReduceSum(dy, axes...), d...)
		n.tape.grads[si] = Reshape(ReduceSum(Mul(dy, xhat), axes...), d...)
		dxhat := Mul(dy, gamma)
		centred := Sub(dxhat, ReduceAndKeep(dxhat, ReduceMean, axes...))
		return []*Node{Div(Sub(centred, Mul(xhat, ReduceAndKeep(Mul(dxhat, xhat), ReduceMean, axes...))), sigma)}
	})
}

// statAxes are the batch and spatial axes of activations: [R, B, H, W, C] or, folded, [B, H, W, R·C].
func (n *net) statAxes() []int {
	if n.folded {
		return []int{0, 1, 2}
	}
	return []int{1, 2, 3}
}

// perChannel reshapes per-replica channel values [R, C] to broadcast with activations.
func (n *net) perChannel(p *Node) *Node {
	d := p.Shape().Dimensions
	if n.folded {
		return Reshape(p, 1, 1, 1, d[0]*d[1])
	}
	return Reshape(p, d[0], 1, 1, 1, d[1])
}

func (n *net) relu(x *Node) *Node {
	if n.describe {
		return nil
	}
	if smoothKinks {
		y := Tanh(x)
		return n.record(y, []*Node{x}, func(dy *Node) []*Node {
			return []*Node{Mul(dy, OneMinus(Square(y)))}
		})
	}
	return n.record(Max(x, ZerosLike(x)), []*Node{x}, func(dy *Node) []*Node {
		return []*Node{Where(GreaterThan(x, ZerosLike(x)), dy, ZerosLike(dy))}
	})
}

// smoothKinks replaces ReLU by tanh and max-pooling by average pooling. Tests set it to check whole networks'
// gradients against finite differences, which kinks would blur; the kinked layers are checked on their own.
var smoothKinks = false

func (n *net) add(a, b *Node) *Node {
	if n.describe {
		return nil
	}
	return n.record(Add(a, b), []*Node{a, b}, func(dy *Node) []*Node { return []*Node{dy, dy} })
}

// maxPool2 is 2×2 max-pooling with stride 2, as a reshape and a maximum. Its gradient goes to every maximum of a
// window, as GoMLX's gradient of ReduceMax does.
func (n *net) maxPool2(x *Node) *Node {
	if n.describe {
		return nil
	}
	d := x.Shape().Dimensions
	var wd, reduce []int // windows' dimensions, and the axes within a window
	for a, size := range d {
		if slices.Contains(n.statAxes()[1:], a) { // the spatial axes
			wd = append(wd, size/2, 2)
			reduce = append(reduce, len(wd)-1)
		} else {
			wd = append(wd, size)
		}
	}
	windows := Reshape(x, wd...)
	kept := slices.Clone(wd) // a pooled value's shape within the windows
	for _, a := range reduce {
		kept[a] = 1
	}
	if smoothKinks {
		return n.record(ReduceMean(windows, reduce...), []*Node{x}, func(dy *Node) []*Node {
			return []*Node{Reshape(DivScalar(BroadcastToShape(Reshape(dy, kept...), windows.Shape()), 4), d...)}
		})
	}
	y := ReduceMax(windows, reduce...)
	return n.record(y, []*Node{x}, func(dy *Node) []*Node {
		atMax := NonNegativeIndicator(Sub(windows, Reshape(y, kept...)))
		return []*Node{Reshape(Mul(BroadcastToShape(Reshape(dy, kept...), windows.Shape()), atMax), d...)}
	})
}

// globalAvgPool averages over the spatial axes: [R, B, H, W, C] → [R, B, C].
func (n *net) globalAvgPool(x *Node) *Node {
	if n.describe {
		return nil
	}
	if n.folded {
		return n.unfold(x, true)
	}
	d := x.Shape().Dimensions
	return n.record(ReduceMean(x, 2, 3), []*Node{x}, func(dy *Node) []*Node {
		up := BroadcastToShape(Reshape(dy, d[0], d[1], 1, 1, d[4]), x.Shape())
		return []*Node{DivScalar(up, float64(d[2]*d[3]))}
	})
}

// flatten turns feature maps [R, B, H, W, C] into features [R, B, H·W·C].
func (n *net) flatten(x *Node) *Node {
	if n.describe {
		return nil
	}
	if n.folded {
		return n.unfold(x, false)
	}
	d := x.Shape().Dimensions
	return n.record(Reshape(x, d[0], d[1], -1), []*Node{x}, func(dy *Node) []*Node { return []*Node{Reshape(dy, d...)} })
}

// linear is a fully connected layer with bias on [R, B, in].
func (n *net) linear(x *Node, name string, in, out int) *Node {
	fan := paramInit{kind: initFanIn, fanIn: in}
	w := n.param(name+"/weights", []int{in, out}, fan)
	b := n.param(name+"/biases", []int{out}, fan)
	if n.describe {
		return nil
	}
	r := w.Shape().Dimensions[0]
	wi := n.paramIndex() - 1
	y := Add(Einsum("rbi,rio->rbo", x, w), Reshape(b, r, 1, out))
	return n.record(y, []*Node{x}, func(dy *Node) []*Node {
		n.tape.grads[wi] = Einsum("rbi,rbo->rio", x, dy)
		n.tape.grads[wi+1] = ReduceSum(dy, 1)
		return []*Node{Einsum("rbo,rio->rbi", dy, w)}
	})
}

// architecture is a network written against net.
type architecture func(n *net, x *Node) *Node

// describe lists an architecture's parameters and their initialisation.
func describe(a architecture) ([]Param, []paramInit) {
	n := &net{describe: true}
	a(n, nil)
	return n.params, n.inits
}

// initialise draws θ_0 parameter by parameter, in order: fan-in uniform draws for weights and biases, ones and
// zeros for batch-norm scales and shifts.
func initialise(params []Param, inits []paramInit, src *rng.Source) []float64 {
	var theta []float64
	for i, p := range params {
		for range p.Size() {
			switch inits[i].kind {
			case initFanIn:
				b := 1 / math.Sqrt(float64(inits[i].fanIn))
				theta = append(theta, src.Uniform(-b, b))
			case initOnes:
				theta = append(theta, 1)
			default:
				theta = append(theta, 0)
			}
		}
	}
	return theta
}

// build starts a walk that builds an architecture on the given parameters along the given path.
func build(path ConvolutionPath, params []*Node, mode normMode) *net {
	return &net{values: params, mode: mode, folded: path.resolve() == GroupedPath}
}

// apply builds an architecture with batch statistics.
func apply(a architecture, path ConvolutionPath, params []*Node, x *Node) *Node {
	return a(build(path, params, normBatch), x)
}

// applyTwice builds an architecture with batch statistics, differentiable twice on every backend.
func applyTwice(a architecture, params []*Node, x *Node) *Node {
	return a(&net{values: params, mode: normBatch, twice: true}, x)
}

// backprop builds the gradients of a loss with respect to an architecture's parameters, given the loss's gradient
// with respect to the output (see Backpropagator), from the tape of hand-written layer gradients.
func backprop(a architecture, path ConvolutionPath, params []*Node, x *Node, outputGrad func(*Node) *Node) []*Node {
	n := build(path, params, normBatch)
	n.tape, n.input = &tape{grads: make([]*Node, len(params))}, x
	out := a(n, x)
	n.tape.backprop(out, outputGrad(out))
	return n.tape.grads
}

// TwiceDifferentiable is implemented by models whose Apply graph cannot always be differentiated twice:
// ApplyTwiceDifferentiable builds the same function from operations whose gradients are themselves
// differentiable on every backend, for Hessian-vector products. It may be slower.
type TwiceDifferentiable interface {
	Model
	ApplyTwiceDifferentiable(params []*Node, x *Node) *Node
}

// statistics builds the batch-norm statistics of an architecture on calibration inputs: mean and variance of
// every normalisation layer, in order, each with the shape it broadcasts with ([R, 1, …, 1, C] on the patch path,
// [1, 1, 1, R·C] on the grouped path).
func statistics(a architecture, path ConvolutionPath, params []*Node, calibration *Node) []*Node {
	rec := build(path, params, normRecord)
	a(rec, calibration)
	out := make([]*Node, 0, 2*len(rec.stats))
	for _, s := range rec.stats {
		out = append(out, s[0], s[1])
	}
	return out
}

// applyWithStatistics builds an architecture on x with the given batch-norm statistics.
func applyWithStatistics(a architecture, path ConvolutionPath, params []*Node, x *Node, stats []*Node) *Node {
	use := build(path, params, normRecorded)
	for i := 0; i+1 < len(stats); i += 2 {
		use.stats = append(use.stats, [2]*Node{stats[i], stats[i+1]})
	}
	y := a(use, x)
	if use.statIdx != len(use.stats) {
		panic(fmt.Sprintf("models: %d batch-norm statistics given, %d layers used", len(use.stats), use.statIdx))
	}
	return y
}

// Calibrated is implemented by models with batch normalisation. They are evaluated with statistics computed at
// the same parameters on calibration examples (shape [1, K, ...], shared by all replicas) instead of on the
// evaluated batch: Statistics builds them (mean and variance of every normalisation layer, in order), and
// ApplyWithStatistics builds the output with them. The engine calibrates on the first CalibrationExamples
// training examples.
type Calibrated interface {
	Model
	Statistics(params []*Node, calibration *Node) []*Node
	ApplyWithStatistics(params []*Node, x *Node, stats []*Node) *Node
}

// CalibrationExamples is the number of training examples whose batch-norm statistics a Calibrated model is
// evaluated with.
const CalibrationExamples = 256
