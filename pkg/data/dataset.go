// Package data holds training data on the host and decides which examples form each batch: data sets, the
// batch sampler whose history is what a replay needs, and the synthetic generators of the paper's toy problems.
package data

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Dataset is a set of examples held on the host, indexed along the first axis of its tensors.
//
// Inputs has shape [M, ...] and Targets [M, ...], M the number of examples. Inputs is nil for problems whose
// loss depends on the targets alone, such as the quadratic of Section 3.1. Floating-point tensors are converted
// to the dtype of a run when they are placed on the device; integer targets (class labels) are kept as they are.
type Dataset struct {
	// Name says what the data is, e.g. "quadratic-noise" or "fashion-mnist/train".
	Name string
	// Inputs are the model inputs, [M, ...], or nil.
	Inputs *tensors.Tensor
	// Targets are what the loss compares the model output with, [M, ...].
	Targets *tensors.Tensor
}

// Len returns the number of examples M.
func (d *Dataset) Len() int {
	if d == nil || d.Targets == nil {
		return 0
	}
	return d.Targets.Shape().Dimensions[0]
}

// Validate checks that the tensors agree on the number of examples and are of supported types.
func (d *Dataset) Validate() error {
	if d == nil || d.Targets == nil {
		return fmt.Errorf("data set has no targets")
	}
	m := d.Len()
	if m == 0 {
		return fmt.Errorf("data set %q is empty", d.Name)
	}
	if d.Inputs != nil {
		if d.Inputs.Rank() == 0 || d.Inputs.Shape().Dimensions[0] != m {
			return fmt.Errorf("data set %q: inputs %s and targets %s disagree on the number of examples",
				d.Name, d.Inputs.Shape(), d.Targets.Shape())
		}
		if !d.Inputs.DType().IsFloat() {
			return fmt.Errorf("data set %q: inputs must be floating point, got %s", d.Name, d.Inputs.DType())
		}
	}
	if dt := d.Targets.DType(); !dt.IsFloat() && dt != dtypes.Int32 {
		return fmt.Errorf("data set %q: targets must be floating point or int32 labels, got %s", d.Name, dt)
	}
	return nil
}

// Split returns copies of the first k examples and of the rest, named Name+"[:k]" and Name+"[k:]": e.g. a
// validation set held out of a test set. k must leave both parts non-empty.
func (d *Dataset) Split(k int) (head, tail *Dataset, err error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	if k <= 0 || k >= d.Len() {
		return nil, nil, fmt.Errorf("data set %q: cannot split %d examples at %d; both parts must be non-empty", d.Name, d.Len(), k)
	}
	head = &Dataset{Name: fmt.Sprintf("%s[:%d]", d.Name, k)}
	tail = &Dataset{Name: fmt.Sprintf("%s[%d:]", d.Name, k)}
	if d.Inputs != nil {
		if head.Inputs, tail.Inputs, err = splitRows(d.Inputs, k); err != nil {
			return nil, nil, err
		}
	}
	if head.Targets, tail.Targets, err = splitRows(d.Targets, k); err != nil {
		return nil, nil, err
	}
	return head, tail, nil
}

// splitRows copies the rows [0, k) and [k, M) of a tensor of shape [M, ...].
func splitRows(t *tensors.Tensor, k int) (*tensors.Tensor, *tensors.Tensor, error) {
	switch t.DType() {
	case dtypes.Float32:
		return splitTyped[float32](t, k)
	case dtypes.Float64:
		return splitTyped[float64](t, k)
	case dtypes.Int32:
		return splitTyped[int32](t, k)
	}
	return nil, nil, fmt.Errorf("data: cannot split a tensor of dtype %s", t.DType())
}

func splitTyped[T float32 | float64 | int32](t *tensors.Tensor, k int) (*tensors.Tensor, *tensors.Tensor, error) {
	flat, err := tensors.CopyFlatData[T](t)
	if err != nil {
		return nil, nil, err
	}
	dims := t.Shape().Dimensions
	row := len(flat) / dims[0]
	headDims, tailDims := append([]int{k}, dims[1:]...), append([]int{dims[0] - k}, dims[1:]...)
	return tensors.FromFlatDataAndDimensions(flat[:k*row], headDims...),
		tensors.FromFlatDataAndDimensions(flat[k*row:], tailDims...), nil
}
