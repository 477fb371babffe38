package experiment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// Runner says how an experiment runs: on which devices, with which run store, as which shard of several
// processes, in lockstep groups of what size, saving how often and reporting progress where. A Spec says what is
// run; the same Spec gives the same curves under any Runner. (On XLA the lockstep width is recorded in each
// stored run's identity, runs.Config.GroupWidth, since XLA's rounding depends on shapes; see docs/reliability.md.)
// A notebook or the command line sets a Runner up once and runs every experiment with it.
type Runner struct {
	// Backend runs the graphs, on all its devices unless Devices says otherwise.
	Backend compute.Backend
	// Devices, when set, are the devices the runs are spread over (each gets a cost-balanced part of the runs,
	// its own engine and its own copy of the data); nil means every device of Backend (Devices).
	Devices []Device

	// Store, when set, saves every run as it goes and reuses what is stored (see package runs).
	Store *runs.Store
	// Shard, when set, makes this process one of several that share Store (on one host or on shared storage):
	// it computes its cost-balanced share of the runs, then takes over runs that no live process is computing,
	// and returns once every run is in the store (see Shard).
	Shard *Shard
	// SaveEvery is the most time between two commits to the store, i.e. what a killed process can lose; zero
	// means two seconds. Each commit rewrites small files, so very short intervals slow fast runs down.
	SaveEvery time.Duration

	// Replicas caps the number of replays run in lockstep in one graph; 0 chooses from the backend and model size.
	Replicas int
	// DeviceMemory, when positive and Replicas is 0, is the device memory in bytes that lockstep groups are sized
	// for (ReplicasForMemory).
	DeviceMemory int64

	// Progress receives a snapshot about once a second and a final one (see PrintProgress); nil is silent.
	Progress func(Progress)
	// OnReport is called each time an arm's iterate at a step is reached; with a store, once it is stored
	// (reports are committed in batches, at most SaveEvery apart).
	OnReport func(arm string, seed uint64, step int)
}

// Run executes the experiment and returns its trajectories, one per arm and seed, in the spec's order. With a run store, every run is saved as it goes:
// evaluated steps already stored are read back instead of recomputed, an interrupted chain continues from its
// last checkpoint, and a run whose settings differ in anything that affects its results is a new run. Run stops
// early, returning ctx's error, when ctx is cancelled; what was stored stays stored.
//
// A chain that diverges (a NaN or infinite metric or θ) stops there and the others go on: Run then returns the
// result together with an error joining one *DivergenceError per diverged chain (errors.As finds them). The
// diverged trajectories hold NaN from their divergence on and say so in Trajectory.Diverged; nothing non-finite is stored.
//
// Over several devices the result is the same as on one: which runs share a lockstep group does not change any
// run's numbers. With Shard, the shard's part of the runs is what is spread.
func (x Runner) Run(ctx context.Context, spec *Spec) (*Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := x.validate(); err != nil {
		return nil, err
	}
	devices := x.Devices
	if devices == nil && x.Backend != nil {
		devices = Devices(x.Backend)
	}
	if len(devices) == 0 {
		return nil, fmt.Errorf("experiment: no device to run on: set Runner.Backend (or Runner.Devices)")
	}
	var warm *warmStart
	if spec.WarmUp != nil {
		var err error
		if warm, err = x.warmUp(ctx, spec); err != nil {
			return nil, err
		}
	}
	var merged []*Trajectory
	var stats Stats
	var divergences []error
	for _, j := range x.jobs(spec) {
		j.warm = warm
		var res *Result
		var err error
		if x.Shard != nil {
			res, err = runShard(ctx, devices, j)
		} else {
			res, err = runParallel(ctx, devices, j, j.allRuns())
		}
		if res == nil {
			return nil, err
		}
		merged = append(merged, res.Trajectories...)
		stats.add(res.Stats)
		divergences = append(divergences, err)
	}
	arm := map[string]int{}
	for i, a := range spec.Arms {
		arm[a.Label()] = i
	}
	seed := map[uint64]int{}
	for i, s := range spec.Seeds {
		seed[s] = i
	}
	slices.SortStableFunc(merged, func(a, b *Trajectory) int {
		return cmp.Or(cmp.Compare(arm[a.Arm], arm[b.Arm]), cmp.Compare(seed[a.Seed], seed[b.Seed]))
	})
	res := &Result{Spec: spec, Trajectories: merged, Stats: stats, Backend: backend.Identity(devices[0].Backend)}
	if warm != nil {
		res.WarmUp = warm.runs
	}
	return res, errors.Join(divergences...)
}

// Run executes the experiment on device 0 of b, with nothing stored and no progress shown: Runner.Run with
// Runner{Backend: b} and that one device.
func Run(ctx context.Context, b compute.Backend, spec *Spec) (*Result, error) {
	return Runner{Backend: b, Devices: []Device{{Backend: b}}}.Run(ctx, spec)
}

// job is the share of an experiment that one rule runs — the arms with that rule, whose runs share engines and
// lockstep groups — with the runner that runs it: the parts of the run take both.
type job struct {
	Spec
	Runner
	rule   update.Rule
	orders []order.Order // the arms' orders, distinct
	arms   []string      // the arms' labels, parallel to orders
	warm   *warmStart    // θ_0 of each seed when the spec has a warm-up
}

// jobs splits a validated spec by rule: one job per distinct rule (name and hyper-parameters), in the order of
// the arms that first use each.
func (x Runner) jobs(spec *Spec) []*job {
	var out []*job
	byRule := map[string]*job{}
	for _, a := range spec.Arms {
		key := ruleKey(a.Rule)
		j := byRule[key]
		if j == nil {
			j = &job{Spec: *spec, Runner: x, rule: a.Rule}
			byRule[key] = j
			out = append(out, j)
		}
		j.orders, j.arms = append(j.orders, a.Order), append(j.arms, a.Label())
	}
	return out
}

// validate checks the runner's settings.
func (x Runner) validate() error {
	if x.DeviceMemory < 0 {
		return fmt.Errorf("experiment: device memory must be 0 (automatic) or positive, got %d bytes", x.DeviceMemory)
	}
	if x.Shard != nil {
		if x.Shard.Count < 1 || x.Shard.Index < 0 || x.Shard.Index >= x.Shard.Count {
			return fmt.Errorf("experiment: shard %d of %d: the index must be in [0, count) and the count positive "+
				"(the command line's -shard i/n counts from 1)", x.Shard.Index, x.Shard.Count)
		}
		if x.Store == nil {
			return fmt.Errorf("experiment: a shard needs a run store shared by all shards (Runner.Store)")
		}
	}
	if x.Replicas < 0 {
		return fmt.Errorf("experiment: replicas must be 0 (automatic) or positive, got %d", x.Replicas)
	}
	return nil
}
