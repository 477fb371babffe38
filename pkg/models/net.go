package models

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
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
	if n.folded {
		bi := -1
		if b != nil {
			bi = n.paramIndex()
		}
		wi := n.paramIndex()
		if b != nil {
			wi--
		}
		return n.foldedConv(x, w, b, wi, bi, k, stride)
	}
	r := w.Shape().Dimensions[0]
	var y *Node
	if n.twice {
		y = convBySelection(x, w, k, stride)
	} else {
		y = mulKernel(im2col(x, k, stride), Reshape(w, r, k*k*cin, cout))
	}
	if b != nil {
		y = Add(y, Reshape(b, r, 1, 1, 1, cout))
	}
	return y
}

// mulKernel multiplies features x [R or 1, B, H, W, K] by each replica's kernel [R, K, O]: [R, B, H, W, O].
// Shared inputs (a leading axis of 1) are multiplied without being broadcast to every replica first.
func mulKernel(x, kernel *Node) *Node {
	if x.Shape().Dimensions[0] == 1 && kernel.Shape().Dimensions[0] > 1 {
		return Einsum("bhwk,rko->rbhwo", Squeeze(x, 0), kernel)
	}
	return Einsum("rbhwk,rko->rbhwo", x, kernel)
}

// im2col returns the k×k patches of x [R, B, H, W, C] at the given stride, padded with (k−1)/2 zeros on each side:
// [R, B, H', W', k·k·C], ordered (row offset, column offset, channel).
func im2col(x *Node, k, stride int) *Node {
	pad := (k - 1) / 2
	if pad > 0 {
		x = zeroPad(x, 2, pad)
		x = zeroPad(x, 3, pad)
	}
	dims := x.Shape().Dimensions
	hOut := (dims[2]-k)/stride + 1
	wOut := (dims[3]-k)/stride + 1
	var cols []*Node
	for dy := range k {
		for dx := range k {
			cols = append(cols, Slice(x, AxisRange(), AxisRange(),
				AxisRange(dy, dy+(hOut-1)*stride+1).Stride(stride),
				AxisRange(dx, dx+(wOut-1)*stride+1).Stride(stride), AxisRange()))
		}
	}
	if len(cols) == 1 {
		return cols[0]
	}
	return Concatenate(cols, -1)
}

// convBySelection is the k×k convolution of x [R or 1, B, H, W, Cin] with w [R, k, k, Cin, Cout] written with
// matrix products alone: for each offset (dy, dx), constant 0/1 matrices select the shifted, strided and
// zero-padded rows and columns, a one-hot vector selects the kernel's tap, and the taps' products are summed.
func convBySelection(x, w *Node, k, stride int) *Node {
	d := x.Shape().Dimensions
	r, cin, cout := w.Shape().Dimensions[0], w.Shape().Dimensions[3], w.Shape().Dimensions[4]
	taps := Reshape(w, r, k*k, cin, cout)
	var y *Node
	for dy := range k {
		rows := Einsum("oh,rbhwc->rbowc", selection(x.Graph(), x.DType(), d[2], k, dy, stride), x)
		for dx := range k {
			col := Einsum("ow,rbhwc->rbhoc", selection(x.Graph(), x.DType(), d[3], k, dx, stride), rows)
			onehot := make([]float64, k*k)
			onehot[dy*k+dx] = 1
			tap := Einsum("j,rjio->rio", ConvertDType(Const(x.Graph(), onehot), x.DType()), taps)
			term := mulKernel(col, tap)
			if y == nil {
				y = term
			} else {
				y = Add(y, term)
			}
		}
	}
	return y
}

// selection returns the constant [out, in] matrix that picks, for output position o, input position
// o·stride + offset − (k−1)/2, or nothing (a zero row) where that falls in the padding.
func selection(g *Graph, dtype dtypes.DType, in, k, offset, stride int) *Node {
	pad := (k - 1) / 2
	out := (in+2*pad-k)/stride + 1
	m := make([][]float64, out)
	for o := range m {
		m[o] = make([]float64, in)
		if i := o*stride + offset - pad; i >= 0 && i < in {
			m[o][i] = 1
		}
	}
	return ConvertDType(Const(g, m), dtype)
}

// zeroPad adds pad zeros on both sides of an axis by concatenation (graph.Pad has no gradient on every backend).
func zeroPad(x *Node, axis, pad int) *Node {
	dims := slices.Clone(x.Shape().Dimensions)
	dims[axis] = pad
	z := Zeros(x.Graph(), shapes.Make(x.DType(), dims...))
	return Concatenate([]*Node{z, x, z}, axis)
}

// norm is batch normalisation over the batch and spatial axes, per replica and channel, with a learned scale and
// shift; see normMode for where the statistics come from.
func (n *net) norm(x *Node, name string, channels int) *Node {
	scale := n.param(name+"/scale", []int{channels}, paramInit{kind: initOnes})
	shift := n.param(name+"/shift", []int{channels}, paramInit{kind: initZeros})
	if n.describe {
		return nil
	}
	if n.folded {
		return n.foldedNorm(x, scale, shift, n.paramIndex()-1, n.paramIndex())
	}
	axes := make([]int, 0, x.Rank()-2)
	for a := 1; a < x.Rank()-1; a++ {
		axes = append(axes, a)
	}
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
	r := scale.Shape().Dimensions[0]
	shape := make([]int, x.Rank())
	for i := range shape {
		shape[i] = 1
	}
	shape[0], shape[len(shape)-1] = r, channels
	y := Div(Sub(x, mean), Sqrt(AddScalar(variance, bnEpsilon))) // Rsqrt has no gradient in GoMLX
	return Add(Mul(y, Reshape(scale, shape...)), Reshape(shift, shape...))
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

// maxPool2 is 2×2 max-pooling with stride 2, as a reshape and a maximum.
func (n *net) maxPool2(x *Node) *Node {
	if n.describe {
		return nil
	}
	if n.folded {
		return n.foldedMaxPool2(x)
	}
	d := x.Shape().Dimensions
	windows := Reshape(x, d[0], d[1], d[2]/2, 2, d[3]/2, 2, d[4])
	if smoothKinks {
		return ReduceMean(windows, 3, 5)
	}
	return ReduceMax(windows, 3, 5)
}

// globalAvgPool averages over the spatial axes: [R, B, H, W, C] → [R, B, C].
func (n *net) globalAvgPool(x *Node) *Node {
	if n.describe {
		return nil
	}
	if n.folded {
		return n.unfold(x, true)
	}
	return ReduceMean(x, 2, 3)
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
	return Reshape(x, d[0], d[1], -1)
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
	return &net{values: params, mode: mode, folded: path.resolve(params[0].Graph()) == GroupedPath}
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
// with respect to the output (see Backpropagator): on the grouped path from the tape of hand-written layer
// gradients, on the patch path by GoMLX's gradient of ⟨outputGrad, output⟩ with outputGrad held constant.
func backprop(a architecture, path ConvolutionPath, params []*Node, x *Node, outputGrad func(*Node) *Node) []*Node {
	n := build(path, params, normBatch)
	if !n.folded {
		out := a(n, x)
		return Gradient(ReduceAllSum(Mul(StopGradient(outputGrad(out)), out)), params...)
	}
	n.tape = &tape{grads: make([]*Node, len(params))}
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
