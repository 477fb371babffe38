package data

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/internal/portable"
	"github.com/revsgd/revsgd/pkg/rng"
)

// QuadraticNoise generates the targets ε_1 … ε_M of the quadratic problem of Section 3.1, L_i(θ) = ½‖θ − ε_i‖²:
// M vectors of dimension dim whose coordinates are i.i.d. N(0, σ²), drawn in order (example by example, coordinate
// by coordinate) as σ·Normal() from rng.New(seed). The data set has no inputs. Values are float64.
func QuadraticNoise(examples, dim int, sigma float64, seed uint64) (*Dataset, error) {
	if examples <= 0 || dim <= 0 {
		return nil, fmt.Errorf("quadratic noise: need positive examples and dimension, got %d and %d", examples, dim)
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("quadratic noise: σ must be positive and finite, got %g", sigma)
	}
	r := rng.New(seed)
	eps := make([]float64, examples*dim)
	for i := range eps {
		eps[i] = sigma * r.Normal()
	}
	return &Dataset{Name: "quadratic-noise", Targets: tensors.FromFlatDataAndDimensions(eps, examples, dim)}, nil
}

// TeacherRegression describes the synthetic regression problem of the regression-mlp figure: a student network
// learns a fixed random "teacher" network from noisy samples.
//
// The generator, all draws from one rng.Source seeded with Seed, in this order:
//
//  1. teacher weights W ∈ R^{Hidden×Dim} with entries N(0, 1/Dim), then v ∈ R^{Hidden} with entries N(0, 1/Hidden);
//  2. for each of the Train then Test examples: x ∈ R^Dim with entries N(0, 1), then one noise draw ξ ~ N(0, 1),
//     and the target y = v · tanh(W x) + Noise · ξ.
//
// Inputs have shape [M, Dim], targets [M, 1], float64. tanh is internal/portable's and every product is rounded
// before it is summed, so the data, like the draws, has the same bits on every machine.
type TeacherRegression struct {
	// Dim is the input dimension.
	Dim int
	// Hidden is the teacher's hidden width.
	Hidden int
	// Noise is the standard deviation of the label noise.
	Noise float64
	// Train and Test are the numbers of training and test examples.
	Train, Test int
	// Seed seeds the generator.
	Seed uint64
}

// Generate draws the training and test sets.
func (c TeacherRegression) Generate() (train, test *Dataset, err error) {
	if c.Dim <= 0 || c.Hidden <= 0 || c.Train <= 0 || c.Test <= 0 {
		return nil, nil, fmt.Errorf("teacher regression: Dim, Hidden, Train and Test must be positive, got %+v", c)
	}
	if c.Noise < 0 || math.IsNaN(c.Noise) {
		return nil, nil, fmt.Errorf("teacher regression: noise must be non-negative, got %g", c.Noise)
	}
	r := rng.New(c.Seed)
	w := make([]float64, c.Hidden*c.Dim)
	for i := range w {
		w[i] = r.Normal() / math.Sqrt(float64(c.Dim))
	}
	v := make([]float64, c.Hidden)
	for i := range v {
		v[i] = r.Normal() / math.Sqrt(float64(c.Hidden))
	}
	draw := func(m int, name string) *Dataset {
		xs := make([]float64, m*c.Dim)
		ys := make([]float64, m)
		for i := range m {
			x := xs[i*c.Dim : (i+1)*c.Dim]
			for j := range x {
				x[j] = r.Normal()
			}
			y := 0.0
			for k := range c.Hidden {
				a := 0.0
				for j, xj := range x {
					a += float64(w[k*c.Dim+j] * xj) // each product rounded: no fused multiply-add
				}
				y += float64(v[k] * portable.Tanh(a))
			}
			ys[i] = y + float64(c.Noise*r.Normal())
		}
		return &Dataset{
			Name:    name,
			Inputs:  tensors.FromFlatDataAndDimensions(xs, m, c.Dim),
			Targets: tensors.FromFlatDataAndDimensions(ys, m, 1),
		}
	}
	train = draw(c.Train, "teacher-regression/train")
	test = draw(c.Test, "teacher-regression/test")
	return train, test, nil
}

// LinearRegression describes a linear regression problem, y = w·x + b + Noise·ξ.
//
// The generator, all draws from one rng.Source seeded with Seed, in this order: the weights w ∈ R^Dim with
// entries N(0, 1), then the bias b ~ N(0, 1); then for each of the Train then Test examples: x ∈ R^Dim with entries
// N(0, 1), then ξ ~ N(0, 1). Inputs have shape [M, Dim], targets [M, 1], float64.
type LinearRegression struct {
	// Dim is the input dimension.
	Dim int
	// Noise is the standard deviation of the label noise.
	Noise float64
	// Train and Test are the numbers of examples (Test may be 0: no test set).
	Train, Test int
	// Seed seeds the generator.
	Seed uint64
}

// Generate draws the training set and, when Test > 0, the test set.
func (c LinearRegression) Generate() (train, test *Dataset, err error) {
	if c.Dim <= 0 || c.Train <= 0 || c.Test < 0 {
		return nil, nil, fmt.Errorf("linear regression: Dim and Train must be positive and Test non-negative, got %+v", c)
	}
	if c.Noise < 0 || math.IsNaN(c.Noise) {
		return nil, nil, fmt.Errorf("linear regression: noise must be non-negative, got %g", c.Noise)
	}
	r := rng.New(c.Seed)
	w := make([]float64, c.Dim)
	for i := range w {
		w[i] = r.Normal()
	}
	b := r.Normal()
	draw := func(m int, name string) *Dataset {
		xs := make([]float64, m*c.Dim)
		ys := make([]float64, m)
		for i := range m {
			y := b
			for j := range c.Dim {
				xs[i*c.Dim+j] = r.Normal()
				y += float64(w[j] * xs[i*c.Dim+j]) // each product rounded: no fused multiply-add
			}
			ys[i] = y + float64(c.Noise*r.Normal())
		}
		return &Dataset{Name: name, Inputs: tensors.FromFlatDataAndDimensions(xs, m, c.Dim),
			Targets: tensors.FromFlatDataAndDimensions(ys, m, 1)}
	}
	train = draw(c.Train, "linear-regression/train")
	if c.Test > 0 {
		test = draw(c.Test, "linear-regression/test")
	}
	return train, test, nil
}
