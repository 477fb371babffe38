package experiment

import (
	"cmp"
	"slices"
	"time"

	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
)

// Saving to and resuming from the run store.

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
	slices.SortFunc(keys, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		if err := r.stored[k].Commit(r.unsaved[k]...); err != nil {
			return err
		}
		if r.spec.OnReport != nil {
			c := r.curves[k]
			for _, rep := range r.unsaved[k] {
				r.spec.OnReport(c.Arm, c.Seed, rep.Step)
			}
		}
		delete(r.unsaved, k)
	}
	return nil
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

// isDone reports whether a report of an order's replay needs no computing: its evaluated step is stored and,
// where replays start from it, its iterate is known. Without a store nothing is done.
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
	run := r.stored[[2]int{oi, si}]
	if run == nil {
		return t, nil
	}
	if r.reportsDoneUpTo(oi, si, rp, len(rp.Steps)) {
		return nil, nil
	}
	cp, err := run.Checkpoint(index)
	if err != nil {
		return nil, err
	}
	if cp != nil && cp.After < len(rp.Steps) && r.reportsDoneUpTo(oi, si, rp, cp.After) {
		t.skipped = cp.After
		t.resume = &replay.Carry{Theta: cp.Theta, State: cp.State, Count: cp.Count}
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
