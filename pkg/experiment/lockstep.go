package experiment

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
)

// Running replays in lockstep, and collecting what they reach.

// runWave runs tasks (sorted longest first) in one lockstep group of slots by continuous batching: the first
// tasks fill the slots, and the moment a slot's replay ends (or diverges) the slot restarts, inside the next
// step, from the starting point of the next task. No slot sits a step out while tasks wait. When none wait any
// more and half the slots are empty, the group shrinks to its busy slots.
func (r *runner) runWave(ctx context.Context, tasks []*task) error {
	size := r.replicas(len(tasks))
	startOf := func(t *task) replay.Carry {
		if t.resume != nil {
			return *t.resume
		}
		return replay.Carry{Theta: r.known[point{t.order, t.seed, t.replay.From}]}
	}
	carries := make([]replay.Carry, size)
	for i, t := range tasks[:size] {
		carries[i] = startOf(t)
	}
	group, err := r.engine.NewGroupFrom(carries)
	if err != nil {
		return err
	}
	defer func() { group.Close() }()
	// The starting points of the waiting tasks, a table on the device: each distinct start once.
	var table *replay.Group
	entry := make([]int32, len(tasks))
	if len(tasks) > size {
		index := map[point]int32{}
		var starts []replay.Carry
		for i, t := range tasks[size:] {
			p := point{t.order, t.seed, t.replay.From}
			k, ok := index[p]
			if !ok || t.resume != nil {
				k = int32(len(starts))
				starts = append(starts, startOf(t))
				if t.resume == nil {
					index[p] = k
				}
			}
			entry[size+i] = k
		}
		if table, err = r.engine.NewTable(starts); err != nil {
			return err
		}
		defer table.Close()
	}

	slots, done := slices.Clone(tasks[:size]), make([]int, size)
	next := size
	b := r.spec.sampler().Batch()
	from, batches, active := make([]int32, size), make([]int32, size*b), make([]bool, size)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		restarting := false
		for i, t := range slots {
			from[i] = -1
			if t == nil || done[i] < len(t.remaining()) && !t.diverged {
				continue
			}
			slots[i], done[i] = nil, 0
			if next < len(tasks) {
				slots[i], from[i], restarting = tasks[next], entry[next], true
				next++
			}
		}
		if next == len(tasks) && !restarting {
			if group, slots, done, err = shrink(group, slots, done); err != nil {
				return err
			}
			from, batches, active = from[:len(slots)], batches[:len(slots)*b], active[:len(slots)]
		}
		clear(batches)
		activeCount := 0
		for i, t := range slots {
			if active[i] = t != nil; active[i] {
				copy(batches[i*b:(i+1)*b], r.histories[t.seed].Batch(t.remaining()[done[i]]))
				activeCount++
			}
		}
		if activeCount == 0 {
			return nil
		}
		k := 1
		switch {
		case restarting:
			err = group.StepFrom(batches, active, table, from)
		case r.block > 1 && blockRoom(slots, done) >= r.block:
			k = r.block
			err = group.Steps(r.blockBatches(slots, done, k), active)
		default:
			err = group.Step(batches, active)
		}
		if err != nil {
			return err
		}
		for i := range slots {
			if active[i] {
				done[i] += k
			}
		}
		r.stats.Applied += k * activeCount
		evals, err := r.collectReports(group, slots, done)
		if err != nil {
			return err
		}
		r.tracker.add(k*activeCount, evals)
	}
}

// blockRoom returns how many maps every busy slot can apply before its replay reports or ends (it may report at
// the last of them): the longest block of steps that needs nothing read between its maps.
func blockRoom(slots []*task, done []int) int {
	room := math.MaxInt
	for i, t := range slots {
		if t == nil {
			continue
		}
		room = min(room, len(t.remaining())-done[i])
		for _, rep := range t.replay.Reports {
			if at := rep.After - t.skipped; at > done[i] {
				room = min(room, at-done[i])
			}
		}
	}
	return room
}

// blockBatches returns the batch indices of the next k maps of every slot (zeros for idle slots).
func (r *runner) blockBatches(slots []*task, done []int, k int) [][]int32 {
	b := r.spec.sampler().Batch()
	out := make([][]int32, k)
	for j := range out {
		out[j] = make([]int32, len(slots)*b)
		for i, t := range slots {
			if t != nil {
				copy(out[j][i*b:(i+1)*b], r.histories[t.seed].Batch(t.remaining()[done[i]+j]))
			}
		}
	}
	return out
}

// shrink keeps the busy slots of a group when at most half of them are: a smaller group costs less per step. On
// an engine of fixed width (replay.Engine.SetWidth) every group costs the same, and nothing is done.
func shrink(group *replay.Group, slots []*task, done []int) (*replay.Group, []*task, []int, error) {
	var busy []int
	for i, t := range slots {
		if t != nil {
			busy = append(busy, i)
		}
	}
	if len(busy) == 0 || 2*len(busy) > len(slots) || group.Engine().Width() > 0 {
		return group, slots, done, nil
	}
	smaller, err := group.Select(busy)
	if err != nil {
		return nil, nil, nil, err
	}
	group.Close()
	s, d := make([]*task, len(busy)), make([]int, len(busy))
	for k, i := range busy {
		s[k], d[k] = slots[i], done[i]
	}
	return smaller, s, d, nil
}

// due is a report reached at the current lockstep time.
type due struct {
	slot     int
	report   order.Report
	lastOne  bool // the replay's last report: no checkpoint needed after it
	evaluate bool
}

// collectReports records the iterates that the slots' replays reach, done[i] being the maps slot i's replay has
// applied in this process, and stores them. It returns the number of evaluated steps reached.
func (r *runner) collectReports(group *replay.Group, tasks []*task, done []int) (int, error) {
	var dues []due
	for i, t := range tasks {
		if t == nil || done[i] < 1 {
			continue
		}
		for k, rep := range t.replay.Reports {
			if rep.After-t.skipped == done[i] {
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
	metrics, err := r.dueMetrics(group, reached, dues)
	if err != nil {
		return 0, err
	}
	evals := 0
	for i, d := range dues {
		t := tasks[d.slot]
		key := [2]int{t.order, t.seed}
		if t.diverged {
			continue // the replay stopped: nothing of it is kept from its divergence on
		}
		var theta []float64 // the reported iterate (θ, or the average an averaged rule keeps)
		if carries != nil {
			theta = r.engine.Iterate(carries[i])
		}
		if what := nonFinite(metrics[i], theta); what != "" {
			t.diverged = true
			if div := r.diverged[key]; div == nil || d.report.Step < div.Step {
				c := r.curves[key]
				r.diverged[key] = &DivergenceError{Order: c.Order, Seed: c.Seed, Step: d.report.Step, What: what}
			}
			if r.spec.Progress != nil {
				fmt.Fprintf(os.Stderr, "experiment: %s, seed %d: %s at step %d; this chain stops there\n",
					r.curves[key].Order, r.curves[key].Seed, what, d.report.Step)
			}
			continue
		}
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
				c.Iterates = append(c.Iterates, theta)
			}
			r.appendMetrics(c, metrics[i])
		}
		run := r.stored[key]
		if run == nil {
			if r.spec.OnReport != nil {
				r.spec.OnReport(r.curves[key].Arm, r.curves[key].Seed, d.report.Step)
			}
			continue
		}
		rep := runs.Report{Step: d.report.Step, Evaluated: d.evaluate, Metrics: metrics[i], Start: isStart}
		rep.Theta = theta
		if !d.lastOne {
			rep.Checkpoint = &runs.Checkpoint{Replay: t.index, Step: d.report.Step, After: d.report.After,
				Theta: carries[i].Theta, State: carries[i].State, Count: carries[i].Count}
		}
		r.unsaved[key] = append(r.unsaved[key], rep)
	}
	return evals, r.save(false)
}

// DivergenceError says that a run reached a non-finite value: which order and seed, the earliest reported step
// where it was seen (metrics at evaluated steps, θ where it is kept), and the last finite training loss before
// it. The chain of update maps that reached it stops there (for backward SGD, whose every evaluated step is its
// own replay, that replay); everything computed before it is committed to the run store, and the other chains
// go on (see Run).
type DivergenceError struct {
	Order string
	Seed  uint64
	// Step is the reported step where the non-finite value was found; What says which value.
	Step int
	What string
	// LastFiniteStep and LastFiniteLoss are the chain's last evaluated step with its training loss (-1: none).
	LastFiniteStep int
	LastFiniteLoss float64
}

// lastFinite sets the last finite training loss before the divergence from the finished curve.
func (e *DivergenceError) lastFinite(c *Trajectory) {
	e.LastFiniteStep, e.LastFiniteLoss = -1, 0
	for k, step := range c.Steps {
		if k < len(c.TrainLoss) && step < e.Step && !math.IsNaN(c.TrainLoss[k]) {
			e.LastFiniteStep, e.LastFiniteLoss = step, c.TrainLoss[k]
		}
	}
}

func (e *DivergenceError) Error() string {
	last := "no finite evaluation before it"
	if e.LastFiniteStep >= 0 {
		last = fmt.Sprintf("last finite training loss %.6g at step %d", e.LastFiniteLoss, e.LastFiniteStep)
	}
	return fmt.Sprintf("experiment: %s, seed %d diverged: %s at step %d (%s); everything before it is stored. Lower "+
		"the learning rate, or check the data's scale", e.Order, e.Seed, e.What, e.Step, last)
}

// nonFinite names the first NaN or infinite value among a report's metrics and θ, or returns "".
func nonFinite(metrics map[string]float64, theta []float64) string {
	names := make([]string, 0, len(metrics))
	for name := range metrics {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if v := metrics[name]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("%s = %v", name, v)
		}
	}
	for i, v := range theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("θ[%d] = %v", i, v)
		}
	}
	return ""
}

// dueMetrics evaluates the metrics of the dues at evaluated steps (reached holds every due's replica, in order);
// a due at a step that is not evaluated (a reset point, a switch) gets nil, and costs no evaluation.
func (r *runner) dueMetrics(group, reached *replay.Group, dues []due) ([]map[string]float64, error) {
	var slots, at []int
	for i, d := range dues {
		if d.evaluate {
			slots, at = append(slots, d.slot), append(at, i)
		}
	}
	out := make([]map[string]float64, len(dues))
	if len(slots) == 0 {
		return out, nil
	}
	g := reached
	if len(slots) < len(dues) {
		var err error
		if g, err = group.Select(slots); err != nil {
			return nil, err
		}
		defer g.Close()
	}
	ms, err := r.metrics(g)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i] = ms[k]
	}
	return out, nil
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
	for _, sub := range r.spec.subsets() {
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
func (r *runner) appendMetrics(c *Trajectory, m map[string]float64) {
	for name, v := range m {
		if dst := c.metric(name); dst != nil {
			*dst = append(*dst, v)
		}
	}
}
