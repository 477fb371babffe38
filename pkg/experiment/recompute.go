package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// Recompute recomputes a stored run from its directory alone: the problem from the source in config.json
// (synthetic problems; data read from files is identified only by its checksum), the optimizer rule and the
// composition order from config.json, θ_0 from theta0.npy and the batches from batches.npy. It applies the
// order's plan one replay at a time on b and returns the iterates at the evaluated steps. The result equals the
// stored iterates up to rounding: the run itself may have been computed in a lockstep group of other replicas,
// and on another backend; on the run's own backend, whose groups a run's numbers do not depend on (or which
// recomputes at the run's GroupWidth), it equals them exactly.
func Recompute(ctx context.Context, b compute.Backend, dir string) (*Trajectory, error) {
	st, err := runs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	cfg := st.Config
	if st.Theta0 == nil {
		return nil, fmt.Errorf("experiment: %s has no theta0.npy (stored by an older revsgd): recompute it by "+
			"running its experiment again", dir)
	}
	if len(cfg.Problem.Source) == 0 {
		return nil, fmt.Errorf("experiment: %s: problem %q has no source in config.json (its data is read from files, "+
			"identified by SHA-256 %s); build the problem and run the experiment instead", dir, cfg.Problem.Name,
			cfg.Problem.TrainSHA256)
	}
	var src problem.Source
	if err := json.Unmarshal(cfg.Problem.Source, &src); err != nil {
		return nil, fmt.Errorf("experiment: %s: the problem's source: %w", dir, err)
	}
	p, err := src.Rebuild()
	if err != nil {
		return nil, err
	}
	rule, err := update.FromConfig(cfg.Rule.Name, cfg.Rule.Hyper)
	if err != nil {
		return nil, err
	}
	o, err := order.ByName(cfg.Order.Name)
	if err != nil {
		return nil, err
	}
	dtype := map[string]dtypes.DType{"float32": dtypes.Float32, "float64": dtypes.Float64}[cfg.DType]
	e, err := replay.New(b, p, rule, dtype)
	if err != nil {
		return nil, err
	}
	if err := e.SetWidth(cfg.GroupWidth); err != nil { // the width the run was computed at: its very numbers
		return nil, err
	}
	plan := o.Plan(cfg.Evaluated)
	if err := order.Check(plan, cfg.Evaluated); err != nil {
		return nil, err
	}
	known := map[int][]float64{0: st.Theta0}
	for pending := plan; len(pending) > 0; {
		var later []order.Replay
		for _, rp := range pending {
			start, ok := known[rp.From]
			if !ok {
				later = append(later, rp) // starts from an iterate another replay reports first
				continue
			}
			if err := recomputeReplay(ctx, e, rp, start, st.Batches, known); err != nil {
				return nil, fmt.Errorf("experiment: recomputing %s: %w", dir, err)
			}
		}
		if len(later) == len(pending) {
			return nil, fmt.Errorf("experiment: recomputing %s: the plan of %q has replays from unreported iterates",
				dir, o.Name())
		}
		pending = later
	}
	c := &Trajectory{Arm: o.Name(), Order: o.Name(), Seed: cfg.Seed, N: cfg.Steps, Dir: dir}
	for _, n := range cfg.Evaluated {
		c.Steps, c.Iterates = append(c.Steps, n), append(c.Iterates, known[n])
	}
	return c, nil
}

// recomputeReplay applies the maps of one replay from start, a group of one replica, and records the iterates it
// reports in known.
func recomputeReplay(ctx context.Context, e *replay.Engine, rp order.Replay, start []float64, batches [][]int32,
	known map[int][]float64) error {
	g, err := e.NewGroup([][]float64{start})
	if err != nil {
		return err
	}
	defer g.Close()
	reports := slices.Clone(rp.Reports)
	slices.SortFunc(reports, func(a, b order.Report) int { return a.After - b.After })
	record := func(after int) error {
		for len(reports) > 0 && reports[0].After == after {
			thetas, err := g.Iterates()
			if err != nil {
				return err
			}
			known[reports[0].Step] = thetas[0]
			reports = reports[1:]
		}
		return nil
	}
	if err := record(0); err != nil {
		return err
	}
	for i, k := range rp.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := g.Step(batches[k-1], []bool{true}); err != nil {
			return err
		}
		if err := record(i + 1); err != nil {
			return err
		}
	}
	return nil
}
