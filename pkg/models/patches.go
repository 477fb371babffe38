package models

import (
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// The patch path: replicas on a leading axis, activations [R, B, H, W, C], and a convolution as the matrix of
// its input's k×k patches times each replica's kernel. Its gradients are written by hand for Backprop (the
// kernel's as the product of the patches with the output's gradient, oriented so that the pure-Go backend
// transposes neither; the input's by scattering the patches' gradient back, col2im), and convBySelection builds
// the same convolution from matrix products alone, for graphs that are differentiated twice.

// patchConv is the k×k convolution of x [R or 1, B, H, W, C_in] (1: the network's input, shared by all replicas)
// with kernels w [R, k, k, C_in, C_out] and optional biases b [R, C_out], by patches.
func (n *net) patchConv(x, w, b *Node, wi, bi, k, stride int) *Node {
	wd := w.Shape().Dimensions
	r, kk, cout := wd[0], k*k*wd[3], wd[4]
	patches := im2col(x, k, stride)
	kernel := Reshape(w, r, kk, cout)
	y := addBias(mulKernel(patches, kernel), b)
	return n.record(y, []*Node{x}, func(dy *Node) []*Node {
		yd := dy.Shape().Dimensions
		rows := yd[1] * yd[2] * yd[3]
		dyRows := Reshape(dy, r, rows, cout)
		if b != nil {
			n.tape.grads[bi] = ReduceSum(dyRows, 1)
		}
		px := Reshape(patches, patches.Shape().Dimensions[0], rows, kk)
		if px.Shape().Dimensions[0] == 1 && r > 1 {
			n.tape.grads[wi] = Reshape(Einsum("nk,rno->rko", Squeeze(px, 0), dyRows), wd...)
		} else {
			n.tape.grads[wi] = Reshape(Einsum("rnk,rno->rko", px, dyRows), wd...)
		}
		if x == n.input {
			return []*Node{nil}
		}
		dPatches := Reshape(Einsum("rno,rko->rnk", dyRows, kernel), yd[0], yd[1], yd[2], yd[3], kk)
		return []*Node{col2im(dPatches, x.Shape().Dimensions, k, stride)}
	})
}

// col2im is the adjoint of im2col: given the gradient of the patches [R, B, H', W', k·k·C] of an input of
// dimensions inDims, it adds each patch entry's gradient back to the input position it was read from.
func col2im(dPatches *Node, inDims []int, k, stride int) *Node {
	pad := (k - 1) / 2
	d := dPatches.Shape().Dimensions
	c := inDims[4]
	zero := ScalarZero(dPatches.Graph(), dPatches.DType())
	var sum *Node
	for dy := range k {
		for dx := range k {
			t := dy*k + dx
			piece := SliceAxis(dPatches, 4, AxisRange(t*c, (t+1)*c))
			// Output position (i, j) read padded input row dy + i·stride, column dx + j·stride.
			placed := Pad(piece, zero,
				PadAxis{}, PadAxis{},
				PadAxis{Start: dy, End: inDims[2] + 2*pad - dy - (d[2]-1)*stride - 1, Interior: stride - 1},
				PadAxis{Start: dx, End: inDims[3] + 2*pad - dx - (d[3]-1)*stride - 1, Interior: stride - 1},
				PadAxis{})
			if sum == nil {
				sum = placed
			} else {
				sum = Add(sum, placed)
			}
		}
	}
	if pad == 0 {
		return sum
	}
	return Slice(sum, AxisRange(), AxisRange(), AxisRange(pad, pad+inDims[2]), AxisRange(pad, pad+inDims[3]), AxisRange())
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
