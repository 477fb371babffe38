package models

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/rng"
)

func hvpOf(t *testing.T, m Model, theta, v, x []float64, xDims []int, labels []int32) (grad, hv []float64) {
	params := m.Params()
	var inputs []any
	offset := 0
	for _, p := range params {
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(theta[offset:offset+p.Size()], append([]int{1}, p.Dims...)...))
		offset += p.Size()
	}
	offset = 0
	for _, p := range params {
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(v[offset:offset+p.Size()], append([]int{1}, p.Dims...)...))
		offset += p.Size()
	}
	inputs = append(inputs, tensors.FromFlatDataAndDimensions(x, xDims...), tensors.FromFlatDataAndDimensions(labels, 1, len(labels)))
	np := len(params)
	outs, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
		ps, vs, xs, ys := in[:np], in[np:2*np], in[2*np], in[2*np+1]
		var logits *Node
		if tm, ok := m.(TwiceDifferentiable); ok {
			logits = tm.ApplyTwiceDifferentiable(ps, xs)
		} else {
			logits = m.Apply(ps, xs)
		}
		k := logits.Shape().Dimensions[2]
		loss := Neg(ReduceAllMean(ReduceSum(Mul(LogSoftmax(logits, -1), OneHot(ys, k, dtypes.Float64)), -1)))
		g := Gradient(loss, ps...)
		dot := ReduceAllSum(Mul(g[0], vs[0]))
		for i := 1; i < np; i++ {
			dot = Add(dot, ReduceAllSum(Mul(g[i], vs[i])))
		}
		return append(g, Gradient(dot, ps...)...)
	}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		f := tensors.MustCopyFlatData[float64](o)
		if i < np {
			grad = append(grad, f...)
		} else {
			hv = append(hv, f...)
		}
	}
	return
}

// Hessian-vector products by double reverse-mode differentiation equal the fourth-order central difference of the
// gradient along v, (8(∇L(θ+εv) − ∇L(θ−εv)) − (∇L(θ+2εv) − ∇L(θ−2εv)))/(12ε), ε = 3e-6, in float64 on the pure-Go
// backend, within 1e-6 of ‖Hv‖ (the same error budget as TestNetworkGradientsMatchFiniteDifferences). Networks
// with ReLU and max-pooling are checked smoothed (smoothKinks), the twice-differentiable convolution included.
func TestHessianVectorProductsMatchFiniteDifferences(t *testing.T) {
	smoothKinks = true
	defer func() { smoothKinks = false }()
	cases := []struct {
		m    Model
		side int
	}{
		{MLP{Widths: []int{48, 7, 5}, Activation: TanhActivation}, 4},
		{ResNet{Depth: 18, Channels: 3, Classes: 5, Width: 1.0 / 8}, 8},
		{VGG{Depth: 11, Channels: 3, Classes: 5, Width: 1.0 / 16}, 32},
	}
	for _, c := range cases {
		t.Run(c.m.Name(), func(t *testing.T) {
			src := rng.New(7)
			theta := c.m.Init(src)
			for i := range theta {
				theta[i] += 0.1 * src.Normal()
			}
			v := make([]float64, len(theta))
			for i := range v {
				v[i] = src.Normal()
			}
			x := make([]float64, 4*c.side*c.side*3)
			for i := range x {
				x[i] = src.Normal()
			}
			dims := []int{1, 4, c.side, c.side, 3}
			if _, ok := c.m.(MLP); ok {
				dims = []int{1, 4, c.side * c.side * 3}
			}
			labels := []int32{0, 3, 1, 4}
			_, hv := hvpOf(t, c.m, theta, v, x, dims, labels)
			gradAt := func(s float64) []float64 {
				th := make([]float64, len(theta))
				for i := range th {
					th[i] = theta[i] + s*v[i]
				}
				g, _ := hvpOf(t, c.m, th, v, x, dims, labels)
				return g
			}
			const eps = 3e-6
			p1, m1, p2, m2 := gradAt(eps), gradAt(-eps), gradAt(2*eps), gradAt(-2*eps)
			n2, d2 := 0.0, 0.0
			for i := range hv {
				fd := (8*(p1[i]-m1[i]) - (p2[i] - m2[i])) / (12 * eps)
				n2 += hv[i] * hv[i]
				d2 += (hv[i] - fd) * (hv[i] - fd)
			}
			if n2 == 0 || math.Sqrt(d2/n2) > 1e-6 {
				t.Errorf("‖Hv − finite differences‖/‖Hv‖ = %.3g (‖Hv‖ = %.4g)", math.Sqrt(d2/n2), math.Sqrt(n2))
			}
		})
	}
}
