package replay

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
)

// Group is R replicas of the model advancing in lockstep, each with its own parameters and optimizer state.
type Group struct {
	e     *Engine
	size  int               // R
	slots int               // the leading axis of its tensors: R, or the engine's fixed width (SetWidth)
	carry []*tensors.Tensor // params…, state…, count: what one step maps to the next
	view  bool              // a Select of all replicas: shares carry, owns nothing
	stats []*tensors.Tensor // batch-norm statistics of the current parameters (Calibrated models), or nil
}

// statistics returns the batch-norm statistics of the group's current parameters on the calibration examples,
// computing them once per parameter value; nil for models without batch normalisation.
func (g *Group) statistics() ([]*tensors.Tensor, error) {
	if g.e.stats == nil || g.stats != nil {
		return g.stats, nil
	}
	np := len(g.e.params)
	idx := make([]int32, min(models.CalibrationExamples, g.e.train.len))
	for i := range idx {
		idx[i] = int32(i)
	}
	args := make([]any, 0, np+2)
	for _, t := range g.e.iterateTensors(g.carry) {
		args = append(args, t)
	}
	args = append(args, g.e.train.inputs, tensors.FromFlatDataAndDimensions(idx, len(idx)))
	out, err := g.e.call(g.e.stats, args...)
	if err != nil {
		return nil, fmt.Errorf("replay: batch-norm calibration: %w", err)
	}
	g.stats = out
	return out, nil
}

// dropStatistics frees the cached statistics (the parameters changed).
func (g *Group) dropStatistics() {
	finalize(g.stats)
	g.stats = nil
}

// finalize frees tensors now rather than when the garbage collector finds them.
func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}

// NewGroup starts a group with one replica per starting point θ (a flat parameter vector, see models.Model), with
// fresh optimizer state.
func (e *Engine) NewGroup(thetas [][]float64) (*Group, error) {
	carries := make([]Carry, len(thetas))
	for i, th := range thetas {
		carries[i] = Carry{Theta: th}
	}
	return e.NewGroupFrom(carries)
}

// NewGroupFrom starts a group with one replica per carry; a carry with nil State starts with fresh (zero) state.
// On an engine of fixed width the slots beyond the carries hold zeros and stay idle.
func (e *Engine) NewGroupFrom(carries []Carry) (*Group, error) {
	slots, err := e.slotsFor(len(carries))
	if err != nil {
		return nil, err
	}
	return e.newGroup(carries, slots)
}

// NewTable places carries on the device as a table of starting points for StepFrom: a group of exactly
// len(carries) replicas whatever the engine's width, meant to be read from, not stepped.
func (e *Engine) NewTable(carries []Carry) (*Group, error) { return e.newGroup(carries, len(carries)) }

// newGroup starts a group of the given number of slots, the first len(carries) holding the carries.
func (e *Engine) newGroup(carries []Carry, slots int) (*Group, error) {
	r := len(carries)
	if r == 0 {
		return nil, fmt.Errorf("replay: a group needs at least one replica")
	}
	want, k := models.NumParams(e.problem.Model), len(e.layout().state)
	for i, c := range carries {
		if len(c.Theta) != want {
			return nil, fmt.Errorf("replay: start %d has %d parameters, the model %s has %d", i, len(c.Theta), e.problem.Model.Name(), want)
		}
		if c.State != nil && len(c.State) != k {
			return nil, fmt.Errorf("replay: start %d has %d state vectors, the rule %s keeps %d", i, len(c.State), e.rule.Name(), k)
		}
	}
	g := &Group{e: e, size: r, slots: slots}
	column := func(pick func(c Carry) []float64) [][]float64 {
		vs := make([][]float64, slots)
		for i, c := range carries {
			vs[i] = pick(c)
		}
		return vs
	}
	thetas := column(func(c Carry) []float64 { return c.Theta })
	for i := range e.params {
		g.carry = append(g.carry, e.replicated(i, thetas))
	}
	for i := range e.params {
		for j := range k {
			g.carry = append(g.carry, e.replicated(i, column(func(c Carry) []float64 {
				if c.State == nil {
					return nil
				}
				return c.State[j]
			})))
		}
	}
	counts := make([]float64, slots)
	for i, c := range carries {
		counts[i] = c.Count
	}
	g.carry = append(g.carry, e.fromFloat64(counts, []int{slots}))
	return g, nil
}

// Size returns the number of replicas R.
func (g *Group) Size() int { return g.size }

// Engine returns the engine the group runs on.
func (g *Group) Engine() *Engine { return g.e }

// Step applies one update map to every active replica: replica r uses the batch of example indices
// batches[r·B : (r+1)·B] of the training data; inactive replicas are left exactly as they are (their batch
// indices are ignored but must be valid, e.g. zeros).
func (g *Group) Step(batches []int32, active []bool) error { return g.step(batches, active, nil, nil) }

// Steps applies len(batches) update maps to the active replicas in one execution: replica r uses the batch
// batches[k][r·B : (r+1)·B] in map k. It computes what as many calls of Step compute, bit for bit
// (TestStepsEqualsSteppingOneByOne), with one launch instead of K: on a CPU, where a small model's step costs little
// more than its launch, blocks of steps run faster. Each distinct K compiles a graph of its own.
func (g *Group) Steps(batches [][]int32, active []bool) error {
	if len(batches) == 1 {
		return g.Step(batches[0], active)
	}
	if len(batches) == 0 || len(active) != g.size {
		return fmt.Errorf("replay: %d steps of %d replicas need at least one batch per step and %d active flags, got %d",
			len(batches), g.size, g.size, len(active))
	}
	var flat []int32
	for _, b := range batches {
		if len(b) != len(batches[0]) || len(b)%g.size != 0 || len(b) == 0 {
			return fmt.Errorf("replay: a step of %d replicas needs R·B batch indices, got %d", g.size, len(b))
		}
		if err := g.e.checkIndices(b); err != nil {
			return err
		}
		flat = append(flat, g.pad(b)...)
	}
	per := len(flat) / len(batches)
	args := dataArgs(g.carry, g.e.train, tensors.FromFlatDataAndDimensions(flat, len(batches), g.slots, per/g.slots))
	args = append(args, tensors.FromFlatDataAndDimensions(pad(active, g.slots, false), g.slots))
	out, err := g.e.call(g.e.steps, args...)
	if err != nil {
		return fmt.Errorf("replay: %d update steps: %w", len(batches), err)
	}
	finalize(g.carry)
	g.carry = out
	g.dropStatistics()
	return nil
}

// StepFrom is Step after restarting some replicas: replica r with from[r] ≥ 0 first takes the carry of replica
// from[r] of starts (a table of starting points, Engine.NewTable: θ, optimizer state, step count), then steps if
// it is active. This is how a finished replay's slot is given the next replay at once (continuous batching)
// without moving the group off the device.
func (g *Group) StepFrom(batches []int32, active []bool, starts *Group, from []int32) error {
	if len(from) != g.size || starts == nil || starts.e != g.e {
		return fmt.Errorf("replay: a restart of %d replicas needs %d start indices and a table of the same engine", g.size, g.size)
	}
	return g.step(batches, active, starts, from)
}

// step is Step, and with a table of starts StepFrom (whose own arguments are checked).
func (g *Group) step(batches []int32, active []bool, starts *Group, from []int32) error {
	if len(active) != g.size || len(batches)%g.size != 0 || len(batches) == 0 {
		return fmt.Errorf("replay: a step of %d replicas needs %d active flags and R·B batch indices, got %d and %d",
			g.size, g.size, len(active), len(batches))
	}
	for r, k := range from {
		if int(k) >= starts.size || k >= 0 && !active[r] {
			return fmt.Errorf("replay: replica %d restarts from entry %d of a table of %d (active: %v); a restarted "+
				"replica must be active", r, k, starts.size, active[r])
		}
	}
	if err := g.e.checkIndices(batches); err != nil {
		return err
	}
	// Idle slots (beyond the replicas, on an engine of fixed width) sit the step out.
	batches, active, from = g.pad(batches), pad(active, g.slots, false), pad(from, g.slots, -1)
	args := dataArgs(g.carry, g.e.train, tensors.FromFlatDataAndDimensions(batches, g.slots, len(batches)/g.slots))
	exec, what := g.e.stepAll, "update step"
	if starts != nil || !allTrue(active) {
		exec = g.e.step
		args = append(args, tensors.FromFlatDataAndDimensions(active, g.slots))
	}
	if starts != nil {
		exec, what = g.e.restart, "update step with restarts"
		for _, t := range starts.carry {
			args = append(args, t)
		}
		args = append(args, tensors.FromFlatDataAndDimensions(from, g.slots))
	}
	out, err := g.e.call(exec, args...)
	if err != nil {
		return fmt.Errorf("replay: %s: %w", what, err)
	}
	finalize(g.carry)
	g.carry = out
	g.dropStatistics()
	return nil
}

// pad extends a group's batch indices (R·B of them) to its slots with zeros, the indices of idle slots.
func (g *Group) pad(batches []int32) []int32 {
	return pad(batches, len(batches)/g.size*g.slots, 0)
}

// pad extends xs to n values with v (nil stays nil).
func pad[T any](xs []T, n int, v T) []T {
	if xs == nil || len(xs) >= n {
		return xs
	}
	out := slices.Grow(slices.Clone(xs), n-len(xs))
	for len(out) < n {
		out = append(out, v)
	}
	return out
}

// checkIndices checks that batch indices name training examples (a gather would clamp them silently).
func (e *Engine) checkIndices(batches []int32) error {
	for _, i := range batches {
		if i < 0 || int(i) >= e.train.len {
			return fmt.Errorf("replay: example index %d outside the training data (%d examples)", i, e.train.len)
		}
	}
	return nil
}

// dataArgs lists the arguments a graph over data takes: the given carry tensors, the data set's inputs (if it
// has any) and targets, then the example indices.
func dataArgs(carry []*tensors.Tensor, d *deviceData, indices *tensors.Tensor) []any {
	args := make([]any, 0, len(carry)+3)
	for _, t := range carry {
		args = append(args, t)
	}
	if d.inputs != nil {
		args = append(args, d.inputs)
	}
	return append(args, d.targets, indices)
}

func allTrue(xs []bool) bool {
	for _, x := range xs {
		if !x {
			return false
		}
	}
	return true
}

// Thetas returns each replica's flat parameter vector, as float64.
func (g *Group) Thetas() ([][]float64, error) {
	carries, err := g.carries(false)
	if err != nil {
		return nil, err
	}
	thetas := make([][]float64, len(carries))
	for r, c := range carries {
		thetas[r] = c.Theta
	}
	return thetas, nil
}

// Iterates returns each replica's reported iterate as float64: θ, or for an averaged rule the average it keeps
// (see Engine.Iterate).
func (g *Group) Iterates() ([][]float64, error) {
	return g.e.perReplica(g.e.iterateTensors(g.carry), g.size)
}

// Carries returns what each replica carries: θ, optimizer state and step count, as float64.
func (g *Group) Carries() ([]Carry, error) { return g.carries(true) }

func (g *Group) carries(withState bool) ([]Carry, error) {
	l := g.e.layout()
	np, k := l.params, len(l.state)
	thetas, err := g.e.perReplica(g.carry[:np], g.size)
	if err != nil {
		return nil, err
	}
	out := make([]Carry, g.size)
	for r := range out {
		out[r].Theta = thetas[r]
	}
	if !withState {
		return out, nil
	}
	for r := range out {
		out[r].State = make([][]float64, k)
	}
	for j := range k {
		slot := make([]*tensors.Tensor, np) // state slot j of every parameter
		for i := range slot {
			slot[i] = g.carry[l.stateAt(i, j)]
		}
		states, err := g.e.perReplica(slot, g.size)
		if err != nil {
			return nil, err
		}
		for r := range out {
			out[r].State[j] = states[r]
		}
	}
	counts, err := toFloat64(g.carry[len(g.carry)-1])
	if err != nil {
		return nil, err
	}
	for r := range out {
		out[r].Count = counts[r]
	}
	return out, nil
}

// Select returns the listed replicas as a new group of len(slots) replicas, for reading (Thetas, Carries, Loss)
// without moving the whole group off the device. Close it after use.
func (g *Group) Select(slots []int) (*Group, error) {
	width, err := g.e.slotsFor(len(slots))
	if err != nil {
		return nil, err
	}
	return g.pick(slots, width)
}

// pick is Select into a group of the given number of slots (at least len(replicas); the others idle).
func (g *Group) pick(replicas []int, slots int) (*Group, error) {
	identity := len(replicas) == g.size && slots == g.slots
	for i, s := range replicas {
		if s < 0 || s >= g.size {
			return nil, fmt.Errorf("replay: replica %d of a group of %d", s, g.size)
		}
		identity = identity && s == i
	}
	if identity {
		return &Group{e: g.e, size: g.size, slots: g.slots, carry: g.carry, view: true}, nil
	}
	idx := make([]int32, slots) // idle slots copy the first slot
	for i, s := range replicas {
		idx[i] = int32(s)
	}
	args := make([]any, 0, len(g.carry)+1)
	for _, t := range g.carry {
		args = append(args, t)
	}
	out, err := g.e.call(g.e.pick, append(args, tensors.FromFlatDataAndDimensions(idx, len(idx)))...)
	if err != nil {
		return nil, fmt.Errorf("replay: selecting replicas: %w", err)
	}
	return &Group{e: g.e, size: len(replicas), slots: slots, carry: out}, nil
}

// Subset names the data a loss is evaluated on.
type Subset string

const (
	// TrainData is the training data.
	TrainData Subset = "train"
	// TestData is the test data.
	TestData Subset = "test"
)

// Evaluation holds each replica's metrics over a data subset.
type Evaluation struct {
	// Loss is the mean loss of each replica.
	Loss []float64
	// Accuracy is the fraction of examples classified right, for problems whose loss is a problem.Classifier;
	// nil otherwise.
	Accuracy []float64
}

// evalBudget is how much one evaluation call may hold: its input scalars (replicas × examples × features) are
// bounded to keep its activations in memory — on a CPU 2²¹, on an accelerator, whose memory holds 16 times more
// and which needs large calls to be busy, 2²⁵ — and so is its number of examples: on an accelerator 8192, on a
// CPU 1024 and at most 2²⁵ scalars of forward values (models.ForwardScalars of the model the metrics graphs
// build, Engine.metrics). The last bound matters for the convnets, whose values per example outnumber their
// inputs by hundreds: on two cores a ResNet-18 at width 1/16 through patch matrices (about 10⁶ values per
// example) evaluated 1 000 examples 1.8 times faster in calls of 25 than of 500 (BenchmarkConvNetEvaluate), while
// an MLP's calls are unchanged; through native convolutions, as on XLA's CPU plugin, its calls hold about 90.
// It returns the bounds on a call's input scalars and examples, and how many replicas × examples a call may
// hold for the forward values' bound (0: no such bound).
func (e *Engine) evalBudget() (scalars, examples, evaluations int, err error) {
	if !backend.OnCPU(e.backend) {
		return 1 << 25, 8192, 0, nil
	}
	if e.problem.Train.Inputs == nil {
		return 1 << 21, 1024, 0, nil
	}
	if e.forwardScalars == 0 {
		dims := e.problem.Train.Inputs.Shape().Dimensions[1:]
		if e.forwardScalars, err = models.ForwardScalars(e.backend, e.metrics, dims); err != nil {
			return 0, 0, 0, err
		}
	}
	evaluations = int(max(1, min(1<<30, cpuEvalValues/max(e.forwardScalars, 1))))
	return 1 << 21, min(1024, evaluations), evaluations, nil
}

// cpuEvalValues is evalBudget's bound on the forward values of a call on a CPU (a variable for
// BenchmarkConvNetEvaluate to compare bounds).
var cpuEvalValues int64 = 1 << 25

// evalChunk is the size of the calls that evaluate n examples at most `most` at a time: equal sizes where a
// divisor of n allows it without more than twice the fewest calls (each distinct size compiles its own graph),
// else `most`, with a smaller last call.
func evalChunk(n, most int) int {
	calls := (n + most - 1) / most
	for k := calls; k <= 2*calls; k++ {
		if n%k == 0 {
			return n / k
		}
	}
	return most
}

// Loss returns each replica's mean loss over the whole subset.
func (g *Group) Loss(subset Subset) ([]float64, error) {
	ev, err := g.Evaluate(subset, 0)
	return ev.Loss, err
}

// Evaluate returns each replica's metrics over the first limit examples of the subset (all of them when limit is
// 0 or larger than the subset). It is an error to ask for the test data of a problem without any.
//
// A replica's metrics do not depend on the group it is in: the examples are split into calls of a size that
// depends on the data, the model and the backend only (a float32 mean over other splits differs in its last bits), and a
// group too large for one call at that size is evaluated a slice of replicas at a time — on an engine of fixed
// width (SetWidth) every call holds the same number of slots, the last one padded, so that every call has the
// same shapes.
func (g *Group) Evaluate(subset Subset, limit int) (Evaluation, error) {
	d := g.e.train
	if subset == TestData {
		d = g.e.test
	}
	if d == nil {
		return Evaluation{}, fmt.Errorf("replay: problem %q has no %s data", g.e.problem.Name, subset)
	}
	n := d.len
	if limit > 0 {
		n = min(n, limit)
	}
	features := 1
	if d.inputs != nil {
		features = d.inputs.Shape().Size() / d.len
	}
	scalars, most, evaluations, err := g.e.evalBudget()
	if err != nil {
		return Evaluation{}, err
	}
	chunk := evalChunk(n, max(1, min(most, scalars/features)))
	slice := max(1, scalars/(chunk*features))
	if evaluations > 0 {
		slice = min(slice, max(1, evaluations/chunk))
	}
	if g.e.width > 0 {
		slice = min(slice, g.e.width) // calls of exactly `slice` slots
		if slice == g.slots {
			return g.evaluate(subset, d, n, chunk)
		}
	} else if slice >= g.slots {
		return g.evaluate(subset, d, n, chunk)
	}
	ev := Evaluation{}
	for lo := 0; lo < g.size; lo += slice {
		replicas := make([]int, 0, slice)
		for r := lo; r < min(lo+slice, g.size); r++ {
			replicas = append(replicas, r)
		}
		slots := len(replicas)
		if g.e.width > 0 {
			slots = slice
		}
		part, err := g.pick(replicas, slots)
		if err != nil {
			return Evaluation{}, err
		}
		pe, err := part.evaluate(subset, d, n, chunk)
		part.Close()
		if err != nil {
			return Evaluation{}, err
		}
		ev.Loss = append(ev.Loss, pe.Loss...)
		if pe.Accuracy != nil {
			ev.Accuracy = append(ev.Accuracy, pe.Accuracy...)
		}
	}
	return ev, nil
}

// evaluate evaluates every replica of the group on the first n examples of d (the subset's data), chunk examples per call.
func (g *Group) evaluate(subset Subset, d *deviceData, n, chunk int) (Evaluation, error) {
	_, classifier := g.e.problem.Loss.(problem.Classifier)
	ev := Evaluation{Loss: make([]float64, g.size)}
	if classifier {
		ev.Accuracy = make([]float64, g.size)
	}
	stats, err := g.statistics()
	if err != nil {
		return Evaluation{}, err
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		idx := make([]int32, hi-lo)
		for i := range idx {
			idx[i] = int32(lo + i)
		}
		args := dataArgs(g.e.iterateTensors(g.carry), d, tensors.FromFlatDataAndDimensions(idx, len(idx)))
		for _, t := range stats {
			args = append(args, t)
		}
		out, err := g.e.call(g.e.loss, args...)
		if err != nil {
			return Evaluation{}, fmt.Errorf("replay: evaluating on the %s data: %w", subset, err)
		}
		for k, dst := range [][]float64{ev.Loss, ev.Accuracy} {
			if dst == nil {
				continue
			}
			means, err := toFloat64(out[k])
			if err != nil {
				return Evaluation{}, err
			}
			for r := range dst {
				dst[r] += means[r] * float64(hi-lo) / float64(n)
			}
		}
	}
	return ev, nil
}

// Close frees the group's device memory.
func (g *Group) Close() {
	g.dropStatistics()
	if g.view {
		g.carry = nil
		return
	}
	finalize(g.carry)
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
