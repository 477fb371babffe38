package models

import (
	"fmt"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/rng"
)

// pathModel is a Model whose convolution path can be changed, for comparing the two paths.
type pathModel interface {
	Calibrated
	Backpropagator
	withPath(ConvolutionPath) pathModel
}

func (m ResNet) withPath(p ConvolutionPath) pathModel    { m.Path = p; return m }
func (v VGG) withPath(p ConvolutionPath) pathModel       { v.Path = p; return v }
func (m archModel) withPath(p ConvolutionPath) pathModel { m.path = p; return m }
func (m archModel) Backprop(params []*Node, x *Node, og func(*Node) *Node) []*Node {
	return backprop(m.a, m.path, params, x, og)
}
func (m archModel) Statistics(params []*Node, calibration *Node) []*Node {
	return statistics(m.a, m.path, params, calibration)
}
func (m archModel) ApplyWithStatistics(params []*Node, x *Node, stats []*Node) *Node {
	return applyWithStatistics(m.a, m.path, params, x, stats)
}

// pathOutputs runs, for R replicas with their own parameters: the output on per-replica inputs [R, B, ...], the
// gradient of ⟨V, output⟩ for a fixed cotangent V (by Backprop, the hand-written gradients, or with auto by
// GoMLX's graph.Gradient), the output on inputs shared by all replicas [1, B, ...], and the output on those
// shared inputs with batch-norm statistics calibrated on the per-replica inputs of replica 0.
func pathOutputs(t *testing.T, m pathModel, thetas [][]float64, x, shared, v *tensors.Tensor, auto bool) [][]float64 {
	t.Helper()
	params := m.Params()
	var inputs []any
	offset := 0
	for _, p := range params {
		var flat []float64
		for _, th := range thetas {
			flat = append(flat, th[offset:offset+p.Size()]...)
		}
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(flat, append([]int{len(thetas)}, p.Dims...)...))
		offset += p.Size()
	}
	inputs = append(inputs, x, shared, v)
	outs, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
		np := len(params)
		ps, xs, sh, cot := in[:np], in[np], in[np+1], in[np+2]
		out := []*Node{m.Apply(ps, xs)}
		if auto {
			out = append(out, Gradient(ReduceAllSum(Mul(cot, out[0])), ps...)...)
		} else {
			out = append(out, m.Backprop(ps, xs, func(*Node) *Node { return cot })...)
		}
		out = append(out, m.Apply(ps, sh))
		calibration := Slice(xs, AxisRange(0, 1))
		return append(out, m.ApplyWithStatistics(ps, sh, m.Statistics(ps, calibration)))
	}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = tensors.MustCopyFlatData[float64](o)
	}
	return res
}

// Both paths compute what the patch path computes with GoMLX's own gradients: outputs, calibrated outputs and
// every parameter's gradient by Backprop (written by hand on both paths), for R = 1, 3 and 8 replicas, in
// float64, on the backend GOMLX_BACKEND selects. The bound, 1e-9 relative to the largest magnitude of each
// output, leaves room for the different summation orders of convolutions by patches and by XLA's or the Go
// backend's convolution kernels (≈1e-15 each, accumulated over a few dozen layers, and amplified by batch
// normalisation over small batches) while catching any wrong index, stride, padding or missing term.
func TestGroupedPathEqualsPatchPath(t *testing.T) {
	head := func(n *net, x *Node, c int) *Node { return n.linear(n.globalAvgPool(x), "head", c, 5) }
	cases := []struct {
		m           pathModel
		side, batch int
	}{
		{ResNet{Depth: 18, Channels: 3, Classes: 6, Width: 1.0 / 16}, 8, 3},
		{ResNet{Depth: 50, Channels: 3, Classes: 6, Width: 1.0 / 32}, 8, 2},
		{VGG{Depth: 11, Channels: 3, Classes: 6, Width: 1.0 / 16}, 32, 2},
		{archModel{name: "conv-bias-relu-stride2", a: func(n *net, x *Node) *Node {
			y := n.relu(n.conv(x, "c1", 3, 3, 4, 2, true))
			return head(n, n.conv(y, "c2", 3, 4, 3, 2, true), 3)
		}}, 9, 4},
		{archModel{name: "bn-maxpool-1x1-stride2", a: func(n *net, x *Node) *Node {
			y := n.maxPool2(n.relu(n.norm(n.conv(x, "c1", 3, 3, 4, 1, false), "bn1", 4)))
			return head(n, n.norm(n.conv(y, "c2", 1, 4, 6, 2, false), "bn2", 6), 6)
		}}, 8, 4},
	}
	for _, c := range cases {
		for _, r := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%s/R=%d", c.m.Name(), r), func(t *testing.T) {
				src := rng.New(uint64(11 + r))
				thetas := make([][]float64, r)
				for i := range thetas {
					thetas[i] = c.m.Init(src)
					for j := range thetas[i] { // move batch-norm scales and shifts off 1 and 0
						thetas[i][j] += 0.1 * src.Normal()
					}
				}
				normal := func(dims ...int) *tensors.Tensor {
					n := 1
					for _, d := range dims {
						n *= d
					}
					vals := make([]float64, n)
					for i := range vals {
						vals[i] = src.Normal()
					}
					return tensors.FromFlatDataAndDimensions(vals, dims...)
				}
				x := normal(r, c.batch, c.side, c.side, 3)
				shared := normal(1, 2*c.batch, c.side, c.side, 3)
				classes := 5
				if m, ok := c.m.(ResNet); ok {
					classes = m.Classes
				} else if m, ok := c.m.(VGG); ok {
					classes = m.Classes
				}
				v := normal(r, c.batch, classes)
				want := pathOutputs(t, c.m.withPath(PatchPath), thetas, x, shared, v, true)
				names := []string{"output"}
				for _, p := range c.m.Params() {
					names = append(names, "gradient of "+p.Name)
				}
				names = append(names, "output on shared inputs", "calibrated output")
				for _, path := range []ConvolutionPath{PatchPath, GroupedPath} {
					got := pathOutputs(t, c.m.withPath(path), thetas, x, shared, v, false)
					for i := range want {
						scale := 0.0
						for _, a := range want[i] {
							scale = max(scale, math.Abs(a))
						}
						if len(want[i]) != len(got[i]) {
							t.Fatalf("%s: %d values on the %s path, %d wanted", names[i], len(got[i]), path, len(want[i]))
						}
						for j := range want[i] {
							if d := math.Abs(want[i][j] - got[i][j]); d > 1e-9*max(scale, 1e-3) {
								t.Fatalf("%s, value %d: %.15g on the %s path, %.15g by GoMLX's gradient of the "+
									"patch path (scale %g)", names[i], j, got[i][j], path, want[i][j], scale)
							}
						}
					}
				}
			})
		}
	}
}
