package replay

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// imageProblem is a small classification problem on random 16×16 images.
func imageProblem(m models.Model) *problem.Problem {
	src := rng.New(12)
	const n, side = 16, 16
	x := make([]float64, n*side*side*3)
	for i := range x {
		x[i] = src.Normal()
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(src.IntN(4))
	}
	return &problem.Problem{Name: "images", Model: m, Loss: problem.CrossEntropy{},
		Train: &data.Dataset{Name: "random", Inputs: tensors.FromFlatDataAndDimensions(x, n, side, side, 3), Targets: tensors.FromFlatDataAndDimensions(y, n)}}
}

// The engine's Hessian-vector products equal central finite differences of its gradients,
// (∇L(θ+εv) − ∇L(θ−εv))/(2ε), in float64: with ε = 1e-6 the truncation error is O(ε² ∇⁴L) ≈ 1e-12 and rounding
// ≈ 1e-16/ε ≈ 1e-10 relative to the gradient's scale; the bound is 1e-6 of the product's norm. The gradients are
// checked against the SGD update map with h = 1 (θ − T(θ) = ∇L). (The networks' own second derivatives, the
// convolutional ones included, are checked in package models.)
func TestHessianVectorProductsMatchFiniteDifferences(t *testing.T) {
	cases := []*problem.Problem{regression(t)}
	for _, p := range cases {
		t.Run(p.Model.Name(), func(t *testing.T) {
			e, err := New(backendtest.Default(t), p, update.SGD{LearningRate: 1}, dtypes.Float64)
			if err != nil {
				t.Fatal(err)
			}
			src := rng.New(5)
			theta := p.Model.Init(src)
			for i := range theta {
				theta[i] += 0.05 * src.Normal()
			}
			batch := []int32{1, 4, 6, 9, 10, 12, 13, 15}
			v := make([]float64, len(theta))
			for i := range v {
				v[i] = src.Normal()
			}
			const eps = 1e-6
			plus, minus := make([]float64, len(theta)), make([]float64, len(theta))
			for i := range theta {
				plus[i], minus[i] = theta[i]+eps*v[i], theta[i]-eps*v[i]
			}
			g, _ := e.NewGroup([][]float64{theta, plus, minus})
			defer g.Close()
			grads, err := g.Gradients(append(append(append([]int32{}, batch...), batch...), batch...))
			if err != nil {
				t.Fatal(err)
			}
			hv, err := g.HessianVectorProducts(append(append(append([]int32{}, batch...), batch...), batch...), [][]float64{v, v, v})
			if err != nil {
				t.Fatal(err)
			}
			norm, diff := 0.0, 0.0
			for i := range v {
				fd := (grads[1][i] - grads[2][i]) / (2 * eps)
				norm += hv[0][i] * hv[0][i]
				diff += (hv[0][i] - fd) * (hv[0][i] - fd)
			}
			if math.Sqrt(diff) > 1e-6*math.Sqrt(norm) || norm == 0 {
				t.Errorf("‖Hv − finite differences‖ = %.3g, ‖Hv‖ = %.3g", math.Sqrt(diff), math.Sqrt(norm))
			}
			// The gradient equals one SGD map with h = 1.
			step, _ := e.NewGroup([][]float64{theta})
			defer step.Close()
			if err := step.Step(batch, []bool{true}); err != nil {
				t.Fatal(err)
			}
			moved, _ := step.Thetas()
			for i := range theta {
				if math.Abs((theta[i]-moved[0][i])-grads[0][i]) > 1e-12*max(1, math.Abs(grads[0][i])) {
					t.Fatalf("gradient %d: %g, the update map says %g", i, grads[0][i], theta[i]-moved[0][i])
				}
			}
		})
	}
}

// On a convolutional network (with ReLU, max-pooling and batch norm), Hessian-vector products are symmetric:
// w·(Hv) = v·(Hw), which holds exactly at any point, kinks or not, and fails for a wrong second derivative.
func TestHessianVectorProductsAreSymmetricOnAResNet(t *testing.T) {
	p := imageProblem(models.ResNet{Depth: 18, Channels: 3, Classes: 4, Width: 1.0 / 8})
	e, err := New(backendtest.Default(t), p, update.SGD{LearningRate: 1}, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := rng.New(8)
	theta := p.Model.Init(src)
	v, w := make([]float64, len(theta)), make([]float64, len(theta))
	for i := range v {
		v[i], w[i] = src.Normal(), src.Normal()
	}
	g, _ := e.NewGroup([][]float64{theta, theta})
	defer g.Close()
	batch := []int32{1, 4, 6, 9, 1, 4, 6, 9}
	hv, err := g.HessianVectorProducts(batch, [][]float64{v, w})
	if err != nil {
		t.Fatal(err)
	}
	wHv, vHw, scale := 0.0, 0.0, 0.0
	for i := range v {
		wHv += w[i] * hv[0][i]
		vHw += v[i] * hv[1][i]
		scale += math.Abs(w[i]*hv[0][i]) + math.Abs(v[i]*hv[1][i])
	}
	if math.Abs(wHv-vHw) > 1e-10*scale {
		t.Errorf("w·Hv = %.12g but v·Hw = %.12g", wHv, vHw)
	}
}

// The update map uses the MLP's explicit backpropagation; it must give the gradient graph.Gradient gives
// (Group.Gradients uses graph.Gradient): for tanh and ReLU networks, half squared error and cross-entropy.
func TestBackpropEqualsAutomaticGradient(t *testing.T) {
	src := rng.New(21)
	const n = 12
	x := make([]float64, n*6)
	for i := range x {
		x[i] = src.Normal()
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(src.IntN(3))
	}
	classification := &problem.Problem{Name: "toy", Model: models.MLP{Widths: []int{6, 7, 5, 3}, Activation: models.ReLUActivation},
		Loss: problem.CrossEntropy{}, Train: &data.Dataset{Name: "toy", Inputs: tensors.FromFlatDataAndDimensions(x, n, 6),
			Targets: tensors.FromFlatDataAndDimensions(labels, n)}}
	for _, p := range []*problem.Problem{regression(t), classification} {
		if _, ok := p.Model.(models.Backpropagator); !ok {
			t.Fatalf("%s does not backpropagate by hand: the test is vacuous", p.Model.Name())
		}
		e, err := New(backendtest.Default(t), p, update.SGD{LearningRate: 1}, dtypes.Float64)
		if err != nil {
			t.Fatal(err)
		}
		theta := p.Model.Init(rng.New(2))
		batch := []int32{0, 3, 4, 7, 9, 11}
		g, _ := e.NewGroup([][]float64{theta, theta})
		auto, err := g.Gradients(append(append([]int32{}, batch...), batch...))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Step(append(append([]int32{}, batch...), batch...), []bool{true, false}); err != nil {
			t.Fatal(err)
		}
		moved, _ := g.Thetas()
		g.Close()
		for i := range theta {
			if math.Abs((theta[i]-moved[0][i])-auto[0][i]) > 1e-12*max(1, math.Abs(auto[0][i])) {
				t.Fatalf("%s, parameter %d: backpropagation gives %.15g, graph.Gradient %.15g", p.Model.Name(), i, theta[i]-moved[0][i], auto[0][i])
			}
			if moved[1][i] != theta[i] {
				t.Fatalf("%s: the inactive replica moved", p.Model.Name())
			}
		}
	}
}
