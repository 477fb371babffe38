package replay

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/models"
)

// Group is R replicas of the model advancing in lockstep, each with its own parameters and optimizer state.
type Group struct {
	e     *Engine
	size  int
	carry []*tensors.Tensor // params…, state…, count: what one step maps to the next
	view  bool              // a Select of all replicas: shares carry, owns nothing
}

// NewGroup starts a group with one replica per starting point; each start is a flat parameter vector (see
// models.Model) and the optimizer state starts fresh.
func (e *Engine) NewGroup(starts [][]float64) (*Group, error) {
	r := len(starts)
	if r == 0 {
		return nil, fmt.Errorf("replay: a group needs at least one replica")
	}
	want := models.NumParams(e.problem.Model)
	for i, s := range starts {
		if len(s) != want {
			return nil, fmt.Errorf("replay: start %d has %d parameters, the model %s has %d", i, len(s), e.problem.Model.Name(), want)
		}
	}
	g := &Group{e: e, size: r}
	offset := 0
	for i, p := range e.params {
		size := p.Size()
		flat := make([]float64, 0, r*size)
		for _, s := range starts {
			flat = append(flat, s[offset:offset+size]...)
		}
		offset += size
		g.carry = append(g.carry, e.fromFloat64(flat, e.shape(i, r).Dimensions))
	}
	k := e.rule.StateSize()
	for i := range e.params {
		for range k {
			g.carry = append(g.carry, tensors.FromShape(e.shape(i, r)))
		}
	}
	g.carry = append(g.carry, tensors.FromShape(shapes.Make(e.dtype, r)))
	return g, nil
}

// Size returns the number of replicas R.
func (g *Group) Size() int { return g.size }

// Step applies one update map to every active replica: replica r uses the batch of example indices
// batches[r·B : (r+1)·B] of the training data; inactive replicas are left exactly as they are (their batch
// indices are ignored but must be valid, e.g. zeros).
func (g *Group) Step(batches []int32, active []bool) error {
	if len(active) != g.size || len(batches)%g.size != 0 || len(batches) == 0 {
		return fmt.Errorf("replay: a step of %d replicas needs %d active flags and R·B batch indices, got %d and %d",
			g.size, g.size, len(active), len(batches))
	}
	for _, i := range batches {
		if i < 0 || int(i) >= g.e.train.len {
			return fmt.Errorf("replay: example index %d outside the training data (%d examples)", i, g.e.train.len)
		}
	}
	args := make([]any, 0, len(g.carry)+4)
	for _, t := range g.carry {
		args = append(args, t)
	}
	if g.e.train.inputs != nil {
		args = append(args, g.e.train.inputs)
	}
	args = append(args, g.e.train.targets,
		tensors.FromFlatDataAndDimensions(batches, g.size, len(batches)/g.size),
		tensors.FromFlatDataAndDimensions(active, g.size))
	out, err := g.e.step.Exec(args...)
	if err != nil {
		return fmt.Errorf("replay: update step: %w", err)
	}
	for _, t := range g.carry {
		t.FinalizeAll()
	}
	g.carry = out
	return nil
}

// Thetas returns each replica's flat parameter vector, as float64.
func (g *Group) Thetas() ([][]float64, error) {
	thetas := make([][]float64, g.size)
	for i, p := range g.e.params {
		flat, err := toFloat64(g.carry[i])
		if err != nil {
			return nil, err
		}
		size := p.Size()
		for r := range thetas {
			thetas[r] = append(thetas[r], flat[r*size:(r+1)*size]...)
		}
	}
	return thetas, nil
}

// Select returns the parameters of the listed replicas as a new group of len(slots) replicas, for reading
// (Thetas, Loss) without moving the whole group off the device. It has no optimizer state and must not be
// stepped. Close it after use.
func (g *Group) Select(slots []int) (*Group, error) {
	identity := len(slots) == g.size
	for i, s := range slots {
		if s < 0 || s >= g.size {
			return nil, fmt.Errorf("replay: replica %d of a group of %d", s, g.size)
		}
		identity = identity && s == i
	}
	np := len(g.e.params)
	if identity {
		return &Group{e: g.e, size: g.size, carry: g.carry[:np], view: true}, nil
	}
	idx := make([]int32, len(slots))
	for i, s := range slots {
		idx[i] = int32(s)
	}
	args := make([]any, 0, np+1)
	for _, t := range g.carry[:np] {
		args = append(args, t)
	}
	out, err := g.e.pick.Exec(append(args, tensors.FromFlatDataAndDimensions(idx, len(idx)))...)
	if err != nil {
		return nil, fmt.Errorf("replay: selecting replicas: %w", err)
	}
	return &Group{e: g.e, size: len(slots), carry: out}, nil
}

// Subset names the data a loss is evaluated on.
type Subset string

const (
	// TrainData is the training data.
	TrainData Subset = "train"
	// TestData is the test data.
	TestData Subset = "test"
)

// evalChunk is the number of examples evaluated per graph call.
const evalChunk = 1024

// Loss returns each replica's mean loss over the whole subset. It is an error to ask for the test data of a
// problem without test data.
func (g *Group) Loss(subset Subset) ([]float64, error) {
	d := g.e.train
	if subset == TestData {
		d = g.e.test
	}
	if d == nil {
		return nil, fmt.Errorf("replay: problem %q has no %s data", g.e.problem.Name, subset)
	}
	total := make([]float64, g.size)
	np := len(g.e.params)
	for lo := 0; lo < d.len; lo += evalChunk {
		hi := min(lo+evalChunk, d.len)
		idx := make([]int32, hi-lo)
		for i := range idx {
			idx[i] = int32(lo + i)
		}
		args := make([]any, 0, np+3)
		for _, t := range g.carry[:np] {
			args = append(args, t)
		}
		if d.inputs != nil {
			args = append(args, d.inputs)
		}
		args = append(args, d.targets, tensors.FromFlatDataAndDimensions(idx, len(idx)))
		out, err := g.e.loss.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("replay: evaluating the %s loss: %w", subset, err)
		}
		means, err := toFloat64(out[0])
		if err != nil {
			return nil, err
		}
		for r, m := range means {
			total[r] += m * float64(hi-lo)
		}
	}
	for r := range total {
		total[r] /= float64(d.len)
	}
	return total, nil
}

// Close frees the group's device memory.
func (g *Group) Close() {
	if g.view {
		g.carry = nil
		return
	}
	for _, t := range g.carry {
		t.FinalizeAll()
	}
	g.carry = nil
}

// fromFloat64 builds a host tensor of the engine dtype from float64 values.
func (e *Engine) fromFloat64(flat []float64, dims []int) *tensors.Tensor {
	if e.dtype == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(flat, dims...)
	}
	f32 := make([]float32, len(flat))
	for i, v := range flat {
		f32[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(f32, dims...)
}

// toFloat64 copies a float32 or float64 tensor to the host as float64 values (exact for both).
func toFloat64(t *tensors.Tensor) ([]float64, error) {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.CopyFlatData[float64](t)
	case dtypes.Float32:
		f32, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(f32))
		for i, v := range f32 {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("replay: unexpected dtype %s", t.DType())
}
