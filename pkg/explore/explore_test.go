package explore

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// On the quadratic, from a store: every run is listed and loaded; each backward run converges at the closed-form
// rate 1 − h (its steps are h(1−h)^n(ε_{n+1} − θ_0)), and forward iterates stay at the stationary distance from
// that point, orders of magnitude beyond the backward run's own estimated distance.
func TestConvergenceOnTheQuadratic(t *testing.T) {
	const h, seeds = 0.2, 10
	p, err := problem.Quadratic{Dim: 3, Sigma: 1, Start: 2, Examples: 4096, Seed: 4}.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(seeds), Steps: 80, BatchSize: 1, Sampling: data.WithReplacement,
		Evaluated: evaluation.Every(2), DType: dtypes.Float64, KeepIterates: true}
	if _, err := (experiment.Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: root}}).Run(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	infos, err := List(root)
	if err != nil || len(infos) != 2*seeds {
		t.Fatalf("listed %d runs, want %d: %v", len(infos), 2*seeds, err)
	}
	if !strings.Contains(Table(infos), "quadratic-3d") || len(Select(infos, "quadratic", "")) != 2*seeds ||
		len(Select(infos, "cifar", "")) != 0 {
		t.Error("Table or Select")
	}
	rs, err := LoadAll(infos)
	if err != nil {
		t.Fatal(err)
	}
	by := ByOrder(rs)
	c, err := Compare(by["forward"], by["backward"])
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Seeds) != seeds || math.IsNaN(c.KSp) || math.IsNaN(c.EnergyP) {
		t.Fatalf("compared %d seeds, law tests %v %v", len(c.Seeds), c.KSp, c.EnergyP)
	}
	for i := range c.Seeds {
		lim := c.Limits[i]
		d := c.ForwardToLimit[i]
		if math.Abs(lim.Rate-(1-h)) > 0.02 || !lim.Converging {
			t.Errorf("seed %d: fitted rate %.4f, want %.2f", c.Seeds[i], lim.Rate, 1-h)
		}
		if d[len(d)-1] < 1e3*lim.Tail {
			t.Errorf("seed %d: forward ends %.3g from the backward limit, its tail is %.3g", c.Seeds[i], d[len(d)-1], lim.Tail)
		}
	}
	pr, err := Project(rs)
	if err != nil {
		t.Fatal(err)
	}
	if s := pr.Explained[0] + pr.Explained[1]; !(s > 0.5 && s <= 1+1e-9) || pr.Explained[0] < pr.Explained[1] {
		t.Errorf("explained shares %v", pr.Explained)
	}
	fig, err := Figure(rs, c, pr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fig.PNG(); err != nil {
		t.Fatal(err)
	}
	html, err := Interactive(pr, "t")
	view := string(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`type="range"`, `"order":"backward"`, "<svg", "addEventListener"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %s", want)
		}
	}
	for _, bad := range []string{"http:", "https:", "src="} {
		if strings.Contains(view, bad) {
			t.Errorf("the view loads something from outside (%s): it must work offline", bad)
		}
	}
	if !strings.Contains(c.Summary(), "energy test p") {
		t.Error("the summary lacks the law tests")
	}
}

// The principal directions of points on an ellipse in the (x, y) plane of R³ with semi-axes 3 and 1: shares of
// the variance 0.9 and 0.1, and the projection keeps every point's distance to the centre.
func TestProjectFindsThePrincipalPlane(t *testing.T) {
	r := &experiment.Trajectory{}
	const n = 360
	for k := range n {
		a := 2 * math.Pi * float64(k) / n
		r.Steps = append(r.Steps, k)
		r.Iterates = append(r.Iterates, []float64{5 + 3*math.Cos(a), -1 + math.Sin(a), 7})
	}
	pr, err := Project([]*experiment.Trajectory{r})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pr.Explained[0]-0.9) > 1e-6 || math.Abs(pr.Explained[1]-0.1) > 1e-6 {
		t.Errorf("explained %v, want [0.9 0.1]", pr.Explained)
	}
	for k, p := range pr.Points[0] {
		it := r.Iterates[k]
		want := math.Hypot(it[0]-5, it[1]+1)
		if got := math.Hypot(p[0], p[1]); math.Abs(got-want) > 1e-6 {
			t.Fatalf("point %d: projected radius %.6g, want %.6g", k, got, want)
		}
	}
}

// Two experiments on one problem in one store (two learning rates; as well two revsgd versions): Select returns
// the runs of the one run last, and says what it left out and how it differs (it did so silently).
func TestSelectTakesOneExperiment(t *testing.T) {
	p, err := problem.Quadratic{Dim: 2, Sigma: 1, Start: 1, Examples: 256, Seed: 4}.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, h := range []float64{0.3, 0.1} {
		spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
			Seeds: experiment.SeedRange(2), Steps: 10, BatchSize: 1, Sampling: data.WithReplacement,
			Evaluated: evaluation.Every(2), DType: dtypes.Float64, KeepIterates: true}
		if _, err := (experiment.Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: root}}).Run(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // distinct modification times
	}
	infos, err := List(root)
	if err != nil || len(infos) != 8 {
		t.Fatalf("listed %d runs: %v", len(infos), err)
	}
	var notes strings.Builder
	defer func(w io.Writer) { Notes = w }(Notes)
	Notes = &notes
	sel := Select(infos, "quadratic", "")
	if !strings.Contains(notes.String(), "leaving out 4 runs with rule.hyper.learning_rate 0.3 (taken: 0.1)") {
		t.Errorf("Select does not say what it left out: %q", notes.String())
	}
	if len(sel) != 4 {
		t.Fatalf("selected %d runs, want the 4 of one experiment", len(sel))
	}
	// Runs of two revsgd versions differ in the library field of their configuration.
	if d := differences(`{"library":"0.3.0","steps":10}`, `{"library":"0.3.1","steps":10}`); !slices.Equal(d, []string{"library 0.3.0 (taken: 0.3.1)"}) {
		t.Errorf("two versions: %q", d)
	}
	for _, info := range sel {
		if _, err := Load(info.Dir); err != nil {
			t.Fatal(err)
		}
		if got := info.experiment; got != sel[0].experiment || !strings.Contains(got, `"learning_rate":0.1`) {
			t.Errorf("selected a run of another experiment: %s", got)
		}
	}
}

// A forward run without its iterates is an error that says so, not a panic.
func TestCompareNeedsForwardIterates(t *testing.T) {
	b := &experiment.Trajectory{Order: "backward", Seed: 1, Steps: []int{1, 2, 3},
		Iterates: [][]float64{{1}, {0.5}, {0.25}}}
	f := &experiment.Trajectory{Order: "forward", Seed: 1, Steps: []int{1, 2, 3}}
	if _, err := Compare([]*experiment.Trajectory{f}, []*experiment.Trajectory{b}); err == nil ||
		!strings.Contains(err.Error(), "iterates") {
		t.Errorf("%v, want an error about the forward run's iterates", err)
	}
}

// A run that a live process is writing, caught with a file not yet written, is left out of List without an
// error (a notebook polling the store while a figure runs does not fail); the same state without a writer is
// damage, and says so. A store root that is a symbolic link lists its runs.
func TestListSkipsRunsBeingWrittenAndFollowsALinkedRoot(t *testing.T) {
	p, err := problem.Quadratic{Dim: 1, Sigma: 1, Start: 2, Examples: 64, Seed: 4}.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: 0.1}, order.Forward{}),
		Seeds: experiment.SeedRange(1), Steps: 4, BatchSize: 1, Evaluated: evaluation.Every(2), DType: dtypes.Float64,
		KeepIterates: true}
	if _, err := (experiment.Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: root}}).Run(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	infos, err := List(root)
	if err != nil || len(infos) != 1 {
		t.Fatalf("listed %d runs: %v", len(infos), err)
	}
	link := filepath.Join(t.TempDir(), "store")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	if linked, err := List(link); err != nil || len(linked) != 1 {
		t.Errorf("through a linked root: %d runs, %v", len(linked), err)
	}

	// A writer holds the run's lock while its batch history is missing (as between the writes of a new run).
	dir := infos[0].Dir
	st, err := runs.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	batches := make([]int32, 0, st.Config.Steps*st.Config.BatchSize)
	for _, b := range st.Batches {
		batches = append(batches, b...)
	}
	w, err := (&runs.Store{Root: root}).Open(st.Config, batches)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "batches.npy")); err != nil {
		t.Fatal(err)
	}
	if infos, err := List(root); err != nil || len(infos) != 0 {
		t.Errorf("while being written: %d runs, %v; want it left out without an error", len(infos), err)
	}
	w.Close()
	if _, err := List(root); err == nil {
		t.Error("the same damage with no writer was not reported")
	}
}

// A run that diverged, or stops before N in the store, is left out of the comparison with the reason: its last
// iterate is not a limit (it entered the law tests as one).
func TestCompareLeavesOutRunsThatDidNotReachN(t *testing.T) {
	run := func(order string, seed uint64, last int, diverged bool) *experiment.Trajectory {
		r := &experiment.Trajectory{Order: order, Seed: seed, N: 8}
		for n := 1; n <= last; n++ {
			r.Steps = append(r.Steps, n)
			r.Iterates = append(r.Iterates, []float64{1 + math.Pow(0.5, float64(n)), float64(seed)})
		}
		if diverged {
			r.Diverged = &experiment.DivergenceError{Order: order, Seed: seed, Step: last + 1}
		}
		return r
	}
	forward := []*experiment.Trajectory{run("forward", 1, 8, false), run("forward", 2, 8, false), run("forward", 3, 8, false),
		run("forward", 4, 5, true)}
	backward := []*experiment.Trajectory{run("backward", 1, 8, false), run("backward", 2, 5, false),
		run("backward", 3, 6, true), run("backward", 4, 8, false)}
	c, err := Compare(forward, backward)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Seeds, []uint64{1}) || len(c.LeftOut) != 3 {
		t.Fatalf("compared seeds %v, left out %q; want seed 1 compared, 2, 3 and 4 left out", c.Seeds, c.LeftOut)
	}
	for i, want := range []string{"seed 2: the backward run: its last evaluated step is 5 of N = 8", "seed 3: the backward run:",
		"seed 4: the forward run:"} {
		if !strings.Contains(c.LeftOut[i], want) {
			t.Errorf("left out %q, want %q", c.LeftOut[i], want)
		}
	}
	if !strings.Contains(c.Summary(), "Left out (3 seeds)") {
		t.Errorf("the summary does not say what was left out:\n%s", c.Summary())
	}
	if _, err := Compare(forward[1:2], backward[1:2]); err == nil || !strings.Contains(err.Error(), "reached N") {
		t.Errorf("no seed left: %v", err)
	}
}
