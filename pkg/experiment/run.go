package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
)

// task is one replay of one order for one seed, possibly resumed part-way.
type task struct {
	order, seed int // indices into Spec.Orders and Spec.Seeds
	index       int // the replay's index in the order's plan
	replay      order.Replay
	skipped     int           // maps of the replay already applied (resumed from a checkpoint)
	resume      *replay.Carry // the checkpointed carry, when resumed
	diverged    bool          // the replay reached a non-finite value: nothing more of it is kept
}

// remaining returns the steps still to apply.
func (t *task) remaining() []int { return t.replay.Steps[t.skipped:] }

// point identifies an iterate: an order's iterate at a step for a seed.
type point struct{ order, seed, step int }

// runner holds the state of one Run.
type runner struct {
	spec      *job
	engine    *replay.Engine
	groupSize int // the lockstep group size
	block     int // the most update maps one execution applies (replay.Group.Steps)
	evaluated map[int]bool
	histories []*data.History
	known     map[point][]float64    // iterates replays start from
	starts    map[point]bool         // the iterates some replay starts from
	curves    map[[2]int]*Trajectory // by (order, seed)
	stored    map[[2]int]*runs.Run
	diverged  map[[2]int]*DivergenceError // runs (order, seed) with a replay stopped by a non-finite value
	tracker   *tracker
	stats     Stats

	unsaved  map[[2]int][]runs.Report // reports not yet committed to their run
	lastSave time.Time
}

// runOne runs a validated spec without a shard on one device.
func runOne(ctx context.Context, dev Device, spec *job) (*Result, error) {
	b := dev.Backend
	engine, err := replay.NewOnDevice(b, dev.Num, spec.Problem, spec.rule, spec.dtype())
	if err != nil {
		return nil, err
	}
	evaluated, _ := spec.evaluated()
	size, err := spec.groupSize(b)
	if err != nil {
		return nil, err
	}
	if backend.ShapeDependent(b) {
		if err := engine.SetWidth(size); err != nil {
			return nil, err
		}
	}
	block, err := spec.blockSize(b, size)
	if err != nil {
		return nil, err
	}
	r := &runner{spec: spec, engine: engine, groupSize: size, block: block, evaluated: map[int]bool{}, known: map[point][]float64{},
		starts: map[point]bool{}, curves: map[[2]int]*Trajectory{}, stored: map[[2]int]*runs.Run{},
		diverged: map[[2]int]*DivergenceError{},
		unsaved:  map[[2]int][]runs.Report{}, lastSave: time.Now()}
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

	for si, seed := range spec.Seeds {
		theta0, h, err := spec.draw(seed)
		if err != nil {
			return nil, err
		}
		if spec.warm != nil {
			theta0 = spec.warm.theta0[seed]
		}
		r.histories = append(r.histories, h)
		for oi := range spec.orders {
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
	done, complete := 0, 0
	var missing []string // the runs the store does not hold complete
	for oi, o := range spec.orders {
		plan := o.Plan(evaluated)
		if err := order.Check(plan, evaluated); err != nil {
			return nil, fmt.Errorf("experiment: order %q made a bad plan: %w", o.Name(), err)
		}
		for si, seed := range spec.Seeds {
			key := [2]int{oi, si}
			r.curves[key] = &Trajectory{Arm: spec.arms[oi], Order: o.Name(), Seed: seed, N: r.spec.Steps}
			for _, rp := range plan {
				r.starts[point{oi, si, rp.From}] = true
			}
			if spec.Store != nil {
				run, err := spec.Store.Open(spec.runConfig(b, r.engine.Width(), o, seed, evaluated, hashes), r.histories[si].Indices)
				if err != nil {
					return nil, err
				}
				r.stored[key] = run
				if err := run.Initial(r.known[point{oi, si, 0}]); err != nil {
					return nil, err
				}
				n, err := r.readStored(oi, si, run)
				if err != nil {
					return nil, err
				}
				if run.ReadOnly() && n < len(evaluated) {
					return nil, fmt.Errorf("experiment: %s is not writable and holds %d of the %d evaluated steps of "+
						"this run: a read-only store can be re-plotted, not extended; copy it somewhere writable "+
						"(or choose another store) to compute the rest", run.Dir(), n, len(evaluated))
				}
				done += n
				if n == len(evaluated) {
					complete++
				} else {
					missing = append(missing, fmt.Sprintf("%s seed %d", o.Name(), seed))
				}
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
	if complete > 0 && len(missing) > 0 && spec.Progress != nil {
		fmt.Fprintf(os.Stderr, "experiment: %d of %d runs are complete in the store; computing the other %d (%s)\n",
			complete, complete+len(missing), len(missing), strings.Join(missing, ", "))
	}
	for _, t := range pending {
		r.stats.Applied += len(t.remaining())
	}
	r.tracker = newTracker(spec.Progress, done, len(evaluated)*len(spec.orders)*len(spec.Seeds), r.stats.Applied)
	r.stats.Applied, r.stats.Stored = 0, complete

	for len(pending) > 0 {
		// A wave: every replay whose starting iterate is known, longest first, so that the slots empty together
		// at the end.
		var ready, later []*task
		for _, t := range pending {
			if _, ok := r.known[point{t.order, t.seed, t.replay.From}]; ok || t.resume != nil {
				ready = append(ready, t)
			} else {
				later = append(later, t)
			}
		}
		if len(ready) == 0 {
			// Replays that start from an iterate of a diverged replay (intermittent windows after it) never run.
			later = slices.DeleteFunc(later, func(t *task) bool { return r.diverged[[2]int{t.order, t.seed}] != nil })
			if len(later) == 0 {
				break
			}
			return nil, fmt.Errorf("experiment: replays wait on iterates that no replay computes")
		}
		slices.SortStableFunc(ready, func(a, b *task) int { return len(b.remaining()) - len(a.remaining()) })
		if err := r.runWave(ctx, ready); err != nil {
			return nil, err
		}
		if err := r.save(false); err != nil {
			return nil, err
		}
		pending = later
	}
	if err := r.save(true); err != nil {
		return nil, err
	}
	r.tracker.emit(true)

	res := &Result{Spec: &spec.Spec, Stats: r.stats}
	var divergences []error
	for oi := range spec.orders {
		for si := range spec.Seeds {
			c := r.curves[[2]int{oi, si}]
			if div := r.diverged[[2]int{oi, si}]; div != nil {
				c.Diverged = div
				c.fillNaN(evaluated, spec.metricNames(), spec.KeepIterates, spec.Problem.Model)
				divergences = append(divergences, div)
			}
			c.sortByStep()
			if c.Diverged != nil {
				c.Diverged.lastFinite(c)
			}
			if run := r.stored[[2]int{oi, si}]; run != nil {
				c.Dir = run.Dir()
			}
			res.Trajectories = append(res.Trajectories, c)
		}
	}
	return res, errors.Join(divergences...)
}

// replicas returns the lockstep group size for n ready replays.
func (r *runner) replicas(n int) int {
	return min(r.groupSize, n)
}

// groupSize returns the lockstep group size of the spec's runs on b: Runner.Replicas, else what fits
// Runner.DeviceMemory, else AutoReplicas. On a backend whose numbers depend on shapes it is also every group's fixed
// width, part of the runs' identity.
func (s *job) groupSize(b compute.Backend) (int, error) {
	switch {
	case s.Replicas > 0:
		return s.Replicas, nil
	case s.DeviceMemory > 0:
		return ReplicasForMemory(b, s.Problem, s.rule, s.BatchSize, s.DeviceMemory)
	}
	if backend.OnCPU(b) && !backend.IsGo(b) {
		per, err := ReplicaBytes(b, s.Problem, s.rule, s.sampler().Batch())
		if err != nil {
			return 0, err
		}
		return int(max(8, min(1024, xlaCPUGroupBytes/max(per, 1)))), nil
	}
	return AutoReplicas(b, models.NumParams(s.Problem.Model)), nil
}

// blockSize returns how many update maps one execution of a group of the given size applies where no replay ends
// or reports in between: XLABlock on XLA's CPU plugin for groups of at most about xlaCPUGroupBytes, else 1 — on the
// pure-Go backend, which has no execution to save, and for large graphs, whose maps cost far more than launching
// them. A block gives the same bits as its maps one by one (replay's
// TestStepsEqualsSteppingOneByOne), so it is not part of a run's identity.
func (s *job) blockSize(b compute.Backend, size int) (int, error) {
	if !backend.OnCPU(b) || backend.IsGo(b) {
		return 1, nil
	}
	per, err := ReplicaBytes(b, s.Problem, s.rule, s.sampler().Batch())
	if err != nil {
		return 0, err
	}
	if int64(size)*per > xlaCPUGroupBytes*4/3 {
		return 1, nil
	}
	return XLABlock, nil
}

// XLABlock is the number of update maps one execution applies on XLA's CPU plugin, for small models (blockSize):
// the launch, argument transfers and the host's bookkeeping of each execution are shared by 8 maps. The FashionMNIST
// MLP's backward curve (revsgd bench -workload backward -steps 500) ran about 1.4× faster than one map per execution;
// blocks of 4, 16 and 32 were slower than 8.
const XLABlock = 8

// xlaCPUGroupBytes is what one lockstep group may hold on XLA's CPU plugin (ReplicaBytes per replica): about the
// size of the last-level cache, so that a group's parameters and values stay close to the cores — 8 replicas of
// the FashionMNIST MLP (6.7 MB each; 8 ran 1.7× faster than the 249 an accelerator's budget gave, and faster than
// 4 or 16), the fewest (8) of a convnet, and hundreds of the small regression MLPs, whose steps cost little more
// than their launch. On XLA every group of an experiment is this wide (replay.Engine.SetWidth), its idle slots
// computing too, so a group much wider than its work would waste the cores.
const xlaCPUGroupBytes = 48 << 20

// AutoReplicas is the default lockstep group size for a backend and a model of numParams parameters: enough
// replicas to amortise the cost of launching a step, few enough to keep a group's parameters small — 4 Mi
// parameters on the pure-Go backend, 64 Mi on an accelerator, which needs large groups to be busy. (On XLA's CPU
// plugin an experiment sizes its groups by the memory of a replica's whole step instead, see xlaCPUGroupBytes.)
func AutoReplicas(b compute.Backend, numParams int) int {
	budget, most := 1<<26, 4096 // parameters per group on an accelerator
	if backend.OnCPU(b) {
		budget, most = 1<<22, 1024
	}
	return max(8, min(most, budget/max(numParams, 1)))
}

// sortByStep orders a curve's points by step; replays report in any order.
func (c *Trajectory) sortByStep() {
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
