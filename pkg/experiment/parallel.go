package experiment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
)

// Devices and shards. An experiment is a set of runs, one per order and seed, that do not depend on each other,
// and a run's numbers do not depend on which runs share its lockstep groups (TestRunNumbersDoNotDependOnTheirCompany).
// So an experiment splits by runs: over the devices of a host (Runner.Devices), and over processes sharing a run
// store (Runner.Shard). Both balance the parts by cost: a run costs the update maps of its order's plan (a backward
// replay to step n costs n maps, so a backward curve evaluated at n_1, …, n_k costs Σ n_i, forward SGD N).

// Device is where runs can be placed: a backend and one of its devices (compute.DeviceNum, below
// Backend.NumDevices()).
type Device struct {
	Backend compute.Backend
	Num     compute.DeviceNum
}

// Devices lists every device of a backend: the GPUs XLA sees, or the one device of the pure-Go backend.
func Devices(b compute.Backend) []Device {
	out := make([]Device, b.NumDevices())
	for i := range out {
		out[i] = Device{Backend: b, Num: compute.DeviceNum(i)}
	}
	return out
}

// Shard is one of Count processes that share an experiment's runs through one run store: 0 ≤ Index < Count.
//
// Every shard computes the same cost-balanced assignment of the runs (Assign) and first computes its own part.
// Then it visits the runs of the other shards: a complete run is read back, a run whose lock another process holds
// is being computed and is waited for (polling the store every ShardPoll), and an incomplete run nobody holds — its
// shard was killed, or has not started — is taken over and completed from its last checkpoint. So a killed shard
// costs no results, only time, and a shard restarted later finds its work done or resumes it. Run returns once
// every run is complete in the store, with the whole result read back from it (its Stats count the maps this
// shard computed).
type Shard struct {
	Index, Count int
}

// ParseShard reads a shard as the command line writes it, "i/n" with 1 ≤ i ≤ n.
func ParseShard(text string) (*Shard, error) {
	var i, n int
	if _, err := fmt.Sscanf(text, "%d/%d", &i, &n); err != nil || fmt.Sprintf("%d/%d", i, n) != text || n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("experiment: shard %q: write it i/n, the i-th of n shards, 1 ≤ i ≤ n (e.g. 2/3)", text)
	}
	return &Shard{Index: i - 1, Count: n}, nil
}

// ShardPoll is how often a shard that waits for runs other processes are computing looks at the store again.
var ShardPoll = 2 * time.Second

// runKey names a run of a spec: its order and seed indices.
type runKey [2]int

// pairs splits the runs of a job (order index, seed index) into k parts of balanced cost, as assign does.
func (s *job) pairs(k int) [][][2]int {
	return toPairs(s.assign(s.allRuns(), k))
}

func toPairs(parts [][]runKey) [][][2]int {
	out := make([][][2]int, len(parts))
	for i, p := range parts {
		for _, r := range p {
			out[i] = append(out[i], [2]int(r))
		}
	}
	return out
}

// allRuns lists every run of the spec, orders first.
func (s *job) allRuns() []runKey {
	var out []runKey
	for oi := range s.orders {
		for si := range s.Seeds {
			out = append(out, runKey{oi, si})
		}
	}
	return out
}

// runCosts returns the cost, in update maps, of a run of each order.
func (s *job) runCosts() []int {
	evaluated, _ := s.evaluated()
	costs := make([]int, len(s.orders))
	for oi, o := range s.orders {
		costs[oi] = order.Cost(o.Plan(evaluated))
	}
	return costs
}

// assign splits the given runs of a job into k parts of balanced cost: the longest-processing-time rule, each run,
// costliest first (ties in spec order), to the part with the least cost so far (ties to the lowest index). It
// depends on the spec alone, so every shard computes the same assignment.
func (s *job) assign(keys []runKey, k int) [][]runKey {
	costs := s.runCosts()
	sorted := slices.Clone(keys)
	slices.SortStableFunc(sorted, func(a, b runKey) int { return cmp.Compare(costs[b[0]], costs[a[0]]) })
	parts, load := make([][]runKey, k), make([]int, k)
	for _, r := range sorted {
		least := 0
		for i := range load {
			if load[i] < load[least] {
				least = i
			}
		}
		parts[least] = append(parts[least], r)
		load[least] += costs[r[0]]
	}
	for _, p := range parts {
		slices.SortFunc(p, func(a, b runKey) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	}
	return parts
}

// subSpecs returns the spec's experiment restricted to the given runs: one spec per order that has any.
func (s *job) subSpecs(keys []runKey) []*job {
	var out []*job
	for oi, o := range s.orders {
		var seeds []uint64
		for _, k := range keys {
			if k[0] == oi {
				seeds = append(seeds, s.Seeds[k[1]])
			}
		}
		if len(seeds) == 0 {
			continue
		}
		sub := *s
		sub.orders, sub.arms, sub.Seeds, sub.Shard = []order.Order{o}, []string{s.arms[oi]}, seeds, nil
		out = append(out, &sub)
	}
	return out
}

// runParallel runs the given runs of a spec on the devices and returns the result of those runs, in spec order.
// More runs than a process may hold open at once (openRunsLimit) are run in consecutive chunks of that many.
func runParallel(ctx context.Context, devices []Device, spec *job, keys []runKey) (*Result, error) {
	if limit := openRunsLimit(spec); len(keys) > limit {
		return runInChunks(ctx, devices, spec, keys, limit)
	}
	whole := len(keys) == len(spec.orders)*len(spec.Seeds)
	if len(devices) == 1 && whole {
		return runOne(ctx, devices[0], spec)
	}
	parts := spec.assign(keys, len(devices))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	progress := newProgressSum(spec.Progress, len(parts))
	var mu sync.Mutex
	onReport := spec.OnReport
	if onReport != nil {
		onReport = func(o string, seed uint64, step int) {
			mu.Lock()
			defer mu.Unlock()
			spec.OnReport(o, seed, step)
		}
	}
	results := make([][]*Result, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, sub := range spec.subSpecs(part) {
				sub.Progress, sub.OnReport = progress.part(i), onReport
				res, err := runOne(ctx, devices[i], sub)
				var div *DivergenceError
				if err != nil && (res == nil || !errors.As(err, &div)) {
					errs[i] = err
					cancel() // the other devices stop too; what they computed is stored
					return
				}
				results[i] = append(results[i], res)
				errs[i] = errors.Join(errs[i], err)
			}
		}()
	}
	wg.Wait()
	progress.final()
	merged := &Result{Spec: &spec.Spec}
	curves := map[runKey]*Trajectory{}
	var divergences []error
	for i := range parts {
		if errs[i] != nil && !isDivergence(errs[i]) && !errors.Is(errs[i], context.Canceled) {
			return nil, errs[i] // the error that stopped the others
		}
	}
	for i := range parts {
		for _, res := range results[i] {
			merged.Stats.add(res.Stats)
			for _, c := range res.Trajectories {
				curves[spec.keyOf(c)] = c
			}
		}
		if errs[i] != nil && !isDivergence(errs[i]) {
			return nil, errs[i]
		}
		divergences = append(divergences, errs[i])
	}
	for _, k := range spec.allRuns() {
		if c := curves[k]; c != nil {
			merged.Trajectories = append(merged.Trajectories, c)
		}
	}
	return merged, errors.Join(divergences...)
}

// keyOf returns the run key of a curve of the spec.
func (s *job) keyOf(c *Trajectory) runKey {
	oi := slices.IndexFunc(s.orders, func(o order.Order) bool { return o.Name() == c.Order })
	return runKey{oi, slices.Index(s.Seeds, c.Seed)}
}

// runShard computes a shard's part of the runs, then the runs nobody else is computing, waits for the rest, and
// returns the whole result read back from the store.
func runShard(ctx context.Context, devices []Device, spec *job) (*Result, error) {
	sh := *spec.Shard
	parts := spec.assign(spec.allRuns(), sh.Count)
	mine := parts[sh.Index]
	say := func(format string, a ...any) {
		if spec.Progress != nil {
			fmt.Fprintf(os.Stderr, "shard %d/%d: "+format+"\n", append([]any{sh.Index + 1, sh.Count}, a...)...)
		}
	}
	say("computing %d of the %d runs", len(mine), len(spec.orders)*len(spec.Seeds))
	applied := 0 // the update maps this shard computes
	if len(mine) > 0 {
		// A run of its part that another process holds (this shard started twice) is left to the loop below.
		res, err := runParallel(ctx, devices, spec, mine)
		if err != nil && !isDivergence(err) && !errors.Is(err, runs.ErrHeld) {
			return nil, err
		}
		if res != nil {
			applied += res.Stats.Applied
		}
	}
	// Every run, its own part first: complete ones are read back, held ones waited for, the others computed.
	others := slices.Clone(mine)
	for i, p := range parts {
		if i != sh.Index {
			others = append(others, p...)
		}
	}
	waitingSince, lastSaid, lastHolders := time.Now(), time.Time{}, ""
	for len(others) > 0 {
		var waiting []runKey
		holders := map[string][]string{} // holder → the runs it holds
		for _, k := range others {
			single := spec.subSpecs([]runKey{k})[0]
			single.Progress = nil
			res, err := runOne(ctx, devices[0], single)
			if res != nil {
				applied += res.Stats.Applied
			}
			var held *runs.HeldError
			switch {
			case errors.As(err, &held):
				waiting = append(waiting, k)
				holders[held.Holder] = append(holders[held.Holder], filepath.Base(filepath.Dir(held.Dir))+"/"+filepath.Base(held.Dir))
			case err != nil && !isDivergence(err):
				return nil, err
			}
		}
		if len(waiting) == 0 {
			break
		}
		// Who holds what, said when it changes and once a minute: a process that is stopped or frozen holds its
		// locks until it exits, and the shards would otherwise wait for it without a word.
		if text := describeHolders(holders); text != lastHolders || time.Since(lastSaid) >= time.Minute {
			say("waiting %s for %d runs other processes are computing — %s; if one of them is stopped or frozen, "+
				"end it (its locks are released when it exits) and its runs are taken over",
				time.Since(waitingSince).Round(time.Second), len(waiting), text)
			lastSaid, lastHolders = time.Now(), text
		}
		if err := sleep(ctx, ShardPoll); err != nil {
			return nil, err
		}
		others = waiting
	}
	whole := *spec
	whole.Shard = nil
	for {
		res, err := runParallel(ctx, devices[:1], &whole, whole.allRuns())
		if !errors.Is(err, runs.ErrHeld) { // another shard reading a run at the same moment: try again
			if res != nil {
				res.Stats.Applied += applied
			}
			return res, err
		}
		if err := sleep(ctx, ShardPoll/4); err != nil {
			return nil, err
		}
	}
}

// openRunsLimit is how many runs of a spec one process holds open at once. Every open run of a store holds its
// lock file open, so an experiment of many seeds (the stationary and baselines figures draw 10 000 per order at
// paper scale) would exceed the limit on open files: a quarter of that limit is taken, at most openRunsMost and
// at least 64 (or openRunsMost, if smaller). Without a store, nothing is held open.
func openRunsLimit(spec *job) int {
	if spec.Store == nil {
		return math.MaxInt
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		lim.Cur = 256
	}
	return min(openRunsMost, int(max(64, min(1<<20, lim.Cur/4))))
}

// openRunsMost caps the runs held open at once (a variable for the tests).
var openRunsMost = 4096

// runInChunks runs the given runs in consecutive chunks of at most size runs, each on all the devices, and merges
// their results in spec order. Every run of the spec is chunked by seeds, every order of a seed in one chunk, so
// that each chunk runs as the whole spec would, its orders sharing lockstep groups; a part of the runs (a shard's)
// is chunked as listed. A run's numbers do not depend on which runs it is computed with, so the result is that of
// one pass; each chunk reports its own progress.
func runInChunks(ctx context.Context, devices []Device, spec *job, keys []runKey, size int) (*Result, error) {
	var chunks []*job // each with the keys it runs
	var chunkKeys [][]runKey
	if len(keys) == len(spec.orders)*len(spec.Seeds) {
		per := max(1, size/len(spec.orders))
		for start := 0; start < len(spec.Seeds); start += per {
			sub := *spec
			sub.Seeds = spec.Seeds[start:min(start+per, len(spec.Seeds))]
			chunks, chunkKeys = append(chunks, &sub), append(chunkKeys, sub.allRuns())
		}
	} else {
		for start := 0; start < len(keys); start += size {
			chunks, chunkKeys = append(chunks, spec), append(chunkKeys, keys[start:min(start+size, len(keys))])
		}
	}
	byRun := map[runKey]*Trajectory{}
	merged := &Result{Spec: &spec.Spec}
	var divergences []error
	done := 0
	for i, c := range chunks {
		if spec.Progress != nil {
			fmt.Fprintf(os.Stderr, "experiment: runs %d–%d of %d (at most %d open at once)\n", done+1,
				done+len(chunkKeys[i]), len(keys), size)
		}
		done += len(chunkKeys[i])
		res, err := runParallel(ctx, devices, c, chunkKeys[i])
		if res == nil || (err != nil && !isDivergence(err)) {
			return nil, err
		}
		for _, t := range res.Trajectories {
			byRun[spec.keyOf(t)] = t
		}
		merged.Stats.add(res.Stats)
		divergences = append(divergences, err)
	}
	for _, k := range keys { // spec order
		if t := byRun[k]; t != nil {
			merged.Trajectories = append(merged.Trajectories, t)
		}
	}
	return merged, errors.Join(divergences...)
}

// describeHolders says which process holds which runs, e.g. "pid 4242 on host node7 since … holds
// backward/seed-3-ab12, backward/seed-4-cd34"; processes in order, at most three runs named each.
func describeHolders(holders map[string][]string) string {
	var parts []string
	for _, h := range slices.Sorted(maps.Keys(holders)) {
		rs := holders[h]
		named := strings.Join(rs[:min(3, len(rs))], ", ")
		if len(rs) > 3 {
			named += fmt.Sprintf(" and %d more", len(rs)-3)
		}
		parts = append(parts, h+" holds "+named)
	}
	return strings.Join(parts, "; ")
}

func isDivergence(err error) bool {
	var div *DivergenceError
	return errors.As(err, &div)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// progressSum adds up the progress of runs going on at once and reports the sum.
type progressSum struct {
	mu    sync.Mutex
	out   func(Progress)
	parts []Progress // the latest snapshot of the experiment each part is running
	done  Progress   // the sum of the final snapshots of the experiments the parts finished
}

func newProgressSum(out func(Progress), n int) *progressSum {
	return &progressSum{out: out, parts: make([]Progress, n)}
}

// part returns the progress function of part i (nil when nothing is reported).
func (p *progressSum) part(i int) func(Progress) {
	if p.out == nil {
		return nil
	}
	return func(s Progress) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if s.Final { // a part finished one of its experiments; the sum's final snapshot comes from final()
			s.Final = false
			p.done = addProgress(p.done, s)
			p.parts[i] = Progress{}
			return
		}
		p.parts[i] = s
		p.out(p.sum())
	}
}

func (p *progressSum) sum() Progress {
	t := p.done
	t.Rate = 0
	for _, s := range p.parts {
		t = addProgress(t, s)
	}
	return t
}

// addProgress adds the counts and rates of two snapshots; times are the longer of the two.
func addProgress(a, b Progress) Progress {
	a.Evaluated += b.Evaluated
	a.EvaluatedTotal += b.EvaluatedTotal
	a.Maps += b.Maps
	a.MapsTotal += b.MapsTotal
	a.Rate += b.Rate
	a.Elapsed, a.Left = max(a.Elapsed, b.Elapsed), max(a.Left, b.Left)
	return a
}

// final reports the last snapshot.
func (p *progressSum) final() {
	if p.out == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sum()
	s.Final = true
	p.out(s)
}
