package experiment

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/runs"
)

// task is one replay of one order for one seed, possibly resumed part-way.
type task struct {
	order, seed int // indices into Spec.Orders and Spec.Seeds
	index       int // the replay's index in the order's plan
	replay      order.Replay
	skipped     int           // maps of the replay already applied (resumed from a checkpoint)
	resume      *replay.Carry // the checkpointed carry, when resumed
}

// remaining returns the steps still to apply.
func (t *task) remaining() []int { return t.replay.Steps[t.skipped:] }

// point identifies an iterate: an order's iterate at a step for a seed.
type point struct{ order, seed, step int }

// runner holds the state of one Run.
type runner struct {
	spec      *Spec
	engine    *replay.Engine
	evaluated map[int]bool
	histories []*data.History
	known     map[point][]float64 // iterates replays start from
	starts    map[point]bool      // the iterates some replay starts from
	curves    map[[2]int]*Curve   // by (order, seed)
	stored    map[[2]int]*runs.Run
	tracker   *tracker
	stats     Stats

	unsaved  map[[2]int][]runs.Report // reports not yet committed to their run
	lastSave time.Time
}

// save commits the buffered reports to their runs: always when force is set, else once saveEvery has passed.
func (r *runner) save(force bool) error {
	every := r.spec.SaveEvery
	if every == 0 {
		every = 2 * time.Second
	}
	if !force && time.Since(r.lastSave) < every {
		return nil
	}
	r.lastSave = time.Now()
	keys := make([][2]int, 0, len(r.unsaved))
	for k := range r.unsaved {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int { return (a[0]-b[0])*1_000_000 + a[1] - b[1] })
	for _, k := range keys {
		if err := r.stored[k].Commit(r.unsaved[k]...); err != nil {
			return err
		}
		if r.spec.OnReport != nil {
			c := r.curves[k]
			for _, rep := range r.unsaved[k] {
				r.spec.OnReport(c.Order, c.Seed, rep.Step)
			}
		}
		delete(r.unsaved, k)
	}
	return nil
}

// Run executes the experiment on the backend and returns its curves. With a run store, every run is saved as it
// goes: evaluated steps already stored are read back instead of recomputed, an interrupted chain continues from
// its last checkpoint, and a run whose settings differ in anything that affects its results is a new run. Run
// stops early, returning ctx's error, when ctx is cancelled; what was stored stays stored.
func Run(ctx context.Context, b compute.Backend, spec *Spec) (*Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	engine, err := replay.New(b, spec.Problem, spec.Rule, spec.dtype())
	if err != nil {
		return nil, err
	}
	evaluated, _ := spec.evaluated()
	r := &runner{spec: spec, engine: engine, evaluated: map[int]bool{}, known: map[point][]float64{},
		starts: map[point]bool{}, curves: map[[2]int]*Curve{}, stored: map[[2]int]*runs.Run{},
		unsaved: map[[2]int][]runs.Report{}, lastSave: time.Now()}
	for _, n := range evaluated {
		r.evaluated[n] = true
	}
	defer r.closeRuns()
	res, err := r.run(ctx, b, evaluated)
	// Whatever happened, keep what was computed.
	if serr := r.save(true); err == nil && serr != nil {
		return nil, serr
	}
	return res, err
}

func (r *runner) run(ctx context.Context, b compute.Backend, evaluated []int) (*Result, error) {
	spec := r.spec

	sampler := spec.sampler()
	for si, seed := range spec.Seeds {
		h, err := sampler.History(seedBatches(seed), spec.Steps)
		if err != nil {
			return nil, fmt.Errorf("experiment: %w", err)
		}
		r.histories = append(r.histories, h)
		theta0 := spec.Problem.Model.Init(rng.New(seedInit(seed)))
		for oi := range spec.Orders {
			r.known[point{oi, si, 0}] = theta0
		}
	}
	var (
		hashes [2]string
		err    error
	)
	if spec.Store != nil {
		if hashes, err = dataHashes(spec.Problem.Train, spec.Problem.Test); err != nil {
			return nil, err
		}
	}

	var pending []*task
	done := 0
	for oi, o := range spec.Orders {
		plan := o.Plan(evaluated)
		if err := order.Check(plan, evaluated); err != nil {
			return nil, fmt.Errorf("experiment: order %q made a bad plan: %w", o.Name(), err)
		}
		for si, seed := range spec.Seeds {
			key := [2]int{oi, si}
			r.curves[key] = &Curve{Order: o.Name(), Seed: seed}
			for _, rp := range plan {
				r.starts[point{oi, si, rp.From}] = true
			}
			if spec.Store != nil {
				run, err := spec.Store.Open(spec.runConfig(b, o, seed, evaluated, hashes), r.histories[si].Indices)
				if err != nil {
					return nil, err
				}
				r.stored[key] = run
				n, err := r.readStored(oi, si, run)
				if err != nil {
					return nil, err
				}
				done += n
			}
			for i, rp := range plan {
				t, err := r.taskFor(oi, si, i, rp)
				if err != nil {
					return nil, err
				}
				if t != nil {
					pending = append(pending, t)
				}
			}
		}
	}
	for _, t := range pending {
		r.stats.Applied += len(t.remaining())
	}
	r.tracker = newTracker(spec.Progress, done, len(evaluated)*len(spec.Orders)*len(spec.Seeds), r.stats.Applied)
	r.stats.Applied = 0

	for len(pending) > 0 {
		// A wave: every replay whose starting iterate is known. Longest first, so each lockstep group holds
		// replays of similar lengths.
		var ready, later []*task
		for _, t := range pending {
			if _, ok := r.known[point{t.order, t.seed, t.replay.From}]; ok || t.resume != nil {
				ready = append(ready, t)
			} else {
				later = append(later, t)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("experiment: replays wait on iterates that no replay computes")
		}
		slices.SortStableFunc(ready, func(a, b *task) int { return len(b.remaining()) - len(a.remaining()) })
		size := r.replicas(len(ready))
		for lo := 0; lo < len(ready); lo += size {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := r.runGroup(ctx, ready[lo:min(lo+size, len(ready))]); err != nil {
				return nil, err
			}
			if err := r.save(false); err != nil {
				return nil, err
			}
		}
		pending = later
	}
	if err := r.save(true); err != nil {
		return nil, err
	}
	r.tracker.emit(true)

	res := &Result{Spec: spec, Stats: r.stats}
	for oi := range spec.Orders {
		for si := range spec.Seeds {
			c := r.curves[[2]int{oi, si}]
			c.sortByStep()
			if run := r.stored[[2]int{oi, si}]; run != nil {
				c.Dir = run.Dir()
			}
			res.Curves = append(res.Curves, c)
		}
	}
	return res, nil
}

func (r *runner) closeRuns() {
	for _, run := range r.stored {
		run.Close()
	}
}

// readStored fills a curve with the evaluated steps its stored run has completed, and the known starting points
// with its stored ones. It returns the number of completed evaluated steps.
func (r *runner) readStored(oi, si int, run *runs.Run) (int, error) {
	c := r.curves[[2]int{oi, si}]
	n := 0
	for _, step := range run.Config().Evaluated {
		e, ok := run.Completed(step)
		if !ok {
			continue
		}
		n++
		c.Steps = append(c.Steps, step)
		if r.spec.KeepIterates {
			th, err := run.Iterate(step)
			if err != nil {
				return 0, err
			}
			c.Iterates = append(c.Iterates, th)
		}
		r.appendMetrics(c, e.Metrics)
	}
	for p := range r.starts {
		if p.order != oi || p.seed != si || p.step == 0 {
			continue
		}
		th, ok, err := run.Start(p.step)
		if err != nil {
			return 0, err
		}
		if ok {
			r.known[p] = th
		}
	}
	return n, nil
}

// isDone reports whether a report of an order's replay needs no computing: its evaluated step is stored (or
// there is no store and nothing is computed yet), and where replays start from it, its iterate is known.
func (r *runner) isDone(oi, si int, rep order.Report) bool {
	run := r.stored[[2]int{oi, si}]
	if run == nil {
		return false
	}
	if r.evaluated[rep.Step] {
		if _, ok := run.Completed(rep.Step); !ok {
			return false
		}
	}
	if r.starts[point{oi, si, rep.Step}] {
		if _, ok := r.known[point{oi, si, rep.Step}]; !ok {
			return false
		}
	}
	return true
}

// taskFor returns the work left of a replay: nil when all its reports are stored, a resumed task when a
// checkpoint covers part of it, the whole replay otherwise.
func (r *runner) taskFor(oi, si, index int, rp order.Replay) (*task, error) {
	t := &task{order: oi, seed: si, index: index, replay: rp}
	allDone := true
	for _, rep := range rp.Reports {
		allDone = allDone && r.isDone(oi, si, rep)
	}
	if allDone && r.stored[[2]int{oi, si}] != nil {
		return nil, nil
	}
	if run := r.stored[[2]int{oi, si}]; run != nil {
		cp, err := run.Checkpoint(index)
		if err != nil {
			return nil, err
		}
		if cp != nil && cp.After < len(rp.Steps) && r.reportsDoneUpTo(oi, si, rp, cp.After) {
			t.skipped = cp.After
			t.resume = &replay.Carry{Theta: cp.Theta, State: cp.State, Count: cp.Count}
		}
	}
	return t, nil
}

// reportsDoneUpTo reports whether every report of rp within its first `after` maps is done.
func (r *runner) reportsDoneUpTo(oi, si int, rp order.Replay, after int) bool {
	for _, rep := range rp.Reports {
		if rep.After <= after && !r.isDone(oi, si, rep) {
			return false
		}
	}
	return true
}

// replicas returns the lockstep group size for n ready replays.
func (r *runner) replicas(n int) int {
	size := r.spec.Replicas
	if size == 0 {
		size = AutoReplicas(r.engine.Backend(), models.NumParams(r.spec.Problem.Model))
	}
	return min(size, n)
}

// AutoReplicas is the default lockstep group size for a backend and a model of numParams parameters: enough
// replicas to amortise the cost of launching a step, few enough to keep a group's parameters small.
func AutoReplicas(b compute.Backend, numParams int) int {
	budget, most := 1<<22, 1024 // parameters per group on a CPU
	if !backend.IsGo(b) {
		budget, most = 1<<26, 4096
	}
	return max(8, min(most, budget/max(numParams, 1)))
}

// runGroup runs tasks as one lockstep group. Replays end together: a replay with L maps left starts at lockstep
// time T − L, T the longest, and sits the earlier steps out.
func (r *runner) runGroup(ctx context.Context, tasks []*task) error {
	carries := make([]replay.Carry, len(tasks))
	offsets := make([]int, len(tasks))
	longest := len(tasks[0].remaining())
	for i, t := range tasks {
		if t.resume != nil {
			carries[i] = *t.resume
		} else {
			carries[i] = replay.Carry{Theta: r.known[point{t.order, t.seed, t.replay.From}]}
		}
		offsets[i] = longest - len(t.remaining())
	}
	group, err := r.engine.NewGroupFrom(carries)
	if err != nil {
		return err
	}
	defer group.Close()

	b := r.spec.sampler().Batch()
	batches := make([]int32, len(tasks)*b)
	active := make([]bool, len(tasks))
	for time := range longest {
		if err := ctx.Err(); err != nil {
			return err
		}
		clear(batches)
		activeCount := 0
		for i, t := range tasks {
			k := time - offsets[i]
			active[i] = k >= 0
			if active[i] {
				copy(batches[i*b:(i+1)*b], r.histories[t.seed].Batch(t.remaining()[k]))
				activeCount++
			}
		}
		if err := group.Step(batches, active); err != nil {
			return err
		}
		r.stats.Applied += activeCount
		evals, err := r.collectReports(group, tasks, offsets, time+1)
		if err != nil {
			return err
		}
		r.tracker.add(activeCount, evals)
	}
	return nil
}

// due is a report reached at the current lockstep time.
type due struct {
	slot     int
	report   order.Report
	lastOne  bool // the replay's last report: no checkpoint needed after it
	evaluate bool
}

// collectReports records the iterates that replays reach after `applied` lockstep steps, and stores them. It
// returns the number of evaluated steps reached.
func (r *runner) collectReports(group *replay.Group, tasks []*task, offsets []int, applied int) (int, error) {
	var dues []due
	for i, t := range tasks {
		done := applied - offsets[i] // maps this task has applied, in this process
		if done < 1 {
			continue
		}
		for k, rep := range t.replay.Reports {
			if rep.After-t.skipped == done {
				dues = append(dues, due{slot: i, report: rep, lastOne: k == len(t.replay.Reports)-1,
					evaluate: r.evaluated[rep.Step]})
			}
		}
	}
	if len(dues) == 0 {
		return 0, nil
	}
	slots := make([]int, len(dues))
	needCarry := false
	for i, d := range dues {
		slots[i] = d.slot
		t := tasks[d.slot]
		key := [2]int{t.order, t.seed}
		needCarry = needCarry || r.spec.KeepIterates || r.starts[point{t.order, t.seed, d.report.Step}] ||
			(r.stored[key] != nil && !d.lastOne)
	}
	reached, err := group.Select(slots)
	if err != nil {
		return 0, err
	}
	defer reached.Close()
	var carries []replay.Carry
	if needCarry {
		if carries, err = reached.Carries(); err != nil {
			return 0, err
		}
	}
	metrics, err := r.metrics(reached)
	if err != nil {
		return 0, err
	}
	evals := 0
	for i, d := range dues {
		t := tasks[d.slot]
		key := [2]int{t.order, t.seed}
		p := point{t.order, t.seed, d.report.Step}
		isStart := r.starts[p] && d.report.Step != 0
		if isStart {
			r.known[p] = carries[i].Theta
		}
		if d.evaluate {
			evals++
			c := r.curves[key]
			c.Steps = append(c.Steps, d.report.Step)
			if r.spec.KeepIterates {
				c.Iterates = append(c.Iterates, carries[i].Theta)
			}
			r.appendMetrics(c, metrics[i])
		}
		run := r.stored[key]
		if run == nil {
			if r.spec.OnReport != nil {
				r.spec.OnReport(r.curves[key].Order, r.curves[key].Seed, d.report.Step)
			}
			continue
		}
		rep := runs.Report{Step: d.report.Step, Evaluated: d.evaluate, Metrics: metrics[i], Start: isStart}
		if carries != nil {
			rep.Theta = carries[i].Theta
		}
		if !d.lastOne {
			rep.Checkpoint = &runs.Checkpoint{Replay: t.index, Step: d.report.Step, After: d.report.After,
				Theta: carries[i].Theta, State: carries[i].State, Count: carries[i].Count}
		}
		r.unsaved[key] = append(r.unsaved[key], rep)
	}
	return evals, r.save(false)
}

// metrics evaluates the spec's metrics for every replica of a group (empty maps when there are none).
func (r *runner) metrics(g *replay.Group) ([]map[string]float64, error) {
	out := make([]map[string]float64, g.Size())
	for i := range out {
		out[i] = map[string]float64{}
	}
	if !r.spec.Metrics {
		return out, nil
	}
	subsets := []replay.Subset{replay.TrainData}
	if r.spec.Problem.Test != nil {
		subsets = append(subsets, replay.TestData)
	}
	for _, sub := range subsets {
		ev, err := g.Evaluate(sub, r.spec.EvalLimit)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i][string(sub)+"_loss"] = ev.Loss[i]
			if ev.Accuracy != nil {
				out[i][string(sub)+"_accuracy"] = ev.Accuracy[i]
			}
		}
	}
	return out, nil
}

// appendMetrics appends one evaluated step's metrics to a curve.
func (r *runner) appendMetrics(c *Curve, m map[string]float64) {
	for name, dst := range map[string]*[]float64{"train_loss": &c.TrainLoss, "test_loss": &c.TestLoss,
		"train_accuracy": &c.TrainAccuracy, "test_accuracy": &c.TestAccuracy} {
		if v, ok := m[name]; ok {
			*dst = append(*dst, v)
		}
	}
}

// sortByStep orders a curve's points by step; replays report in any order.
func (c *Curve) sortByStep() {
	idx := make([]int, len(c.Steps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return c.Steps[a] - c.Steps[b] })
	permute := func(xs []float64) []float64 {
		if xs == nil {
			return nil
		}
		out := make([]float64, len(xs))
		for i, j := range idx {
			out[i] = xs[j]
		}
		return out
	}
	steps := make([]int, len(idx))
	var iterates [][]float64
	for i, j := range idx {
		steps[i] = c.Steps[j]
		if c.Iterates != nil {
			iterates = append(iterates, c.Iterates[j])
		}
	}
	c.Steps, c.Iterates = steps, iterates
	c.TrainLoss, c.TestLoss = permute(c.TrainLoss), permute(c.TestLoss)
	c.TrainAccuracy, c.TestAccuracy = permute(c.TrainAccuracy), permute(c.TestAccuracy)
}
