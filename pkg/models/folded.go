package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// The folded layout: the R replicas of a convolutional network folded into the channel axis. Activations are
// [B, H, W, R·C] with channel r·C + c holding channel c of replica r, and every R-replica convolution is one
// grouped convolution (ChannelGroupCount R, kernels [k, k, C_in, R·C_out]), so that a compiler such as XLA runs
// one convolution kernel for all replicas instead of R, or a patch matrix R times the size of the input. Batch
// normalisation over the batch and spatial axes of each folded channel is exactly per-replica batch
// normalisation, and ReLU, max-pooling and residual additions act on channels independently, so only the first
// convolution (which folds the input) and the pooling before the classifier (which unfolds to [R, B, C]) see
// the replicas.
//
// Gradients are written by hand, layer by layer, on a tape (see tape), the way JAX differentiates a grouped
// convolution: the input gradient is one grouped convolution of the output gradient with the spatially reversed
// kernel, its input dilated by the stride; the kernel gradient is one convolution with the input's channels as
// its batch (BatchGroupCount R) and the output gradient as its kernel, dilated by the stride. GoMLX's own
// gradient of a grouped convolution splits it into one convolution per group, R of them per layer.

// ConvolutionPath selects how a convolutional network (ResNet, VGG) builds its convolutions. Both paths compute
// the same function and the same gradients, to rounding (tested), and both backpropagate by hand (Backprop).
type ConvolutionPath int

const (
	// AutoPath is PatchPath, the faster of the two on every backend where it was measured (BENCHMARKS.md): on
	// two CPU cores with the pure-Go backend, whose grouped convolution is a direct loop; on the same cores with
	// XLA's CPU plugin, whose grouped convolutions ran ResNet-18 12× and VGG-11 7× slower than patches
	// (docs/benchmarks/xla-cpu-conv-paths-2026-12-06.txt); and on an H100 with XLA, where the batched matrix
	// products of patches beat cuDNN's grouped convolutions for ResNet-18 and VGG-11.
	AutoPath ConvolutionPath = iota
	// PatchPath writes convolutions as patch matrices times kernels, replicas on a leading axis. It runs on
	// every backend and, through ApplyTwiceDifferentiable, can be differentiated twice.
	PatchPath
	// GroupedPath folds the replicas into channels and runs each convolution as one grouped convolution. It
	// needs less memory than patches (no k²-fold patch matrices).
	GroupedPath
)

// String names the path.
func (p ConvolutionPath) String() string {
	switch p {
	case AutoPath:
		return "auto"
	case PatchPath:
		return "patches"
	case GroupedPath:
		return "grouped"
	}
	return fmt.Sprintf("ConvolutionPath(%d)", int(p))
}

// Convolutional is a network whose convolutions can be built either way (ResNet, VGG): ConvolutionPath says how
// they are built, and WithPath returns the network with another path, the same function of the same parameters.
type Convolutional interface {
	Model
	ConvolutionPath() ConvolutionPath
	WithPath(ConvolutionPath) Model
}

// ConvolutionPath implements Convolutional.
func (v VGG) ConvolutionPath() ConvolutionPath { return v.Path }

// WithPath implements Convolutional.
func (v VGG) WithPath(p ConvolutionPath) Model { v.Path = p; return v }

// ConvolutionPath implements Convolutional.
func (m ResNet) ConvolutionPath() ConvolutionPath { return m.Path }

// WithPath implements Convolutional.
func (m ResNet) WithPath(p ConvolutionPath) Model { m.Path = p; return m }

// resolve returns the path a network takes.
func (p ConvolutionPath) resolve() ConvolutionPath {
	if p == AutoPath {
		return PatchPath
	}
	return p
}

// channelsLast is the axes configuration of a 2-D convolution of [B, H, W, C] inputs with [k, k, C_in, C_out]
// kernels.
var channelsLast = ConvolveAxesConfig{
	InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
	KernelSpatial: []int{0, 1}, KernelInputChannels: 2, KernelOutputChannels: 3,
	OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3,
}

// foldedConv is conv in the folded layout: x is [B, H, W, R·C_in], or the network's input [R or 1, B, H, W,
// C_in], which it folds (an input shared by all replicas is convolved once with all replicas' kernels side by
// side, without grouping).
func (n *net) foldedConv(x, w, b *Node, wi, bi, k, stride int) *Node {
	wd := w.Shape().Dimensions
	r, cin, cout := wd[0], wd[3], wd[4]
	in, groups := x, r
	if x.Rank() == 5 {
		d := x.Shape().Dimensions
		if d[0] == 1 {
			in, groups = Reshape(x, d[1:]...), 1
		} else {
			in = Reshape(TransposeAllAxes(x, 1, 2, 3, 0, 4), d[1], d[2], d[3], r*cin)
		}
	}
	pad := (k - 1) / 2
	kernel := Reshape(TransposeAllAxes(w, 1, 2, 3, 0, 4), k, k, cin, r*cout)
	y := ConvGeneral(in, kernel, channelsLast, []int{stride, stride}, [][2]int{{pad, pad}, {pad, pad}}, nil, nil, groups, 1)
	if b != nil {
		y = Add(y, Reshape(b, 1, 1, 1, r*cout))
	}
	return n.record(y, []*Node{x}, func(dy *Node) []*Node {
		if b != nil {
			n.tape.grads[bi] = Reshape(ReduceSum(dy, 0, 1, 2), r, cout)
		}
		n.tape.grads[wi] = kernelGradient(in, dy, groups, r, k, stride, pad)
		if x == n.input {
			return []*Node{nil}
		}
		return []*Node{inputGradient(dy, w, in.Shape().Dimensions, k, stride, pad)}
	})
}

// kernelGradient is the gradient of a folded convolution's kernels [R, k, k, C_in, C_out], given its input in
// [B, H, W, G·C_in] (G = R groups, or 1 for an input shared by all replicas) and its output's gradient dy
// [B, H', W', R·C_out]: one convolution of the input, channels as batch, with dy as the kernel (batch axis as
// its input channels), dilated by the stride, in BatchGroupCount G groups. Both batch axes sit at axis 0, where
// every backend sizes them right.
func kernelGradient(in, dy *Node, groups, r, k, stride, pad int) *Node {
	d, dd := in.Shape().Dimensions, dy.Shape().Dimensions
	cin, cout := d[3]/groups, dd[3]/r
	xt := TransposeAllAxes(in, 3, 1, 2, 0) // [G·C_in, H, W, B]
	pads := make([][2]int, 2)
	for a := range 2 {
		size, outSize := d[1+a], dd[1+a]
		// The window of output o covers input rows o·stride − pad … o·stride − pad + k − 1; the last one must
		// end inside the padded input: pad the high side by what is missing, or crop what is never read.
		high := k + (outSize-1)*stride - size - pad
		if high < 0 {
			xt = SliceAxis(xt, 1+a, AxisRange(0, size+high))
			high = 0
		}
		pads[a] = [2]int{pad, high}
	}
	axes := ConvolveAxesConfig{
		InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
		KernelInputChannels: 0, KernelSpatial: []int{1, 2}, KernelOutputChannels: 3,
		OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3,
	}
	g := ConvGeneral(xt, dy, axes, []int{1, 1}, pads, nil, []int{stride, stride}, 1, groups) // [C_in, k, k, R·C_out]
	return TransposeAllAxes(Reshape(g, cin, k, k, r, cout), 3, 1, 2, 0, 4)
}

// inputGradient is the gradient of a folded convolution's input [B, H, W, R·C_in] (inDims), given its output's
// gradient dy [B, H', W', R·C_out] and kernels w [R, k, k, C_in, C_out]: one grouped convolution of dy, dilated
// by the stride, with each replica's kernel spatially reversed and its channel axes swapped.
func inputGradient(dy, w *Node, inDims []int, k, stride, pad int) *Node {
	wd := w.Shape().Dimensions
	r, cin, cout := wd[0], wd[3], wd[4]
	kernel := Reverse(Reshape(TransposeAllAxes(w, 1, 2, 4, 0, 3), k, k, cout, r*cin), 0, 1)
	low := k - 1 - pad
	pads := make([][2]int, 2)
	for a := range 2 {
		dilated := (dy.Shape().Dimensions[1+a]-1)*stride + 1
		pads[a] = [2]int{low, inDims[1+a] + k - 1 - dilated - low}
	}
	return ConvGeneral(dy, kernel, channelsLast, []int{1, 1}, pads, []int{stride, stride}, nil, r, 1)
}

// unfold turns folded activations [B, H, W, R·C] into per-replica features [R, B, H·W·C] (row-major in H, W,
// C, as the patch path's flattening), with mean over H and W first when pool is set ([R, B, C]).
func (n *net) unfold(x *Node, pool bool) *Node {
	d := x.Shape().Dimensions
	r := n.replicas()
	c := d[3] / r
	y := x
	if pool {
		y = ReduceAndKeep(x, ReduceMean, 1, 2)
	}
	yd := y.Shape().Dimensions
	out := Reshape(TransposeAllAxes(Reshape(y, yd[0], yd[1], yd[2], r, c), 3, 0, 1, 2, 4), r, yd[0], yd[1]*yd[2]*c)
	return n.record(out, []*Node{x}, func(dz *Node) []*Node {
		back := Reshape(TransposeAllAxes(Reshape(dz, r, yd[0], yd[1], yd[2], c), 1, 2, 3, 0, 4), yd...)
		if pool {
			back = DivScalar(BroadcastToShape(back, x.Shape()), float64(d[1]*d[2]))
		}
		return []*Node{back}
	})
}

// replicas is the number of replicas R of the network being built.
func (n *net) replicas() int { return n.values[0].Shape().Dimensions[0] }
