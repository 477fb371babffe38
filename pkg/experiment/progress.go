package experiment

import (
	"fmt"
	"io"
	"time"
)

// progressEvery is the least time between two progress lines.
const progressEvery = 5 * time.Second

// progress prints at most one line every progressEvery: update maps applied, their rate and the time left.
type progress struct {
	w              io.Writer
	total, applied int
	start, last    time.Time
}

func newProgress(w io.Writer, total int) *progress {
	now := time.Now()
	return &progress{w: w, total: total, start: now, last: now}
}

func (p *progress) add(n int) {
	p.applied += n
	if p.w == nil || time.Since(p.last) < progressEvery {
		return
	}
	p.last = time.Now()
	p.print()
}

// finish prints the final line, if anything was printed before.
func (p *progress) finish() {
	if p.w == nil || p.last == p.start {
		return
	}
	p.print()
}

func (p *progress) print() {
	elapsed := time.Since(p.start).Seconds()
	rate := float64(p.applied) / max(elapsed, 1e-9)
	left := float64(p.total-p.applied) / max(rate, 1e-9)
	fmt.Fprintf(p.w, "replays: %d/%d update maps (%.0f%%), %.0f maps/s, %s elapsed, about %s left\n",
		p.applied, p.total, 100*float64(p.applied)/float64(max(p.total, 1)), rate,
		time.Duration(elapsed*float64(time.Second)).Round(time.Second),
		time.Duration(left*float64(time.Second)).Round(time.Second))
}
