package replay

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

func regression(t *testing.T) *problem.Problem {
	t.Helper()
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 3, Hidden: 4, Noise: 0.1, Train: 24, Test: 8, Seed: 2},
		Hidden: []int{5, 4}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func engine(t *testing.T, p *problem.Problem, rule update.Rule) *Engine {
	t.Helper()
	e, err := New(backendtest.Default(t), p, rule, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func all(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// With a batch that is the whole training set, one update map is T(θ) = θ − h ∇L(θ) with L the full training
// loss, which Group.Loss evaluates independently of the step graph: the step must match central finite
// differences of that loss. In float64 with ε = 1e-6 the difference quotient has truncation error O(ε²·L”') ≈
// 1e-12 and rounding error ≈ 1e-16/ε = 1e-10, so 1e-7 relative to the gradient's size is a safe bound.
func TestUpdateMapMatchesFiniteDifferences(t *testing.T) {
	p := regression(t)
	const h = 0.3
	e := engine(t, p, update.SGD{LearningRate: h})
	theta := p.Model.Init(rng.New(1))
	g, _ := e.NewGroup([][]float64{theta})
	if err := g.Step(all(p.Train.Len()), []bool{true}); err != nil {
		t.Fatal(err)
	}
	after, _ := g.Thetas()

	lossAt := func(th []float64) float64 {
		gg, _ := e.NewGroup([][]float64{th})
		defer gg.Close()
		l, err := gg.Loss(TrainData)
		if err != nil {
			t.Fatal(err)
		}
		return l[0]
	}
	src := rng.New(99)
	for dir := range 4 {
		v := make([]float64, len(theta))
		for i := range v {
			v[i] = src.Normal()
		}
		const eps = 1e-6
		plus, minus := make([]float64, len(theta)), make([]float64, len(theta))
		for i := range theta {
			plus[i], minus[i] = theta[i]+eps*v[i], theta[i]-eps*v[i]
		}
		fd := (lossAt(plus) - lossAt(minus)) / (2 * eps)
		step := 0.0 // ∇L·v from the update: (θ − T(θ))·v / h
		for i := range theta {
			step += (theta[i] - after[0][i]) / h * v[i]
		}
		if math.Abs(step-fd) > 1e-7*max(1, math.Abs(fd)) {
			t.Errorf("direction %d: ∇L·v = %.10g from the update map, %.10g by finite differences", dir, step, fd)
		}
	}
}

// Our rules give the same numbers as GoMLX's own optimizers (SGD with the decay switched off; Adam with weight
// decay, which GoMLX computes as AdamW), applied to the same model through GoMLX's variable store.
func TestRulesMatchGoMLXOptimizers(t *testing.T) {
	adamw := update.AdamW{LearningRate: 0.01, Beta1: 0.85, Beta2: 0.99, Epsilon: 1e-7, WeightDecay: 0.02}
	cases := []struct {
		ours   update.Rule
		theirs optimizer.Interface
	}{
		{update.SGD{LearningRate: 0.05}, optimizer.StochasticGradientDescent().WithDecay(false).WithLearningRate(0.05)},
		{adamw, optimizer.Adam().LearningRate(adamw.LearningRate).Betas(adamw.Beta1, adamw.Beta2).
			Epsilon(adamw.Epsilon).WeightDecay(adamw.WeightDecay).Done()},
	}
	for _, c := range cases {
		t.Run(c.ours.Name(), func(t *testing.T) { compareWithGoMLX(t, c.ours, c.theirs) })
	}
}

func compareWithGoMLX(t *testing.T, rule update.Rule, opt optimizer.Interface) {
	p := regression(t)
	const steps = 5
	e := engine(t, p, rule)
	theta := p.Model.Init(rng.New(3))
	batch := []int32{0, 5, 7, 11}

	g, _ := e.NewGroup([][]float64{theta})
	for range steps {
		if err := g.Step(batch, []bool{true}); err != nil {
			t.Fatal(err)
		}
	}
	ours, _ := g.Thetas()

	store := model.NewStore()
	scope := store.RootScope()
	offset := 0
	var vars []*model.Variable
	for _, prm := range p.Model.Params() {
		vals := theta[offset : offset+prm.Size()]
		offset += prm.Size()
		v, err := scope.CreateVariable(fmt.Sprintf("p%d", len(vars)), tensors.FromFlatDataAndDimensions(vals, append([]int{1}, prm.Dims...)...))
		if err != nil {
			t.Fatal(err)
		}
		vars = append(vars, v)
	}
	exec, err := model.NewExec(backendtest.Default(t), store, func(scope *model.Scope, x, y *Node) *Node {
		params := make([]*Node, len(vars))
		for i, v := range vars {
			params[i] = v.NodeValue(x.Graph())
		}
		loss := ReduceAllSum(p.Loss.Mean(p.Model.Apply(params, InsertAxes(x, 0)), InsertAxes(y, 0)))
		opt.UpdateGraph(scope, x.Graph(), loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	xs := tensors.MustCopyFlatData[float64](p.Train.Inputs)
	ys := tensors.MustCopyFlatData[float64](p.Train.Targets)
	var bx, by []float64
	for _, i := range batch {
		bx = append(bx, xs[int(i)*3:int(i)*3+3]...)
		by = append(by, ys[i])
	}
	for range steps {
		if _, err := exec.Exec(tensors.FromFlatDataAndDimensions(bx, len(batch), 3), tensors.FromFlatDataAndDimensions(by, len(batch), 1)); err != nil {
			t.Fatal(err)
		}
	}
	var theirs []float64
	for _, v := range vars {
		theirs = append(theirs, tensors.MustCopyFlatData[float64](v.MustValue())...)
	}
	moved := 0.0
	for i := range theirs {
		moved = max(moved, math.Abs(theirs[i]-theta[i]))
		// Same formula, operations in a different order: agreement to rounding.
		if math.Abs(theirs[i]-ours[0][i]) > 1e-13*max(1, math.Abs(theirs[i])) {
			t.Fatalf("parameter %d after %d steps: ours %.17g, GoMLX %.17g", i, steps, ours[0][i], theirs[i])
		}
	}
	if moved < 1e-3 {
		t.Fatalf("the parameters barely moved (%g): the comparison says nothing", moved)
	}
}

// Replicas never mix: each replica of a group follows bit for bit the path it would follow alone, whatever the
// group size and whichever replicas sit steps out (replays of mixed lengths). Resuming a run from the run store
// relies on this: the resumed replays are grouped differently from the uninterrupted ones. (On XLA the group
// size can change a replica's last bits on larger problems, which is why experiments fix the width there, see
// TestFixedWidthMakesNumbersIndependent; on this small one it guards against fused multiply-adds, which made a
// masked step of 6 replicas differ from one replica's step until backend.MaxISAFlag.)
func TestReplicasAreIndependent(t *testing.T) {
	p := regression(t)
	e := engine(t, p, update.SGD{LearningRate: 0.1})
	for _, r := range []int{2, 6, 17} {
		const steps, b = 7, 3
		src := rng.New(uint64(r))
		starts := make([][]float64, r)
		batches := make([][]int32, steps)
		for i := range starts {
			starts[i] = p.Model.Init(src)
		}
		for s := range batches {
			for range r * b {
				batches[s] = append(batches[s], int32(src.IntN(p.Train.Len())))
			}
		}
		// Replica i sits out its first i%4 steps: replays of lengths 7, 6, 5 and 4 share the group.
		activeAt := func(i, s int) bool { return s >= i%4 }

		g, _ := e.NewGroup(starts)
		for s := range steps {
			active := make([]bool, r)
			for i := range active {
				active[i] = activeAt(i, s)
			}
			if err := g.Step(batches[s], active); err != nil {
				t.Fatal(err)
			}
		}
		together, _ := g.Thetas()
		g.Close()

		for i := range r {
			alone, _ := e.NewGroup([][]float64{starts[i]})
			for s := range steps {
				if activeAt(i, s) {
					if err := alone.Step(batches[s][i*b:(i+1)*b], []bool{true}); err != nil {
						t.Fatal(err)
					}
				}
			}
			th, _ := alone.Thetas()
			alone.Close()
			for k := range th[0] {
				if th[0][k] != together[i][k] {
					t.Fatalf("R = %d, replica %d, parameter %d: %.17g in the group, %.17g alone", r, i, k, together[i][k], th[0][k])
				}
			}
		}
	}
}

func TestGroupErrors(t *testing.T) {
	p := regression(t)
	e := engine(t, p, update.SGD{LearningRate: 0.1})
	if _, err := e.NewGroup(nil); err == nil {
		t.Error("empty group accepted")
	}
	if _, err := e.NewGroup([][]float64{{1, 2}}); err == nil {
		t.Error("wrong parameter count accepted")
	}
	g, _ := e.NewGroup([][]float64{p.Model.Init(rng.New(1))})
	if err := g.Step([]int32{0, 99}, []bool{true}); err == nil {
		t.Error("out-of-range example index accepted")
	}
	if err := g.Step([]int32{0}, []bool{true, false}); err == nil {
		t.Error("wrong number of active flags accepted")
	}
	if _, err := New(backendtest.Default(t), p, update.SGD{LearningRate: 0.1}, dtypes.Int32); err == nil {
		t.Error("int32 parameters accepted")
	}
}

// Momentum, which GoMLX has no optimizer for, against the heavy-ball recursion by hand: b ← μ b + g,
// θ ← θ − h b, with the gradients g taken from the engine's SGD map at h = 1 (g = θ − T(θ)), and the recursion's
// arithmetic done in Go. Both sides round the same float64 operations differently only in their order, hence
// the 1e-12 relative bound.
func TestMomentumMatchesHeavyBallByHand(t *testing.T) {
	p := regression(t)
	rule := update.Momentum{LearningRate: 0.05, Mu: 0.9}
	batches := [][]int32{{0, 5, 7, 11}, {1, 2, 3, 4}, {20, 21, 22, 23}, {6, 8, 9, 10}, {0, 5, 7, 11}}
	theta := p.Model.Init(rng.New(4))

	g, _ := engine(t, p, rule).NewGroup([][]float64{theta})
	defer g.Close()
	for _, b := range batches {
		if err := g.Step(b, []bool{true}); err != nil {
			t.Fatal(err)
		}
	}
	ours, _ := g.Carries()

	sgd := engine(t, p, update.SGD{LearningRate: 1})
	want, buf := append([]float64(nil), theta...), make([]float64, len(theta))
	for _, b := range batches {
		gg, _ := sgd.NewGroup([][]float64{want})
		if err := gg.Step(b, []bool{true}); err != nil {
			t.Fatal(err)
		}
		moved, _ := gg.Thetas()
		gg.Close()
		for i := range want {
			buf[i] = rule.Mu*buf[i] + (want[i] - moved[0][i])
			want[i] -= rule.LearningRate * buf[i]
		}
	}
	for i := range want {
		if d := math.Abs(ours[0].Theta[i] - want[i]); d > 1e-12*max(1, math.Abs(want[i])) {
			t.Fatalf("parameter %d: engine %.15g, by hand %.15g", i, ours[0].Theta[i], want[i])
		}
		if d := math.Abs(ours[0].State[0][i] - buf[i]); d > 1e-12*max(1, math.Abs(buf[i])) {
			t.Fatalf("buffer %d: engine %.15g, by hand %.15g", i, ours[0].State[0][i], buf[i])
		}
	}
	if ours[0].Count != float64(len(batches)) {
		t.Fatalf("step count %g after %d steps", ours[0].Count, len(batches))
	}
}

// Evaluation calls have one size where a divisor allows (one compiled graph), never more than the limit.
func TestEvalChunk(t *testing.T) {
	for _, c := range []struct{ n, most, want int }{
		{10000, 218, 200}, {10000, 8192, 5000}, {256, 1024, 256}, {7, 3, 3}, {12, 5, 4}, {1, 1, 1},
	} {
		if got := evalChunk(c.n, c.most); got != c.want {
			t.Errorf("evalChunk(%d, %d) = %d, want %d", c.n, c.most, got, c.want)
		}
	}
}
