package experiment

import (
	"context"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/rng"
)

// task is one replay of one order for one seed.
type task struct {
	order, seed int // indices into Spec.Orders and Spec.Seeds
	replay      order.Replay
}

// point identifies an iterate: an order's iterate at a step for a seed.
type point struct{ order, seed, step int }

// runner holds the state of one Run.
type runner struct {
	spec      *Spec
	engine    *replay.Engine
	histories []*data.History
	known     map[point][]float64 // iterates needed as starting points
	starts    map[point]bool      // the iterates some replay starts from
	curves    map[[2]int]*Curve   // by (order, seed)
	progress  *progress
}

// Run executes the experiment on the backend and returns its curves. It stops early, returning ctx's error, when
// ctx is cancelled.
func Run(ctx context.Context, backend compute.Backend, spec *Spec) (*Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	engine, err := replay.New(backend, spec.Problem, spec.Rule, spec.dtype())
	if err != nil {
		return nil, err
	}
	evaluated, _ := spec.evaluated()
	r := &runner{spec: spec, engine: engine, known: map[point][]float64{}, starts: map[point]bool{},
		curves: map[[2]int]*Curve{}}

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

	var pending []task
	for oi, o := range spec.Orders {
		plan := o.Plan(evaluated)
		if err := order.Check(plan, evaluated); err != nil {
			return nil, fmt.Errorf("experiment: order %q made a bad plan: %w", o.Name(), err)
		}
		for si, seed := range spec.Seeds {
			r.curves[[2]int{oi, si}] = &Curve{Order: o.Name(), Seed: seed}
			for _, rp := range plan {
				pending = append(pending, task{order: oi, seed: si, replay: rp})
				r.starts[point{oi, si, rp.From}] = true
			}
		}
	}
	total := 0
	for _, t := range pending {
		total += len(t.replay.Steps)
	}
	r.progress = newProgress(spec.Progress, total)

	for len(pending) > 0 {
		// A wave: every replay whose starting iterate is known. Longest first, so each lockstep group holds
		// replays of similar lengths.
		var ready, later []task
		for _, t := range pending {
			if _, ok := r.known[point{t.order, t.seed, t.replay.From}]; ok {
				ready = append(ready, t)
			} else {
				later = append(later, t)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("experiment: replays wait on iterates that no replay computes")
		}
		slices.SortStableFunc(ready, func(a, b task) int { return len(b.replay.Steps) - len(a.replay.Steps) })
		size := r.replicas(len(ready))
		for lo := 0; lo < len(ready); lo += size {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := r.runGroup(ctx, ready[lo:min(lo+size, len(ready))]); err != nil {
				return nil, err
			}
		}
		pending = later
	}
	r.progress.finish()

	res := &Result{Spec: spec}
	for oi := range spec.Orders {
		for si := range spec.Seeds {
			res.Curves = append(res.Curves, r.curves[[2]int{oi, si}])
		}
	}
	for _, c := range res.Curves {
		c.sortByStep()
	}
	return res, nil
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

// runGroup runs the tasks as one lockstep group. Replays end together: a replay of length L starts at lockstep
// time T − L, T the longest length, and sits the earlier steps out.
func (r *runner) runGroup(ctx context.Context, tasks []task) error {
	starts := make([][]float64, len(tasks))
	offsets := make([]int, len(tasks))
	longest := len(tasks[0].replay.Steps)
	for i, t := range tasks {
		starts[i] = r.known[point{t.order, t.seed, t.replay.From}]
		offsets[i] = longest - len(t.replay.Steps)
	}
	group, err := r.engine.NewGroup(starts)
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
				copy(batches[i*b:(i+1)*b], r.histories[t.seed].Batch(t.replay.Steps[k]))
				activeCount++
			}
		}
		if err := group.Step(batches, active); err != nil {
			return err
		}
		r.progress.add(activeCount)
		if err := r.collectReports(group, tasks, offsets, time+1); err != nil {
			return err
		}
	}
	return nil
}

// collectReports records the iterates that replays reach after `applied` lockstep steps.
func (r *runner) collectReports(group *replay.Group, tasks []task, offsets []int, applied int) error {
	type due struct {
		slot int
		step int
	}
	var dues []due
	for i, t := range tasks {
		for _, rep := range t.replay.Reports {
			if rep.After == applied-offsets[i] {
				dues = append(dues, due{i, rep.Step})
			}
		}
	}
	if len(dues) == 0 {
		return nil
	}
	slots := make([]int, len(dues))
	for i, d := range dues {
		slots[i] = d.slot
	}
	reached, err := group.Select(slots)
	if err != nil {
		return err
	}
	defer reached.Close()
	var thetas [][]float64
	needTheta := r.spec.KeepIterates
	for _, d := range dues {
		t := tasks[d.slot]
		needTheta = needTheta || r.starts[point{t.order, t.seed, d.step}]
	}
	if needTheta {
		if thetas, err = reached.Thetas(); err != nil {
			return err
		}
	}
	var train, test []float64
	if r.spec.Losses {
		if train, err = reached.Loss(replay.TrainData); err != nil {
			return err
		}
		if r.spec.Problem.Test != nil {
			if test, err = reached.Loss(replay.TestData); err != nil {
				return err
			}
		}
	}
	for i, d := range dues {
		t := tasks[d.slot]
		p := point{t.order, t.seed, d.step}
		if r.starts[p] {
			r.known[p] = thetas[i]
		}
		c := r.curves[[2]int{t.order, t.seed}]
		c.Steps = append(c.Steps, d.step)
		if r.spec.KeepIterates {
			c.Iterates = append(c.Iterates, thetas[i])
		}
		if train != nil {
			c.TrainLoss = append(c.TrainLoss, train[i])
		}
		if test != nil {
			c.TestLoss = append(c.TestLoss, test[i])
		}
	}
	return nil
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
}
