package experiment

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// A run killed with SIGKILL, several times and at arbitrary points (mid-step, mid-write), resumes to results
// bit-identical to an uninterrupted run, recomputing only what the store does not hold.
func TestKilledRunResumesBitIdentical(t *testing.T) {
	dir := t.TempDir()
	driver := filepath.Join(dir, "driver")
	if out, err := exec.Command("go", "build", "-o", driver, "./testdata/driver").CombinedOutput(); err != nil {
		t.Fatalf("building the driver: %v\n%s", err, out)
	}
	ctx := context.Background()

	ref := killTestReference(t, filepath.Join(dir, "reference"))

	// Interrupted: a real process, killed after growing delays, restarted each time.
	store := &runs.Store{Root: filepath.Join(dir, "killed")}
	kills := 0
	for _, delay := range []time.Duration{100, 200, 300, 400} {
		cmd := exec.Command(driver, store.Root)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("driver failed: %v\n%s", err, stderr.String())
			}
		case <-time.After(delay * time.Millisecond):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			kills++
		}
	}
	if kills == 0 {
		t.Fatal("the driver always finished before being killed: the test interrupted nothing")
	}

	// What the store holds now fixes what the resumed run must compute: for every replay of every order's plan,
	// nothing when its reports are stored, the maps after its checkpoint when it has one, all of them otherwise.
	spec, runner, err := KillTestSpec(store)
	runner.Backend = backendtest.Default(t)
	if err != nil {
		t.Fatal(err)
	}
	evaluated, _ := spec.evaluated()
	want, stored, complete := 0, 0, 0
	for _, c := range ref.Trajectories {
		run, err := store.Open(openConfig(t, spec, runner, c), mustHistory(t, spec, c.Seed))
		if err != nil {
			t.Fatal(err)
		}
		stored += run.NumCompleted()
		if run.NumCompleted() == len(evaluated) {
			complete++
		}
		o, _ := order.ByName(c.Order)
		plan := o.Plan(evaluated)
		isStart := map[int]bool{}
		for _, rp := range plan {
			isStart[rp.From] = rp.From != 0
		}
		for i, rp := range plan {
			done := true
			for _, rep := range rp.Reports {
				_, completed := run.Completed(rep.Step)
				_, startStored, _ := run.Start(rep.Step)
				done = done && (completed || !slices.Contains(evaluated, rep.Step)) && (startStored || !isStart[rep.Step])
			}
			if done {
				continue
			}
			from := 0
			if cp, _ := run.Checkpoint(i); cp != nil {
				from = cp.After
			}
			want += len(rp.Steps) - from
		}
		run.Close()
	}
	t.Logf("%d kills; %d evaluated steps stored; %d update maps left", kills, stored, want)

	res, err := runner.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Applied != want {
		t.Errorf("the resumed run applied %d update maps, but only %d were missing", res.Stats.Applied, want)
	}
	if res.Stats.Stored != complete || complete == len(res.Trajectories) {
		t.Errorf("the resumed run counts %d of its %d runs as read back complete; %d were", res.Stats.Stored,
			len(res.Trajectories), complete)
	}
	for i, c := range res.Trajectories {
		r := ref.Trajectories[i]
		for k := range r.Steps {
			if c.Steps[k] != r.Steps[k] || c.TrainLoss[k] != r.TrainLoss[k] || c.TestLoss[k] != r.TestLoss[k] ||
				hasDifferentBits(c.Iterates[k], r.Iterates[k]) {
				t.Fatalf("%s seed %d step %d differs from the uninterrupted run: train loss %v vs %v, test loss %v vs %v, iterates differ by %g; steps %d vs %d of %d vs %d",
					c.Order, c.Seed, r.Steps[k], c.TrainLoss[k], r.TrainLoss[k], c.TestLoss[k], r.TestLoss[k], maxAbsDiff(c.Iterates[k], r.Iterates[k]), c.Steps[k], r.Steps[k], len(c.Steps), len(r.Steps))
			}
		}
		for _, name := range []string{"metrics.csv", "iterates.npy", "batches.npy", "config.json"} {
			a, _ := os.ReadFile(filepath.Join(r.Dir, name))
			b, _ := os.ReadFile(filepath.Join(c.Dir, name))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s of %s seed %d differs from the uninterrupted run's", name, c.Order, c.Seed)
			}
		}
	}

	// A third run recomputes nothing.
	again, err := runner.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.Applied != 0 || again.Stats.Stored != len(again.Trajectories) {
		t.Errorf("a complete stored run was recomputed: %d maps, %d of %d runs read back", again.Stats.Applied,
			again.Stats.Stored, len(again.Trajectories))
	}
}

// killTestReference runs KillTestSpec uninterrupted, in this process, into a store at root: what an interrupted
// run must end equal to.
func killTestReference(t *testing.T, root string) *Result {
	t.Helper()
	spec, runner, err := KillTestSpec(&runs.Store{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	runner.Backend = backendtest.Default(t)
	ref, err := runner.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func openConfig(t *testing.T, spec *Spec, runner Runner, c *Trajectory) runs.Config {
	t.Helper()
	evaluated, _ := spec.evaluated()
	hashes, err := dataHashes(spec.Problem.Train, spec.Problem.Test)
	if err != nil {
		t.Fatal(err)
	}
	b := backendtest.Default(t)
	j := runner.jobs(spec)[0]
	width, err := j.groupSize(b)
	if err != nil {
		t.Fatal(err)
	}
	if !backend.ShapeDependent(b) {
		width = 0
	}
	for _, o := range j.orders {
		if o.Name() == c.Order {
			return j.runConfig(b, width, o, c.Seed, evaluated, hashes)
		}
	}
	t.Fatalf("no order %q", c.Order)
	return runs.Config{}
}

func mustHistory(t *testing.T, spec *Spec, seed uint64) []int32 {
	t.Helper()
	h, err := spec.sampler().History(seedBatches(seed), spec.Steps)
	if err != nil {
		t.Fatal(err)
	}
	return h.Indices
}

// hasDifferentBits reports whether two vectors differ in any bit (NaN payloads, signed zeros included).
func hasDifferentBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return true
		}
	}
	return false
}

// A stored run is reused only by an identical experiment: a different learning rate, evaluation plan or seed computes
// afresh, and the stored run is left as it was.
func TestStoreReusesOnlyIdenticalRuns(t *testing.T) {
	store := &runs.Store{Root: t.TempDir()}
	base := func() *Spec {
		s, _, err := KillTestSpec(store)
		if err != nil {
			t.Fatal(err)
		}
		s.Steps, s.Seeds, s.Arms = 12, []uint64{1}, Orders(s.Arms[0].Rule, order.Backward{}) // 78 maps
		return s
	}
	run := func(s *Spec) int {
		res, err := Runner{Backend: backendtest.Default(t), Store: store, Replicas: 4}.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stats.Applied
	}
	if n := run(base()); n != 78 {
		t.Fatalf("first run applied %d maps, want 12·13/2 = 78", n)
	}
	if n := run(base()); n != 0 {
		t.Fatalf("identical rerun applied %d maps, want 0", n)
	}
	changed := []func(*Spec){
		func(s *Spec) { s.Arms[0].Rule = update.SGD{LearningRate: 0.06} },
		func(s *Spec) { s.Seeds = []uint64{2} },
		func(s *Spec) { s.BatchSize = 3 },
		func(s *Spec) { s.DType = dtypes.Float64 },
	}
	for i, change := range changed {
		s := base()
		change(s)
		if n := run(s); n != 78 {
			t.Errorf("change %d: applied %d maps, want a fresh run of 78", i, n)
		}
	}
	if n := run(base()); n != 0 {
		t.Errorf("the original run was disturbed: %d maps recomputed", n)
	}
}

func TestPrintProgressIsThrottled(t *testing.T) {
	var buf bytes.Buffer
	p := PrintProgress(&buf, time.Hour)
	for i := range 100 {
		p(Progress{Maps: i, MapsTotal: 100})
	}
	if buf.Len() != 0 {
		t.Errorf("printed within the interval: %q", buf.String())
	}
	p(Progress{Maps: 100, MapsTotal: 100, Final: true})
	if buf.Len() != 0 {
		t.Error("a final line without earlier lines: short runs stay silent")
	}
	p = PrintProgress(&buf, 0)
	p(Progress{Maps: 1, MapsTotal: 4, EvaluatedTotal: 2})
	p(Progress{Maps: 2, MapsTotal: 4, EvaluatedTotal: 2})
	p(Progress{Maps: 4, MapsTotal: 4, Evaluated: 2, EvaluatedTotal: 2, Final: true})
	if got := buf.String(); !strings.Contains(got, "2/4 update maps") || !strings.Contains(got, "evaluated 2/2 steps") {
		t.Errorf("progress lines %q", got)
	}
}
