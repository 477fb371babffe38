// Package replay runs update maps on replicas in lockstep. An Engine compiles, for one problem, rule and dtype,
// the graph of one update map applied to R independent replicas at once: every parameter (and every piece of
// optimizer state) carries a leading replica axis, each replica gathers its own batch by index from training data
// that lives on the device, and each gets exactly its own gradient, because the objective differentiated is the
// sum over replicas of each replica's mean batch loss. A replica can sit a step out (it is then left unchanged),
// and restart inside a step from a table of starting points (Group.StepFrom), which lets replays of different
// lengths share one group, a finished replay's slot taking the next replay at once.
package replay

import (
	"fmt"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// Engine compiles and runs update maps and loss evaluations of one problem and rule, for groups of replicas.
type Engine struct {
	backend compute.Backend
	device  compute.DeviceNum // where its data lives and its graphs run
	problem *problem.Problem
	rule    update.Rule
	dtype   dtypes.DType
	params  []models.Param
	// metrics is the model the metrics graphs (loss, batch-norm statistics) build: the problem's, except on XLA's
	// CPU plugin, where a convolutional network on the automatic path evaluates through native convolutions
	// (metricsModel).
	metrics models.Model

	train, test *deviceData
	inputs      bool  // whether the data has inputs, which the graphs then take as an argument before the targets
	width       int   // when positive, the number of slots of every group (SetWidth)
	graphs            // compiled on first use, shared with the engines of the same graphs (sharedGraphs)
	grad, hvp   *Exec // gradients and Hessian-vector products of batch losses, built on first use

	forwardScalars int64 // models.ForwardScalars of the model on a training example, computed on first use
}

// deviceData is a data set converted to the engine's dtype, uploaded once.
type deviceData struct {
	inputs, targets *tensors.Tensor // inputs may be nil
	len             int
}

// New compiles nothing yet (graphs compile on first use, once per group size) but checks the problem and rule,
// and places the data on the device in the given dtype (Float32 or Float64).
func New(backend compute.Backend, p *problem.Problem, rule update.Rule, dtype dtypes.DType) (*Engine, error) {
	return NewOnDevice(backend, 0, p, rule, dtype)
}

// NewOnDevice is New on one device of a backend with several (backend.NumDevices(), e.g. the GPUs of a host):
// the engine's data is placed there and its graphs run there, so engines on different devices run at once.
func NewOnDevice(backend compute.Backend, device compute.DeviceNum, p *problem.Problem, rule update.Rule, dtype dtypes.DType) (*Engine, error) {
	if n := backend.NumDevices(); device < 0 || int(device) >= n {
		return nil, fmt.Errorf("replay: device %d of a backend with %d devices (%s)", device, n, backend.Name())
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	if dtype != dtypes.Float32 && dtype != dtypes.Float64 {
		return nil, fmt.Errorf("replay: dtype must be float32 or float64, got %s", dtype)
	}
	e := &Engine{backend: backend, device: device, problem: p, rule: rule, dtype: dtype, params: p.Model.Params(),
		metrics: metricsModel(backend, p.Model)}
	var err error
	if e.train, err = e.upload(p.Train); err != nil {
		return nil, err
	}
	if p.Test != nil {
		if e.test, err = e.upload(p.Test); err != nil {
			return nil, err
		}
	}
	e.inputs = e.train.inputs != nil
	set, err := sharedGraphs(e)
	if err != nil {
		return nil, err
	}
	e.graphs = *set
	return e, nil
}

// metricsModel returns the model whose graphs compute metrics on a backend: on XLA's CPU plugin a convolutional
// network on the automatic path (models.AutoPath) computes them through native convolutions
// (models.GroupedPath, which for the one replica of an evaluation call is a plain convolution): for ResNet-18 at
// width 1/16 2.3× faster than patch matrices there (BenchmarkConvNetEvaluate), whose k²-fold copies of every
// activation make a forward pass memory-bound. Training keeps the path the model chose (there patches are 7–12×
// faster, see models.AutoPath). The two paths compute the same function to rounding, so metrics differ from the
// patch path's in their last bits only.
func metricsModel(b compute.Backend, m models.Model) models.Model {
	onXLACPU := backend.OnCPU(b) && !backend.IsGo(b)
	if c, ok := m.(models.Convolutional); ok && c.ConvolutionPath() == models.AutoPath && onXLACPU {
		return c.WithPath(models.GroupedPath)
	}
	return m
}

// graphs are the compiled graph functions of an engine.
type graphs struct {
	step    *Exec // params, state, count, data, indices, active → params, state, count
	stepAll *Exec // the same without the active flags, for steps where every replica is active
	restart *Exec // the masked step, after restarting the listed replicas from a table of starts
	steps   *Exec // K masked steps in one execution (Group.Steps), K read from the indices' shape
	loss    *Exec // params, data, indices → mean loss (and accuracy, for classifiers) per replica
	pick    *Exec // carry, slots → the carry of the listed replicas
	stats   *Exec // params, training inputs, calibration indices → batch-norm statistics (Calibrated models)
}

// An engine's graphs depend on its backend, model, loss, rule and dtype, and on whether its data has inputs
// (the data itself, the group sizes and the device are arguments and shapes, which each Exec caches by). Engines
// that agree on all of these share one set of graphs, so that each shape compiles once per process, not once per
// engine: an experiment makes engines per job and device, a figure or a test several experiments of the same
// model, and on XLA compiling a set took seconds even for a small MLP. The key is the Go-syntax form (%#v) of
// the model, loss and rule values, which shows every field (a pointer field shows its address, so two distinct
// pointers never share). The most recently used sets are kept, up to maxSharedGraphs.
var (
	sharedMu     sync.Mutex
	sharedByKey  = map[string]*graphs{}
	sharedRecent []string // keys, least recently used first
)

// maxSharedGraphs bounds the sets kept for reuse (an evicted set lives on in the engines that use it).
const maxSharedGraphs = 32

// sharedGraphs returns the graphs for e: those of an earlier engine of the same key, or new ones built with e.
func sharedGraphs(e *Engine) (*graphs, error) {
	key := fmt.Sprintf("%p|%#v|%#v|%#v|%s|%t", e.backend, e.problem.Model, e.problem.Loss, e.rule, e.dtype, e.inputs)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if i := slices.Index(sharedRecent, key); i >= 0 {
		sharedRecent = append(slices.Delete(sharedRecent, i, i+1), key)
		return sharedByKey[key], nil
	}
	// The graphs are built with a copy of what they read, not e itself, which holds data on a device.
	builder := &Engine{backend: e.backend, problem: &problem.Problem{Name: e.problem.Name, Model: e.problem.Model,
		Loss: e.problem.Loss}, rule: e.rule, dtype: e.dtype, params: e.params, metrics: e.metrics, inputs: e.inputs}
	set, err := builder.newGraphs()
	if err != nil {
		return nil, err
	}
	if len(sharedRecent) == maxSharedGraphs {
		delete(sharedByKey, sharedRecent[0])
		sharedRecent = sharedRecent[1:]
	}
	sharedByKey[key], sharedRecent = set, append(sharedRecent, key)
	return set, nil
}

// newGraphs prepares e's graph functions (nothing compiles before a call).
func (e *Engine) newGraphs() (*graphs, error) {
	var s graphs
	var err error
	if s.step, err = compile(e.backend, func(in []*Node) []*Node { return e.stepGraph(in, true) }); err != nil {
		return nil, err
	}
	if s.stepAll, err = compile(e.backend, func(in []*Node) []*Node { return e.stepGraph(in, false) }); err != nil {
		return nil, err
	}
	if s.restart, err = compile(e.backend, e.restartGraph); err != nil {
		return nil, err
	}
	if s.steps, err = compile(e.backend, e.stepsGraph); err != nil {
		return nil, err
	}
	if s.loss, err = compile(e.backend, e.lossGraph); err != nil {
		return nil, err
	}
	if s.pick, err = compile(e.backend, pickGraph); err != nil {
		return nil, err
	}
	if _, ok := e.problem.Model.(models.Calibrated); ok {
		if s.stats, err = compile(e.backend, e.statsGraph); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// compile prepares a graph function for execution; its graphs are cached for every group size and data shape
// the engine meets, without the default cap.
func compile(backend compute.Backend, graphFn func(in []*Node) []*Node) (*Exec, error) {
	exec, err := NewExec(backend, graphFn)
	if err != nil {
		return nil, err
	}
	exec.SetMaxCache(-1)
	return exec, nil
}

// SetWidth fixes the width of the engine's groups: every group of at most w replicas then runs in w slots, the
// slots beyond its replicas idle (masked), and every evaluation call holds the same number of slots. 0, the
// default, lets a group be as wide as its replicas. Call it before making groups.
//
// The width matters on XLA, which chooses how to vectorise a loop, and in which order to sum a reduction, by the
// shapes of the graph: a replica's float32 and float64 numbers there depend on how many slots its group has —
// though not on which slot it occupies or on the replicas beside it (TestFixedWidthMakesNumbersIndependent).
// With a fixed width, a replica's numbers are the same in every group, device and shard; the width is then part
// of a run's identity (runs.Config.GroupWidth). The pure-Go backend computes every replica alike at any width.
func (e *Engine) SetWidth(w int) error {
	if w < 0 {
		return fmt.Errorf("replay: group width %d; it must be positive, or 0 for groups as wide as their replicas", w)
	}
	e.width = w
	return nil
}

// Width returns the fixed width of the engine's groups, or 0 (see SetWidth).
func (e *Engine) Width() int { return e.width }

// slotsFor returns the number of slots of a group of r replicas.
func (e *Engine) slotsFor(r int) (int, error) {
	if e.width == 0 {
		return r, nil
	}
	if r > e.width {
		return 0, fmt.Errorf("replay: a group of %d replicas on an engine whose groups are %d wide (SetWidth)", r, e.width)
	}
	return e.width, nil
}

// Problem returns the engine's problem.
func (e *Engine) Problem() *problem.Problem { return e.problem }

// DType returns the dtype of parameters and data.
func (e *Engine) DType() dtypes.DType { return e.dtype }

// Backend returns the backend the engine runs on.
func (e *Engine) Backend() compute.Backend { return e.backend }

// upload converts a data set's floating-point tensors to the engine dtype and places them on the device.
func (e *Engine) upload(d *data.Dataset) (*deviceData, error) {
	dd := &deviceData{len: d.Len()}
	var err error
	if d.Inputs != nil {
		if dd.inputs, err = e.toDevice(d.Inputs); err != nil {
			return nil, err
		}
	}
	if dd.targets, err = e.toDevice(d.Targets); err != nil {
		return nil, err
	}
	return dd, nil
}

func (e *Engine) toDevice(host *tensors.Tensor) (*tensors.Tensor, error) {
	// Always the engine's own copy, on its device: the problem's tensor may be read by engines on other devices at
	// the same time, and a tensor holds one device buffer, which GoMLX would move from device to device.
	t, err := host.OnDeviceClone(e.backend, e.device)
	if err != nil {
		return nil, fmt.Errorf("replay: placing %s data on device %d: %w", host.Shape(), e.device, err)
	}
	if !t.DType().IsFloat() || t.DType() == e.dtype {
		return t, nil
	}
	defer t.FinalizeAll()
	convert, err := converter(e.backend, e.dtype)
	if err != nil {
		return nil, err
	}
	out, err := e.call(convert, t)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// converters holds, per backend and dtype, the graph that converts data to that dtype, shared by the engines of a
// process: each data shape compiles once, not once per engine (an experiment makes an engine per device and job,
// and on XLA each compilation took about 0.1 s).
var converters sync.Map // converterKey → *Exec

type converterKey struct {
	backend compute.Backend
	dtype   dtypes.DType
}

// converter returns the shared graph that converts a tensor to dtype on b.
func converter(b compute.Backend, dtype dtypes.DType) (*Exec, error) {
	key := converterKey{b, dtype}
	if c, ok := converters.Load(key); ok {
		return c.(*Exec), nil
	}
	c, err := compile(b, func(in []*Node) []*Node { return []*Node{ConvertDType(in[0], dtype)} })
	if err != nil {
		return nil, err
	}
	actual, _ := converters.LoadOrStore(key, c)
	return actual.(*Exec), nil
}

// call runs a compiled graph on the engine's device. (GoMLX v0.28.2's Exec.CallOnDevice runs on device 0 whatever
// device it is given; CallWithGraphOnDevice honours it.) A tensor argument must be on the host or on the engine's
// device: one on another device is an error that names it by shape, never by its contents.
func (e *Engine) call(exec *Exec, args ...any) ([]*tensors.Tensor, error) {
	for i, a := range args {
		if t, ok := a.(*tensors.Tensor); !ok {
			continue
		} else if d, err := t.Device(); err == nil && d != e.device {
			return nil, fmt.Errorf("replay: argument %d of %s (%s) is on device %d, the engine runs on device %d",
				i, exec.Name(), t.Shape(), d, e.device)
		}
	}
	out, _, err := exec.CallWithGraphOnDevice(e.device, args...)
	return out, err
}

// Device returns the device the engine runs on.
func (e *Engine) Device() compute.DeviceNum { return e.device }

// stepGraph builds one update map for a group:
// inputs = params…, state…, count, [data inputs], data targets, indices [R, B], and with masked the active flags
// [R]; outputs = params…, state…, count. Without masked every replica takes the step (masking costs a
// broadcast and a selection per tensor, which the engine skips when no replica sits out).
func (e *Engine) stepGraph(in []*Node, masked bool) []*Node {
	l := e.layout()
	n := l.size()
	params, count := in[:l.params], in[n-1]
	x, y, rest := e.trainingBatches(in[n:])
	var active *Node
	if masked {
		active = rest[0]
	}
	grads := e.gradients(params, x, y)

	var newCount *Node
	if masked {
		newCount = Add(count, ConvertDType(active, e.dtype))
	} else {
		newCount = AddScalar(count, 1)
	}
	keep := func(updated, old *Node) *Node {
		if masked {
			return Where(active, updated, old)
		}
		return updated
	}
	out := make([]*Node, n)
	for i, p := range params {
		state := l.stateOf(in, i)
		next, newState := e.rule.Update(p, grads[i], state, newCount)
		out[i] = keep(next, p)
		for j, name := range l.state {
			out[l.stateAt(i, j)] = keep(newState[name], state[name])
		}
	}
	out[n-1] = newCount
	return out
}

// restartGraph builds a masked update map that first restarts some replicas: inputs = those of the masked step
// (carry…, data, indices [R, B], active [R]), then a table of starts (carry… with K entries) and from [R]; a
// replica with from ≥ 0 takes entry from of the table (θ, optimizer state and step count) before its step, the
// others keep their carry. Restarting inside the step costs one selection per carry tensor, and no separate call.
func (e *Engine) restartGraph(in []*Node) []*Node {
	n := e.layout().size()
	table, from := in[len(in)-n-1:len(in)-1], in[len(in)-1]
	in = in[:len(in)-n-1]
	restart := GreaterOrEqual(from, ScalarZero(from.Graph(), from.DType()))
	at := InsertAxes(MaxScalar(from, 0), -1)
	carry := make([]*Node, 0, len(in))
	for i, t := range in[:n] {
		carry = append(carry, Where(restart, Gather(table[i], at), t))
	}
	return e.stepGraph(append(carry, in[n:]...), true)
}

// stepsGraph builds K update maps applied one after the other in one graph, each the masked step of stepGraph:
// inputs = carry…, [data inputs], data targets, indices [K, R, B], active [R]; outputs = the carry after the K
// maps. The same replicas are active in all K (a block of steps in which no replay ends or reports). The maps
// run in a While loop over one step, not unrolled: XLA compiles the loop's body once, whatever K (in a test that
// compiled on three devices at once on two cores, 5.2 s per compilation of a small MLP's 8-fold unrolled graph
// against 2.1 s for the loop), and it gives the same bits as the steps one by one (TestStepsEqualsSteppingOneByOne).
func (e *Engine) stepsGraph(in []*Node) []*Node {
	n := e.layout().size()
	carry, data := in[:n], in[n:len(in)-2]
	indices, active := in[len(in)-2], in[len(in)-1]
	d := indices.Shape().Dimensions // [K, R, B]
	// The loop's state is the step counter, the carry and, passed through unchanged, the data, the indices and the
	// active flags (a closure reads only its parameters).
	g := indices.Graph()
	fixed := append(append([]*Node{}, data...), indices, active)
	state := func(g *Graph) (k *Node, c, f []*Node) {
		k = Parameter(g, "k", shapes.Make(dtypes.Int32))
		c = make([]*Node, n)
		for i, x := range carry {
			c[i] = Parameter(g, fmt.Sprintf("carry%d", i), x.Shape())
		}
		f = make([]*Node, len(fixed))
		for i, x := range fixed {
			f[i] = Parameter(g, fmt.Sprintf("fixed%d", i), x.Shape())
		}
		return k, c, f
	}
	cond := NewClosure(g, func(g *Graph) []*Node {
		k, _, _ := state(g)
		return []*Node{LessThan(k, Const(g, int32(d[0])))}
	})
	body := NewClosure(g, func(g *Graph) []*Node {
		k, c, f := state(g)
		ind, act := f[len(f)-2], f[len(f)-1]
		at := Gather(ind, Reshape(k, 1)) // [R, B]
		step := append(append(append([]*Node{}, c...), f[:len(f)-2]...), at, act)
		return append(append([]*Node{AddScalar(k, 1)}, e.stepGraph(step, true)...), f...)
	})
	out := While(cond, body, append(append([]*Node{Const(g, int32(0))}, carry...), fixed...)...)
	return out[1 : 1+n]
}

// trainingBatches reads the graph inputs that follow the carry in dataArgs (the training inputs, if the problem
// has any, its targets and the example indices [R, B]) and gathers each replica's batch: x [R, B, ...] (nil
// without inputs) and y [R, B, ...]. It returns the inputs after them.
func (e *Engine) trainingBatches(in []*Node) (x, y *Node, rest []*Node) {
	if e.inputs {
		x, in = in[0], in[1:]
	}
	at := InsertAxes(in[1], -1) // [R, B, 1]
	if x != nil {
		x = Gather(x, at)
	}
	return x, Gather(in[0], at), in[2:]
}

// gradients builds each replica's gradient of its mean batch loss, by the model's own backpropagation where it
// has one (models.Backpropagator with a problem.OutputGradienter loss), else by graph.Gradient of the sum over
// replicas of the mean losses.
func (e *Engine) gradients(params []*Node, x, y *Node) []*Node {
	bp, okModel := e.problem.Model.(models.Backpropagator)
	og, okLoss := e.problem.Loss.(problem.OutputGradienter)
	if okModel && okLoss && x != nil {
		return bp.Backprop(params, x, func(out *Node) *Node { return og.OutputGradient(out, y) })
	}
	losses := e.problem.Loss.Mean(e.problem.Model.Apply(params, x), y)
	return Gradient(ReduceAllSum(losses), params...)
}

// lossGraph builds the mean loss of each replica over the examples at the given indices, and their accuracy when
// the loss is a problem.Classifier: inputs = params…, [data inputs], data targets, indices [C], and for
// models.Calibrated models their batch-norm statistics…; outputs = mean loss [R] (, accuracy [R]).
func (e *Engine) lossGraph(in []*Node) []*Node {
	np := len(e.params)
	params, rest := in[:np], in[np:]
	var x *Node
	if e.inputs {
		x, rest = rest[0], rest[1:]
	}
	y, indices, stats := rest[0], rest[1], rest[2:]
	at := InsertAxes(indices, -1)
	if x != nil {
		x = InsertAxes(Gather(x, at), 0) // [1, C, ...]: the same examples for every replica
	}
	y = InsertAxes(Gather(y, at), 0)
	var predictions *Node
	if cm, ok := e.metrics.(models.Calibrated); ok {
		predictions = cm.ApplyWithStatistics(params, x, stats)
	} else {
		predictions = e.metrics.Apply(params, x)
	}
	out := []*Node{e.problem.Loss.Mean(predictions, y)}
	if c, ok := e.problem.Loss.(problem.Classifier); ok {
		out = append(out, c.Accuracy(predictions, y))
	}
	return out
}

// statsGraph builds the batch-norm statistics of a models.Calibrated model on the first CalibrationExamples
// training examples: inputs = params…, training inputs, calibration indices [K].
func (e *Engine) statsGraph(in []*Node) []*Node {
	np := len(e.params)
	calibration := InsertAxes(Gather(in[np], InsertAxes(in[np+1], -1)), 0)
	return e.metrics.(models.Calibrated).Statistics(in[:np], calibration)
}

// pickGraph gathers the listed replicas of every carry tensor: inputs = carry…, slots [S]; outputs = carry… with
// S replicas.
func pickGraph(in []*Node) []*Node {
	slots := InsertAxes(in[len(in)-1], -1)
	out := make([]*Node, len(in)-1)
	for i, p := range in[:len(in)-1] {
		out[i] = Gather(p, slots)
	}
	return out
}

// paramOffset returns where parameter i starts in the flat vector θ.
func (e *Engine) paramOffset(i int) int {
	offset := 0
	for _, p := range e.params[:i] {
		offset += p.Size()
	}
	return offset
}

// replicated builds the tensor of parameter i for len(vectors) replicas from flat vectors laid out like θ; a nil
// vector stands for zeros.
func (e *Engine) replicated(i int, vectors [][]float64) *tensors.Tensor {
	offset, size := e.paramOffset(i), e.params[i].Size()
	flat := make([]float64, 0, len(vectors)*size)
	for _, v := range vectors {
		if v != nil {
			flat = append(flat, v[offset:offset+size]...)
		} else {
			flat = append(flat, make([]float64, size)...)
		}
	}
	return e.fromFloat64(flat, e.shape(i, len(vectors)).Dimensions)
}

// perReplica is the inverse of replicated: from one tensor per parameter, each with a leading axis of r
// replicas, it builds every replica's flat vector laid out like θ.
func (e *Engine) perReplica(perParam []*tensors.Tensor, r int) ([][]float64, error) {
	out := make([][]float64, r)
	for i, t := range perParam {
		flat, err := toFloat64(t)
		if err != nil {
			return nil, err
		}
		size := e.params[i].Size()
		for k := range out {
			out[k] = append(out[k], flat[k*size:(k+1)*size]...)
		}
	}
	return out, nil
}

// shape returns the shape of parameter i for a group of r replicas.
func (e *Engine) shape(i, r int) shapes.Shape {
	return shapes.Make(e.dtype, append([]int{r}, e.params[i].Dims...)...)
}
