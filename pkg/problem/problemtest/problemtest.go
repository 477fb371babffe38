// Package problemtest builds problems for tests of the packages that run them.
package problemtest

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
)

// ImageLike is a classification problem with FashionMNIST's shapes (784 features in [0, 1), 10 classes) on
// random data drawn from seed, the same examples for training and testing, fitted by an MLP 784-hidden-10 with
// ReLU. It is large enough that an evaluation of a few replicas is split into several calls.
func ImageLike(examples, hidden int, seed uint64) *problem.Problem {
	src := rng.New(seed)
	x := make([]float32, examples*784)
	for i := range x {
		x[i] = float32(src.Float64())
	}
	y := make([]int32, examples)
	for i := range y {
		y[i] = int32(src.IntN(10))
	}
	d := &data.Dataset{Name: "image-like", Inputs: tensors.FromFlatDataAndDimensions(x, examples, 784),
		Targets: tensors.FromFlatDataAndDimensions(y, examples)}
	return &problem.Problem{Name: "image-like", Model: models.MLP{Widths: []int{784, hidden, 10}, Activation: models.ReLUActivation},
		Loss: problem.CrossEntropy{}, Train: d, Test: d}
}
