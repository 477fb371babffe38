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

// lossAndGradient evaluates the mean softmax cross-entropy of the model (one replica) on a fixed batch, and its
// gradient, in float64 on the pure-Go backend.
func lossAndGradient(t *testing.T, m Model, theta []float64, x []float64, xDims []int, labels []int32, wantGrad bool) (float64, []float64) {
	t.Helper()
	params := m.Params()
	inputs := []any{}
	offset := 0
	for _, p := range params {
		size := p.Size()
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(theta[offset:offset+size], append([]int{1}, p.Dims...)...))
		offset += size
	}
	inputs = append(inputs, tensors.FromFlatDataAndDimensions(x, xDims...), tensors.FromFlatDataAndDimensions(labels, 1, len(labels)))
	outs, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
		ps, xs, ys := in[:len(params)], in[len(params)], in[len(params)+1]
		logits := m.Apply(ps, xs)
		k := logits.Shape().Dimensions[2]
		loss := Neg(ReduceAllMean(ReduceSum(Mul(LogSoftmax(logits, -1), OneHot(ys, k, dtypes.Float64)), -1)))
		if !wantGrad {
			return []*Node{loss}
		}
		return append([]*Node{loss}, Gradient(loss, ps...)...)
	}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	var grad []float64
	for _, g := range outs[1:] {
		grad = append(grad, tensors.MustCopyFlatData[float64](g)...)
	}
	return tensors.ToScalar[float64](outs[0]), grad
}

// checkGradient compares the model's gradient along three random directions with the fourth-order central
// difference (8(L(θ+εv) − L(θ−εv)) − (L(θ+2εv) − L(θ−2εv)))/(12ε) with ε = 3e-6. Batch normalisation over small
// batches and few channels makes these losses' high derivatives large (for the ResNet-50 below the error of this
// difference measured 3% at ε = 1e-4 and 5e-6 at ε = 1e-5, falling as ε⁴), so the step is small; rounding then
// contributes ≈ 1e-16/ε ≈ 3e-11 relative to the loss's scale. The bound is 1e-6 relative to the directional
// derivative (or to 1e-2, if smaller).
func checkGradient(t *testing.T, m Model, side, batch int) {
	src := rng.New(7)
	theta := m.Init(src)
	for i := range theta { // move batch-norm scales and shifts off 1 and 0, so their gradients are generic
		theta[i] += 0.1 * src.Normal()
	}
	x := make([]float64, batch*side*side*3)
	for i := range x {
		x[i] = src.Normal()
	}
	dims := []int{1, batch, side, side, 3}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(src.IntN(5))
	}
	_, grad := lossAndGradient(t, m, theta, x, dims, labels, true)
	lossAt := func(v []float64, s float64) float64 {
		th := make([]float64, len(theta))
		for i := range th {
			th[i] = theta[i] + s*v[i]
		}
		l, _ := lossAndGradient(t, m, th, x, dims, labels, false)
		return l
	}
	for dir := range 3 {
		v := make([]float64, len(theta))
		for i := range v {
			v[i] = src.Normal()
		}
		const eps = 3e-6
		fd := (8*(lossAt(v, eps)-lossAt(v, -eps)) - (lossAt(v, 2*eps) - lossAt(v, -2*eps))) / (12 * eps)
		ad := 0.0
		for i := range grad {
			ad += grad[i] * v[i]
		}
		if rel := math.Abs(ad-fd) / max(math.Abs(fd), 1e-2); rel > 1e-6 {
			t.Errorf("direction %d: ∇L·v = %.12g, finite differences %.12g (relative error %.2g)", dir, ad, fd, rel)
		}
	}
}

// Whole networks, with ReLU and max-pooling smoothed (tanh, average pooling) so that no kink blurs the finite
// differences; everything else — padded and strided convolutions, batch normalisation through its batch
// statistics, residual additions, pooling, the classifier — is the real graph.
func TestNetworkGradientsMatchFiniteDifferences(t *testing.T) {
	smoothKinks = true
	defer func() { smoothKinks = false }()
	cases := []struct {
		m           Model
		side, batch int
	}{
		{MLP{Widths: []int{48, 7, 5}, Activation: TanhActivation}, 4, 4},
		{VGG{Depth: 11, Channels: 3, Classes: 5, Width: 1.0 / 16}, 32, 4},
		{ResNet{Depth: 18, Channels: 3, Classes: 5, Width: 1.0 / 16}, 16, 4},
		{ResNet{Depth: 50, Channels: 3, Classes: 5, Width: 1.0 / 32}, 16, 4},
	}
	for _, c := range cases {
		t.Run(c.m.Name(), func(t *testing.T) { checkGradient(t, c.m, c.side, c.batch) })
	}
}

// The kinked layers on their own, where a kink within the finite-difference step is improbable: ReLU and
// max-pooling after a convolution, in MLP and in a small convolutional network.
func TestKinkedLayerGradients(t *testing.T) {
	head := func(n *net, x *Node, c int) *Node {
		if !n.describe {
			x = ReduceMean(x, 2, 3)
		}
		return n.linear(x, "head", c, 5)
	}
	cases := map[string]architecture{
		"relu":     func(n *net, x *Node) *Node { return head(n, n.relu(n.conv(x, "c", 3, 3, 4, 1, true)), 4) },
		"max-pool": func(n *net, x *Node) *Node { return head(n, n.maxPool2(n.conv(x, "c", 3, 3, 4, 1, false)), 4) },
		"stride 2": func(n *net, x *Node) *Node { return head(n, n.conv(x, "c", 3, 3, 4, 2, false), 4) },
		"batchnorm": func(n *net, x *Node) *Node {
			return head(n, n.relu(n.norm(n.conv(x, "c", 1, 3, 4, 1, false), "bn", 4)), 4)
		},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) { checkGradient(t, archModel{name: name, a: a}, 8, 4) })
	}
	t.Run("mlp-relu", func(t *testing.T) {
		checkGradient(t, MLP{Widths: []int{48, 7, 5}, Activation: ReLUActivation}, 4, 4)
	})
}

// archModel turns an architecture into a Model, for tests.
type archModel struct {
	name string
	a    architecture
	path ConvolutionPath
}

func (m archModel) Name() string    { return m.name }
func (m archModel) Params() []Param { p, _ := describe(m.a); return p }
func (m archModel) Init(src *rng.Source) []float64 {
	p, i := describe(m.a)
	return initialise(p, i, src)
}
func (m archModel) Apply(params []*Node, x *Node) *Node { return apply(m.a, m.path, params, x) }

// With the calibration batch equal to the evaluated batch, the calibrated output equals the batch-statistics
// output.
func TestCalibratedEqualsBatchStatisticsOnTheSameBatch(t *testing.T) {
	m := ResNet{Depth: 18, Channels: 3, Classes: 4, Width: 1.0 / 16}
	src := rng.New(3)
	n := NumParams(m)
	thetas := append(m.Init(src), m.Init(src)...)
	x := make([]float64, 5*8*8*3)
	for i := range x {
		x[i] = src.Normal()
	}
	var inputs []any
	offset := 0
	for _, p := range m.Params() {
		size := p.Size()
		vals := append(append([]float64{}, thetas[offset:offset+size]...), thetas[n+offset:n+offset+size]...)
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(vals, append([]int{2}, p.Dims...)...))
		offset += size
	}
	inputs = append(inputs, tensors.FromFlatDataAndDimensions(x, 1, 5, 8, 8, 3))
	outs, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
		ps, xs := in[:len(in)-1], in[len(in)-1]
		return []*Node{m.Apply(ps, xs), m.ApplyWithStatistics(ps, xs, m.Statistics(ps, xs))}
	}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	a, c := tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1])
	if len(a) != 2*5*4 {
		t.Fatalf("%d outputs, want 2 replicas × 5 examples × 4 classes", len(a))
	}
	for i := range a {
		if math.Abs(a[i]-c[i]) > 1e-12 {
			t.Fatalf("output %d: %g with batch statistics, %g calibrated on the same batch", i, a[i], c[i])
		}
	}
}

// The twice-differentiable construction computes the same function as Apply.
func TestTwiceDifferentiableEqualsApply(t *testing.T) {
	for _, m := range []TwiceDifferentiable{
		ResNet{Depth: 18, Channels: 3, Classes: 4, Width: 1.0 / 16},
		VGG{Depth: 11, Channels: 3, Classes: 4, Width: 1.0 / 16},
	} {
		side := 16
		if _, ok := m.(VGG); ok {
			side = 32
		}
		src := rng.New(3)
		theta := m.Init(src)
		x := make([]float64, 3*side*side*3)
		for i := range x {
			x[i] = src.Normal()
		}
		var inputs []any
		offset := 0
		for _, p := range m.Params() {
			inputs = append(inputs, tensors.FromFlatDataAndDimensions(theta[offset:offset+p.Size()], append([]int{1}, p.Dims...)...))
			offset += p.Size()
		}
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(x, 1, 3, side, side, 3))
		outs, err := ExecOnceN(backendtest.Go(t), func(in []*Node) []*Node {
			ps, xs := in[:len(in)-1], in[len(in)-1]
			return []*Node{m.Apply(ps, xs), m.ApplyTwiceDifferentiable(ps, xs)}
		}, inputs...)
		if err != nil {
			t.Fatal(err)
		}
		a, b := tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1])
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12*max(1, math.Abs(a[i])) {
				t.Fatalf("%s output %d: %g by patches, %g by selection", m.Name(), i, a[i], b[i])
			}
		}
	}
}
