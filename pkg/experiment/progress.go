package experiment

import (
	"fmt"
	"io"
	"time"
)

// Progress is a snapshot of a running experiment.
type Progress struct {
	// Evaluated counts the evaluated steps done (all orders and seeds), out of EvaluatedTotal; steps reused from
	// the run store count as done from the start.
	Evaluated, EvaluatedTotal int
	// Maps counts the update maps applied by this process, out of MapsTotal still to apply when it started.
	Maps, MapsTotal int
	// Elapsed is the time since the start; Rate is update maps per second; Left estimates the time remaining.
	Elapsed, Left time.Duration
	Rate          float64
	// Final is set on the last snapshot.
	Final bool
}

// String renders the snapshot as one line.
func (p Progress) String() string {
	s := fmt.Sprintf("evaluated %d/%d steps, %d/%d update maps (%.0f%%), %.0f maps/s, %s elapsed",
		p.Evaluated, p.EvaluatedTotal, p.Maps, p.MapsTotal, 100*float64(p.Maps)/float64(max(p.MapsTotal, 1)),
		p.Rate, p.Elapsed.Round(time.Second))
	switch {
	case p.Final:
	case p.Maps == 0:
		s += ", time left not known yet"
	default:
		s += fmt.Sprintf(", about %s left", p.Left.Round(time.Second))
	}
	return s
}

// PrintProgress returns a progress function that writes one line per snapshot to w, at most one every interval
// (the final snapshot is always written, unless nothing else was), so long runs show progress without flooding
// the output.
func PrintProgress(w io.Writer, interval time.Duration) func(Progress) {
	var last time.Time
	printed := false
	return func(p Progress) {
		if p.Final {
			if printed {
				fmt.Fprintln(w, p)
			}
			return
		}
		if time.Since(last) < interval {
			return
		}
		if last.IsZero() {
			last = time.Now() // the first snapshot only starts the clock
			return
		}
		last = time.Now()
		printed = true
		fmt.Fprintln(w, p)
	}
}

// progressEvery is how often the runner takes a snapshot.
const progressEvery = time.Second

// tracker counts work and hands snapshots to the spec's progress function.
type tracker struct {
	fn                func(Progress)
	p                 Progress
	start, lastReport time.Time
}

func newTracker(fn func(Progress), evaluatedDone, evaluatedTotal, maps int) *tracker {
	now := time.Now()
	t := &tracker{fn: fn, start: now, lastReport: now}
	t.p.Evaluated, t.p.EvaluatedTotal, t.p.MapsTotal = evaluatedDone, evaluatedTotal, maps
	t.emit(false)
	return t
}

func (t *tracker) add(maps, evaluated int) {
	t.p.Maps += maps
	t.p.Evaluated += evaluated
	if time.Since(t.lastReport) >= progressEvery {
		t.emit(false)
	}
}

func (t *tracker) emit(final bool) {
	if t.fn == nil {
		return
	}
	t.lastReport = time.Now()
	t.p.Elapsed = time.Since(t.start)
	t.p.Rate = float64(t.p.Maps) / max(t.p.Elapsed.Seconds(), 1e-9)
	t.p.Left = time.Duration(float64(t.p.MapsTotal-t.p.Maps) / max(t.p.Rate, 1e-9) * float64(time.Second))
	t.p.Final = final
	t.fn(t.p)
}
