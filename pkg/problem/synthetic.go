package problem

import (
	"fmt"
	"slices"

	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
)

// Quadratic describes the quadratic problem of Section 3.1: L_i(θ) = ½‖θ − ε_i‖² with ε_i i.i.d. N(0, σ² I) in
// Dim dimensions. Each update map is T_i(θ) = (1 − h)θ + h ε_i, and both compositions have closed forms (see
// package order).
type Quadratic struct {
	// Dim is the dimension d of θ.
	Dim int
	// Sigma is the noise scale σ.
	Sigma float64
	// Start is every coordinate of θ_0.
	Start float64
	// Examples is the number M of noise vectors ε_i to draw batches from.
	Examples int
	// Seed seeds the noise (data.QuadraticNoise).
	Seed uint64
}

// New builds the problem.
func (q Quadratic) New() (*Problem, error) {
	noise, err := data.QuadraticNoise(q.Examples, q.Dim, q.Sigma, q.Seed)
	if err != nil {
		return nil, err
	}
	return &Problem{
		Name:   fmt.Sprintf("quadratic-%dd", q.Dim),
		Model:  models.Point{Start: slices.Repeat([]float64{q.Start}, q.Dim)},
		Loss:   HalfSquaredError{},
		Train:  noise,
		Source: sourceOf("quadratic", q),
	}, nil
}

// Regression is the synthetic regression problem of the regression-mlp figure: an MLP student fitted to a
// teacher network's noisy outputs (data.TeacherRegression) with the half squared error.
type Regression struct {
	// Data generates the training and test sets.
	Data data.TeacherRegression
	// Hidden lists the student's hidden widths.
	Hidden []int
	// Activation is the student's nonlinearity.
	Activation models.Activation
}

// New builds the problem.
func (r Regression) New() (*Problem, error) {
	train, test, err := r.Data.Generate()
	if err != nil {
		return nil, err
	}
	widths := append(append([]int{r.Data.Dim}, r.Hidden...), 1)
	mlp := models.MLP{Widths: widths, Activation: r.Activation}
	p := &Problem{Name: "teacher-regression", Model: mlp, Loss: HalfSquaredError{}, Train: train, Test: test,
		Source: sourceOf("teacher-regression", r)}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Linear is linear least squares: a linear model (an MLP without hidden layers) fitted with the half squared
// error to data.LinearRegression. Near its minimum every update map is affine, the textbook contractive case.
type Linear struct {
	// Data generates the data.
	Data data.LinearRegression
}

// New builds the problem.
func (l Linear) New() (*Problem, error) {
	train, test, err := l.Data.Generate()
	if err != nil {
		return nil, err
	}
	p := &Problem{Name: "linear-regression", Model: models.MLP{Widths: []int{l.Data.Dim, 1}},
		Loss: HalfSquaredError{}, Train: train, Test: test, Source: sourceOf("linear-regression", l)}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}
