package replay

import (
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/problem/problemtest"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// A replica's numbers do not depend on the group it runs in: after the same update maps, θ and the metrics of
// a replica are bit for bit those it has alone, in float32 too, for groups large enough that evaluation is split
// into several calls. (A run's numbers would otherwise depend on how many seeds and orders ran beside it, which
// is not part of its identity.)
func TestGroupSizeDoesNotChangeNumbers(t *testing.T) {
	p := problemtest.ImageLike(3000, 32, 7)
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		e, err := New(backendtest.Default(t), p, update.SGD{LearningRate: 0.05}, dt)
		if err != nil {
			t.Fatal(err)
		}
		const steps, b, r = 5, 8, 12
		src := rng.New(3)
		starts := make([][]float64, r)
		for i := range starts {
			starts[i] = p.Model.Init(src)
		}
		batches := make([][]int32, steps)
		for s := range batches {
			for range r * b {
				batches[s] = append(batches[s], int32(src.IntN(p.Train.Len())))
			}
		}
		run := func(slots []int) ([][]float64, Evaluation) {
			starts1 := make([][]float64, len(slots))
			for j, i := range slots {
				starts1[j] = starts[i]
			}
			g, err := e.NewGroup(starts1)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			for s := range steps {
				var bs []int32
				for _, i := range slots {
					bs = append(bs, batches[s][i*b:(i+1)*b]...)
				}
				active := make([]bool, len(slots))
				for j := range active {
					active[j] = true
				}
				if err := g.Step(bs, active); err != nil {
					t.Fatal(err)
				}
			}
			th, _ := g.Thetas()
			ev, err := g.Evaluate(TestData, 2500)
			if err != nil {
				t.Fatal(err)
			}
			return th, ev
		}
		all := make([]int, r)
		for i := range all {
			all[i] = i
		}
		together, evAll := run(all)
		for _, i := range []int{0, 5, 11} {
			alone, ev := run([]int{i})
			for k := range alone[0] {
				if alone[0][k] != together[i][k] {
					t.Fatalf("%s, replica %d, parameter %d: %.9g in a group of %d, %.9g alone", dt, i, k, together[i][k], r, alone[0][k])
				}
			}
			if ev.Loss[0] != evAll.Loss[i] || ev.Accuracy[0] != evAll.Accuracy[i] {
				t.Errorf("%s, replica %d: test loss %.10f, accuracy %.10f in a group of %d; %.10f, %.10f alone", dt, i,
					evAll.Loss[i], evAll.Accuracy[i], r, ev.Loss[0], ev.Accuracy[0])
			}
		}
	}
}

// Restarting replicas inside a step (continuous batching) gives exactly what a fresh group started there gives:
// θ, AdamW's moments and step count are all taken from the table, and the replicas not restarted are untouched
// by it.
func TestStepFromRestartsReplicas(t *testing.T) {
	p := regression(t)
	e := engine(t, p, update.DefaultAdamW(0.01))
	src := rng.New(5)
	const r, b = 4, 3
	starts := make([][]float64, r)
	for i := range starts {
		starts[i] = p.Model.Init(src)
	}
	table := []Carry{{Theta: p.Model.Init(src)}, {Theta: p.Model.Init(src)}}
	batch := func() []int32 {
		var bs []int32
		for range r * b {
			bs = append(bs, int32(src.IntN(p.Train.Len())))
		}
		return bs
	}
	all := []bool{true, true, true, true}
	g, _ := e.NewGroup(starts)
	defer g.Close()
	first, second := batch(), batch()
	if err := g.Step(first, all); err != nil {
		t.Fatal(err)
	}
	before, _ := g.Carries()
	tab, _ := e.NewGroupFrom(table)
	defer tab.Close()
	// Replica 1 restarts from entry 1, replica 3 from entry 0; replica 2 sits out.
	active := []bool{true, true, false, true}
	if err := g.StepFrom(second, active, tab, []int32{-1, 1, -1, 0}); err != nil {
		t.Fatal(err)
	}
	got, _ := g.Carries()
	want := func(c Carry, slot int) Carry {
		h, _ := e.NewGroupFrom([]Carry{c})
		defer h.Close()
		if err := h.Step(second[slot*b:(slot+1)*b], []bool{true}); err != nil {
			t.Fatal(err)
		}
		cs, _ := h.Carries()
		return cs[0]
	}
	for slot, w := range map[int]Carry{0: want(before[0], 0), 1: want(table[1], 1), 2: before[2], 3: want(table[0], 3)} {
		if !slices.Equal(got[slot].Theta, w.Theta) || got[slot].Count != w.Count {
			t.Errorf("replica %d: θ or step count (%g, want %g) differ", slot, got[slot].Count, w.Count)
		}
		for k := range w.State {
			if !slices.Equal(got[slot].State[k], w.State[k]) {
				t.Errorf("replica %d: state %d differs", slot, k)
			}
		}
	}
	if err := g.StepFrom(second, active, tab, []int32{-1, -1, 0, -1}); err == nil {
		t.Error("an inactive replica was restarted")
	}
}

// On XLA's CPU plugin a replica's numbers depend on the width of its group — XLA vectorises loops and orders the
// sums of reductions by shape — but, at one fixed width (Engine.SetWidth), not on the replica's slot, on its
// companions, or on how many of the slots are busy: the same θ, optimizer state and metrics alone as in a full
// group, in float32 and float64, for SGD and AdamW.
func TestFixedWidthMakesNumbersIndependent(t *testing.T) {
	b := backendtest.XLACPU(t, 1)
	p := problemtest.ImageLike(3000, 64, 7)
	const steps, batch, width = 4, 8, 8
	src := rng.New(11)
	starts := make([][]float64, 64)
	for i := range starts {
		starts[i] = p.Model.Init(src)
	}
	batches := make([][]int32, steps) // replica i's batch at step s: batches[s][i·B : (i+1)·B]
	for s := range batches {
		for range len(starts) * batch {
			batches[s] = append(batches[s], int32(src.IntN(p.Train.Len())))
		}
	}
	// run steps the listed replicas in one group and returns replica `of`'s carry and test loss.
	run := func(e *Engine, replicas []int, of int) (Carry, float64) {
		t.Helper()
		carries := make([]Carry, len(replicas))
		for j, i := range replicas {
			carries[j] = Carry{Theta: starts[i]}
		}
		g, err := e.NewGroupFrom(carries)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		for s := range steps {
			var bs []int32
			active := make([]bool, len(replicas))
			for j, i := range replicas {
				bs = append(bs, batches[s][i*batch:(i+1)*batch]...)
				active[j] = s > 0 || i%3 != 1 // some replicas (not 5) sit the first step out
			}
			if err := g.Step(bs, active); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := g.Carries()
		if err != nil {
			t.Fatal(err)
		}
		ev, err := g.Evaluate(TestData, 1000)
		if err != nil {
			t.Fatal(err)
		}
		k := slices.Index(replicas, of)
		return cs[k], ev.Loss[k]
	}
	same := func(a, b Carry) bool {
		if !slices.Equal(a.Theta, b.Theta) || a.Count != b.Count {
			return false
		}
		for k := range a.State {
			if !slices.Equal(a.State[k], b.State[k]) {
				return false
			}
		}
		return true
	}
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		for _, rule := range []update.Rule{update.SGD{LearningRate: 0.05}, update.DefaultAdamW(0.001)} {
			e, err := New(b, p, rule, dt)
			if err != nil {
				t.Fatal(err)
			}
			// Groups as wide as their replicas: the shapes change, and so do the last bits.
			alone, _ := run(e, []int{0}, 0)
			wide, _ := run(e, seq(0, 64), 0)
			if same(alone, wide) {
				t.Errorf("%s %s: a replica alone and in a group of 64 agree bit for bit: XLA no longer depends on "+
					"shapes here, and fixed widths may no longer be needed (update docs/reliability.md)", dt, rule.Name())
			}
			if err := e.SetWidth(width); err != nil {
				t.Fatal(err)
			}
			ref, refLoss := run(e, []int{5}, 5)
			for _, replicas := range [][]int{{5, 1}, {2, 9, 5, 40}, {7, 6, 4, 3, 2, 1, 0, 5}, {5, 7, 6, 4, 3, 2, 1, 0}} {
				got, loss := run(e, replicas, 5)
				if !same(got, ref) || loss != refLoss {
					t.Errorf("%s %s: replica 5 among %v: θ, state or test loss (%.17g, alone %.17g) differ from "+
						"alone, at width %d", dt, rule.Name(), replicas, loss, refLoss, width)
				}
			}
			if _, err := e.NewGroup(make([][]float64, width+1)); err == nil {
				t.Errorf("a group of %d replicas on an engine %d wide", width+1, width)
			}
		}
	}
}

// seq returns lo, lo+1, …, hi−1.
func seq(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// K update maps in one execution (Group.Steps) compute what K calls of Step compute, bit for bit: θ, optimizer
// state and step count, with all replicas busy and with some idle, for SGD and AdamW, in a group of fixed width as
// experiments use on XLA.
func TestStepsEqualsSteppingOneByOne(t *testing.T) {
	p := problemtest.ImageLike(3000, 64, 7)
	const k, batch, width = 4, 8, 8
	src := rng.New(13)
	starts := make([][]float64, 6)
	for i := range starts {
		starts[i] = p.Model.Init(src)
	}
	batches := make([][]int32, k)
	for s := range batches {
		for range len(starts) * batch {
			batches[s] = append(batches[s], int32(src.IntN(p.Train.Len())))
		}
	}
	for _, rule := range []update.Rule{update.SGD{LearningRate: 0.05}, update.DefaultAdamW(0.001)} {
		e, err := New(backendtest.Default(t), p, rule, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SetWidth(width); err != nil {
			t.Fatal(err)
		}
		for _, active := range [][]bool{{true, true, true, true, true, true}, {true, false, true, true, false, true}} {
			run := func(block bool) []Carry {
				g, err := e.NewGroup(starts)
				if err != nil {
					t.Fatal(err)
				}
				defer g.Close()
				if block {
					err = g.Steps(batches, active)
				} else {
					for _, b := range batches {
						if err = g.Step(b, active); err != nil {
							break
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				cs, err := g.Carries()
				if err != nil {
					t.Fatal(err)
				}
				return cs
			}
			one, block := run(false), run(true)
			for r := range one {
				same := slices.Equal(one[r].Theta, block[r].Theta) && one[r].Count == block[r].Count
				for j := range one[r].State {
					same = same && slices.Equal(one[r].State[j], block[r].State[j])
				}
				if !same {
					t.Errorf("%s, active %v: replica %d differs between %d steps in one execution and one by one",
						rule.Name(), active, r, k)
				}
				for j, v := range starts[r] {
					if !active[r] && block[r].Theta[j] != float64(float32(v)) {
						t.Errorf("%s: idle replica %d moved", rule.Name(), r)
						break
					}
				}
			}
		}
	}
}
