package figures

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/revsgd/revsgd/pkg/experiment"
)

// Cost is what computing a figure took in the run that wrote its claims file (ClaimsFile.Cost), so that a reader
// knows what a run costs before starting one. Only a run that read nothing back from the run store (Stored 0) took
// the figure's whole cost; a run that found some of its runs stored — shared with another figure, or left by an
// interrupted run — took less, and says how many.
type Cost struct {
	// Seconds is the wall time of the figure's run: computing what the store lacked, reading the rest, drawing.
	Seconds float64 `json:"seconds"`
	// Cores is the number of CPU cores of the machine it ran on.
	Cores int `json:"cores"`
	// Runs counts the runs (one order, one seed) of the figure's experiments; Stored those read back complete
	// from the run store.
	Runs   int `json:"runs"`
	Stored int `json:"stored"`
	// Maps counts the update maps computed.
	Maps int `json:"update_maps"`
}

// String says it in words, e.g. "489 s on 2 cores" or "93 s on 2 cores, 10 of its 40 runs read from the run store".
func (c Cost) String() string {
	s := fmt.Sprintf("%.0f s on %d cores", c.Seconds, c.Cores)
	if c.Stored > 0 {
		s += fmt.Sprintf(", %d of its %d runs read from the run store", c.Stored, c.Runs)
	}
	return s
}

// costMeter adds up the work of the experiments a figure runs.
type costMeter struct {
	mu   sync.Mutex
	cost Cost
}

type costKey struct{}

// withCostMeter returns a context whose figure runs are counted by the returned meter.
func withCostMeter(ctx context.Context) (context.Context, *costMeter) {
	m := &costMeter{}
	return context.WithValue(ctx, costKey{}, m), m
}

// countRun adds an experiment's result to the meter of ctx, if it has one.
func countRun(ctx context.Context, res *experiment.Result) {
	m, _ := ctx.Value(costKey{}).(*costMeter)
	if m == nil || res == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cost.Runs += len(res.Trajectories)
	m.cost.Stored += res.Stats.Stored
	m.cost.Maps += res.Stats.Applied
}

// total returns the counted work of a run that took elapsed.
func (m *costMeter) total(elapsed time.Duration) *Cost {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.cost
	c.Seconds, c.Cores = elapsed.Seconds(), runtime.NumCPU()
	return &c
}
