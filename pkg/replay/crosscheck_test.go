package replay

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/problem/problemtest"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// The pure-Go backend and XLA's CPU plugin compute the same update maps: 300 SGD maps of a 784-64-10 classifier
// at batch 8 end at the same θ up to rounding. Each map rounds differently on the two (other kernels, other
// summation orders, no FMA on XLA), by about float32's ε = 6e-8 relative per operation; over 300 maps at this
// learning rate the difference measured 4.5e-8, 3.4e-7 of θ's scale 0.131 (float64: 9.7e-17, 7.4e-16), so 1e-5
// (1e-13) of the scale leaves a margin of 30 (100) while a wrong gradient or a skipped map moves θ by 1e-3 or
// more (the maps move it by 0.175 in all).
func TestXLAAgreesWithPureGo(t *testing.T) {
	xla := backendtest.XLACPU(t, 1)
	p := problemtest.ImageLike(3000, 64, 7)
	theta0 := p.Model.Init(rng.New(2))
	src := rng.New(3)
	const maps, batch = 300, 8
	batches := make([][]int32, maps)
	for s := range batches {
		for range batch {
			batches[s] = append(batches[s], int32(src.IntN(p.Train.Len())))
		}
	}
	for _, c := range []struct {
		dt  dtypes.DType
		tol float64
	}{{dtypes.Float32, 1e-5}, {dtypes.Float64, 1e-13}} {
		final := func(e *Engine) []float64 {
			g, err := e.NewGroup([][]float64{theta0})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			for _, bs := range batches {
				if err := g.Step(bs, []bool{true}); err != nil {
					t.Fatal(err)
				}
			}
			th, err := g.Thetas()
			if err != nil {
				t.Fatal(err)
			}
			return th[0]
		}
		var thetas [2][]float64
		for i, b := range []compute.Backend{backendtest.Go(t), xla} {
			e, err := New(b, p, update.SGD{LearningRate: 0.05}, c.dt)
			if err != nil {
				t.Fatal(err)
			}
			thetas[i] = final(e)
		}
		diff, scale, moved := 0.0, 0.0, 0.0
		for k := range thetas[0] {
			diff = max(diff, math.Abs(thetas[0][k]-thetas[1][k]))
			scale = max(scale, math.Abs(thetas[0][k]))
			moved = max(moved, math.Abs(thetas[0][k]-theta0[k]))
		}
		t.Logf("%s: after %d maps, max |θ_go − θ_xla| = %.3g, max |θ| = %.3g, max |θ − θ_0| = %.3g", c.dt, maps, diff, scale, moved)
		if diff > c.tol*scale {
			t.Errorf("%s: the backends' θ differ by %.3g, more than %g of θ's scale %.3g", c.dt, diff, c.tol, scale)
		}
	}
}
