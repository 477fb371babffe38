package experiment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"
	revsgdbackend "github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/runs"
)

// Every run lands in exactly one part, and the parts' costs differ by at most the costliest run's.
func TestAssignBalancesCost(t *testing.T) {
	spec, _, err := KillTestSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	j := Runner{}.jobs(spec)[0]
	costs := j.runCosts()
	for _, k := range []int{1, 2, 3, 5, 8, 11} {
		parts := j.pairs(k)
		seen := map[[2]int]int{}
		lo, hi := int(^uint(0)>>1), 0
		for _, p := range parts {
			load := 0
			for _, r := range p {
				seen[r]++
				load += costs[r[0]]
			}
			lo, hi = min(lo, load), max(hi, load)
		}
		if len(seen) != len(j.orders)*len(spec.Seeds) {
			t.Errorf("k = %d: %d runs assigned, want %d", k, len(seen), len(j.orders)*len(spec.Seeds))
		}
		for r, n := range seen {
			if n != 1 {
				t.Errorf("k = %d: run %v assigned %d times", k, r, n)
			}
		}
		if hi-lo > slices.Max(costs) {
			t.Errorf("k = %d: loads from %d to %d maps, more apart than the costliest run (%d)", k, lo, hi, slices.Max(costs))
		}
	}
	if !slices.Equal(j.pairs(3)[1], j.pairs(3)[1]) {
		t.Error("the assignment is not deterministic")
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "2-3", "1/3x", ""} {
		if _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "i/n") {
			t.Errorf("shard %q: %v", bad, err)
		}
	}
}

// Runs spread over three devices give the bits of a one-device run: three pure-Go engines (stand-ins for three
// GPUs), and XLA's CPU plugin with three host devices — each engine with its own copy of the data, its graphs
// run on its own device — against the same plugin's one device.
func TestDevicesGiveTheSameRuns(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		var devices []Device
		for range 3 {
			b, err := compute.NewWithConfig(revsgdbackend.GoConfig(""))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			devices = append(devices, Device{Backend: b})
		}
		checkDevicesGiveTheSameRuns(t, Device{Backend: backendtest.Go(t)}, devices)
	})
	t.Run("xla-cpu", func(t *testing.T) {
		checkDevicesGiveTheSameRuns(t, Device{Backend: backendtest.XLACPU(t, 1)},
			Devices(backendtest.XLACPU(t, 2)), Devices(backendtest.XLACPU(t, 3)))
	})
}

// checkDevicesGiveTheSameRuns runs the experiment on one device, then on each set of devices, and requires the same
// curves, iterates and work of every set (the one-device reference is computed once).
func checkDevicesGiveTheSameRuns(t *testing.T, one Device, sets ...[]Device) {
	t.Helper()
	spec, runner, err := KillTestSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Steps, spec.Seeds = 40, []uint64{1, 2, 3}
	spec.Arms = spec.Arms[:3]
	runner.Devices = []Device{one}
	ref, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, devices := range sets {
		var got []Progress
		runner.Devices, runner.Progress = devices, func(p Progress) { got = append(got, p) }
		res, err := runner.Run(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		n := len(devices)
		if len(res.Trajectories) != len(ref.Trajectories) || res.Stats != ref.Stats || res.Stats.Stored != 0 {
			t.Fatalf("%d curves and %d maps on %d devices, %d and %d on one", len(res.Trajectories), res.Stats.Applied,
				n, len(ref.Trajectories), ref.Stats.Applied)
		}
		for i, c := range res.Trajectories {
			r := ref.Trajectories[i]
			if c.Order != r.Order || c.Seed != r.Seed || !slices.Equal(c.Steps, r.Steps) || !slices.Equal(c.TestLoss, r.TestLoss) {
				t.Fatalf("curve %d: %s seed %d on %d devices, %s seed %d on one, or different losses", i, c.Order,
					c.Seed, n, r.Order, r.Seed)
			}
			for k := range r.Iterates {
				if hasDifferentBits(c.Iterates[k], r.Iterates[k]) {
					t.Fatalf("%s seed %d step %d: the iterates on %d devices differ", c.Order, c.Seed, r.Steps[k], n)
				}
			}
		}
		if len(got) == 0 || !got[len(got)-1].Final || got[len(got)-1].Maps != ref.Stats.Applied {
			t.Errorf("progress on %d devices: %d snapshots; %d maps applied", n, len(got), ref.Stats.Applied)
		}
	}
}

// Three shard processes on one store, one of them killed part-way and restarted, leave the store an unsharded run
// would: the same files, byte for byte.
func TestShardsMatchAnUnshardedRun(t *testing.T) {
	dir := t.TempDir()
	driver := filepath.Join(dir, "driver")
	if out, err := exec.Command("go", "build", "-o", driver, "./testdata/driver").CombinedOutput(); err != nil {
		t.Fatalf("building the driver: %v\n%s", err, out)
	}
	ref := killTestReference(t, filepath.Join(dir, "reference"))

	store := filepath.Join(dir, "sharded")
	var stdout bytes.Buffer // only read from the restarted shard, alone by then
	start := func(shard string) (*exec.Cmd, *bytes.Buffer, chan error) {
		cmd := exec.Command(driver, store, shard)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if shard == "2/3" {
			stdout.Reset()
			cmd.Stdout = &stdout
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, &stderr, done
	}
	_, e1, d1 := start("1/3")
	killed, _, dk := start("2/3")
	_, e3, d3 := start("3/3")
	time.Sleep(300 * time.Millisecond)
	if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-dk; err == nil {
		t.Fatal("shard 2/3 finished before it was killed: the test interrupted nothing")
	}
	// The other two take over its runs (nobody holds them any more) and finish.
	for _, s := range []struct {
		done   chan error
		stderr *bytes.Buffer
	}{{d1, e1}, {d3, e3}} {
		if err := <-s.done; err != nil {
			t.Fatalf("a shard failed: %v\n%s", err, s.stderr)
		}
	}
	// Restarted, shard 2 finds every run complete.
	_, e2, d2 := start("2/3")
	if err := <-d2; err != nil {
		t.Fatalf("the restarted shard failed: %v\n%s", err, e2)
	}
	if got := strings.TrimSpace(stdout.String()); got != "applied 0" {
		t.Errorf("the restarted shard says %q: the others should have completed the runs of the killed one", got)
	}
	spec, runner, err := KillTestSpec(&runs.Store{Root: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Trajectories {
		run, err := runner.Store.Open(openConfig(t, spec, runner, c), mustHistory(t, spec, c.Seed))
		if err != nil {
			t.Fatal(err)
		}
		sharded := run.Dir()
		run.Close()
		for _, name := range []string{"metrics.csv", "iterates.npy", "batches.npy", "config.json", "record.json"} {
			a, _ := os.ReadFile(filepath.Join(c.Dir, name))
			b, _ := os.ReadFile(filepath.Join(sharded, name))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s of %s seed %d differs from the unsharded run's", name, c.Order, c.Seed)
			}
		}
	}
}

// More runs than may be open at once are computed in chunks: the store ends as one pass would leave it (the same
// trajectories, bit for bit, and the same update maps), no run is held open beyond the chunk, and a second pass
// reads every run back.
func TestRunsBeyondTheOpenLimitRunInChunks(t *testing.T) {
	spec, runner, err := KillTestSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Steps, spec.Seeds, spec.Arms = 20, []uint64{1, 2, 3, 4}, spec.Arms[:2]
	runner.Backend = backendtest.Default(t)
	runner.Store = &runs.Store{Root: t.TempDir()}
	ref, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}

	defer func(most int) { openRunsMost = most }(openRunsMost)
	openRunsMost = 3 // 8 runs of 2 orders: 4 chunks of one seed's 2 runs
	runner.Store = &runs.Store{Root: t.TempDir()}
	runner.Progress = func(Progress) {} // chunks are announced when progress is shown
	mostLocks := 0                      // the most run locks this process held open at a report
	runner.OnReport = func(string, uint64, int) { mostLocks = max(mostLocks, openLocks(t)) }
	notes, restore := captureStderr(t)
	res, err := runner.Run(context.Background(), spec)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if mostLocks == 0 || mostLocks > 3 {
		t.Errorf("at most %d run locks were open at a report; want 1 to 3", mostLocks)
	}
	if got := strings.Count(notes.String(), "at most 3 open at once"); got != 4 {
		t.Errorf("%d chunks announced, want 4:\n%s", got, notes.String())
	}
	if len(res.Trajectories) != len(ref.Trajectories) || res.Stats != ref.Stats {
		t.Fatalf("in chunks: %d trajectories, %+v; in one pass %d, %+v", len(res.Trajectories), res.Stats,
			len(ref.Trajectories), ref.Stats)
	}
	for i, c := range res.Trajectories {
		want := ref.Trajectories[i]
		if c.Order != want.Order || c.Seed != want.Seed || !slices.Equal(c.TestLoss, want.TestLoss) {
			t.Fatalf("trajectory %d: %s seed %d in chunks, %s seed %d in one pass, or other losses", i, c.Order, c.Seed,
				want.Order, want.Seed)
		}
		for k := range want.Iterates {
			if hasDifferentBits(c.Iterates[k], want.Iterates[k]) {
				t.Fatalf("%s seed %d step %d: the iterates differ from one pass's", c.Order, c.Seed, want.Steps[k])
			}
		}
	}
	again, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.Applied != 0 || again.Stats.Stored != len(again.Trajectories) {
		t.Errorf("a second pass computed %d maps and read %d of %d runs back", again.Stats.Applied, again.Stats.Stored,
			len(again.Trajectories))
	}
}

// openLocks counts the run lock files this process holds open.
func openLocks(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && filepath.Base(target) == "lock" {
			n++
		}
	}
	return n
}

// A shard waiting for a run another process holds says which process holds which runs (a frozen shard made the
// others wait forever without a word), and takes the run over once that process lets it go.
func TestWaitingShardNamesTheHolder(t *testing.T) {
	defer func(p time.Duration) { ShardPoll = p }(ShardPoll)
	ShardPoll = 20 * time.Millisecond
	store := &runs.Store{Root: t.TempDir()}
	spec, runner, err := KillTestSpec(store)
	if err != nil {
		t.Fatal(err)
	}
	spec.Steps, spec.Arms = 20, spec.Arms[:2]
	runner.Backend = backendtest.Default(t)
	// Every run of the other shard is held here, as by a shard that was stopped with its locks taken.
	runner.Shard = &Shard{Index: 0, Count: 2}
	j := runner.jobs(spec)[0]
	var held []*runs.Run
	for _, k := range j.assign(j.allRuns(), 2)[1] {
		c := &Trajectory{Order: j.orders[k[0]].Name(), Seed: spec.Seeds[k[1]]}
		r, err := store.Open(openConfig(t, spec, runner, c), mustHistory(t, spec, c.Seed))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	runner.Progress = func(Progress) {}
	said, restore := captureStderr(t)
	done := make(chan error, 1)
	go func() {
		_, err := runner.Run(context.Background(), spec)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(said.String(), "waiting") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range held {
		r.Close()
	}
	err = <-done
	restore()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	text := said.String()
	if want := fmt.Sprintf("pid %d on host %s since", os.Getpid(), host); !strings.Contains(text, want) ||
		!strings.Contains(text, "holds forward/") || !strings.Contains(text, "stopped or frozen") {
		t.Errorf("the waiting shard does not name the holder (%q) and its runs:\n%s", want, text)
	}
}

// captureStderr sends what this process writes to standard error into the returned buffer, read as it comes,
// until restore is called.
func captureStderr(t *testing.T) (said *syncBuffer, restore func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	said = &syncBuffer{}
	drained := make(chan struct{})
	go func() { said.drain(r); close(drained) }()
	return said, func() { os.Stderr = stderr; w.Close(); <-drained }
}

// syncBuffer is a buffer that drain fills from a reader while String is read, safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) drain(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		s.mu.Lock()
		s.b.Write(buf[:n])
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
