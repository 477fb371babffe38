package replay

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// benchEngine is the regression-mlp figure's problem (MLP 8-32-32-1, batch 1, float32, h = 0.05).
func benchEngine(b *testing.B) (*Engine, []float64, *data.History) {
	p, err := problem.Regression{
		Data:   data.TeacherRegression{Dim: 8, Hidden: 16, Noise: 0.1, Train: 256, Test: 1024, Seed: 2025},
		Hidden: []int{32, 32}, Activation: models.TanhActivation,
	}.New()
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(backendtest.Default(b), p, update.SGD{LearningRate: 0.05}, dtypes.Float32)
	if err != nil {
		b.Fatal(err)
	}
	h, err := data.Sampler{Examples: 256, BatchSize: 1, Mode: data.Shuffled}.History(1, 1400)
	if err != nil {
		b.Fatal(err)
	}
	return e, p.Model.Init(rng.New(1)), h
}

// One forward SGD step of the regression MLP: one update map on one replica.
func BenchmarkForwardStep(b *testing.B) {
	e, theta, h := benchEngine(b)
	g, _ := e.NewGroup([][]float64{theta})
	defer g.Close()
	active := []bool{true}
	b.ResetTimer()
	for i := range b.N {
		if err := g.Step(h.Batch(i%1400+1), active); err != nil {
			b.Fatal(err)
		}
	}
}

// One backward evaluation at step n: restart from θ_0 and apply T_n, …, T_1 on one replica.
func BenchmarkBackwardEvaluation(b *testing.B) {
	e, theta, h := benchEngine(b)
	active := []bool{true}
	for _, n := range []int{100, 1400} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for range b.N {
				g, _ := e.NewGroup([][]float64{theta})
				for k := n; k >= 1; k-- {
					if err := g.Step(h.Batch(k), active); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := g.Thetas(); err != nil {
					b.Fatal(err)
				}
				g.Close()
			}
		})
	}
}

// fashionEngine is the fashion-mlp figure's problem: MLP 784-256-256-10 on FashionMNIST (Debian's files),
// batch 8, float32, h = 0.025.
func fashionEngine(b *testing.B) (*Engine, []float64, *data.History) {
	train, err := data.LoadFashionMNIST("train")
	if err != nil {
		b.Fatal(err)
	}
	m := models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation}
	p := &problem.Problem{Name: "fashion", Model: m, Loss: problem.CrossEntropy{}, Train: train}
	e, err := New(backendtest.Default(b), p, update.SGD{LearningRate: 0.025}, dtypes.Float32)
	if err != nil {
		b.Fatal(err)
	}
	h, err := data.Sampler{Examples: train.Len(), BatchSize: 8, Mode: data.Shuffled}.History(1, 1000)
	if err != nil {
		b.Fatal(err)
	}
	return e, m.Init(rng.New(1)), h
}

// One forward SGD step of the FashionMNIST MLP at batch 8 (one replica).
func BenchmarkFashionForwardStep(b *testing.B) {
	e, theta, h := fashionEngine(b)
	g, _ := e.NewGroup([][]float64{theta})
	defer g.Close()
	b.ResetTimer()
	for i := range b.N {
		if err := g.Step(h.Batch(i%1000+1), []bool{true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// One backward evaluation of the FashionMNIST MLP at step n = 100: T_1∘…∘T_100(θ_0) on one replica.
func BenchmarkFashionBackwardEvaluation(b *testing.B) {
	e, theta, h := fashionEngine(b)
	const n = 100
	b.ResetTimer()
	for range b.N {
		g, _ := e.NewGroup([][]float64{theta})
		for k := n; k >= 1; k-- {
			if err := g.Step(h.Batch(k), []bool{true}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := g.Thetas(); err != nil {
			b.Fatal(err)
		}
		g.Close()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "maps/s")
}

// One lockstep step of R replicas of the FashionMNIST MLP (784-256-256-10, batch 8): update maps per second as
// the group grows.
func BenchmarkEngineReplicas(b *testing.B) {
	e, theta, h := fashionEngine(b)
	for _, r := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("R=%d", r), func(b *testing.B) {
			starts := make([][]float64, r)
			for i := range starts {
				starts[i] = theta
			}
			g, err := e.NewGroup(starts)
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			active := make([]bool, r)
			for i := range active {
				active[i] = true
			}
			var batches []int32
			for i := range r {
				batches = append(batches, h.Batch(i%1000+1)...)
			}
			b.ResetTimer()
			for range b.N {
				if err := g.Step(batches, active); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*r)/b.Elapsed().Seconds(), "maps/s")
		})
	}
}

// The machine's memory bandwidth, as the bound on update maps that move their parameters through memory: every
// core copies its share of two 256 MiB float32 arrays (a STREAM-like copy; bytes read plus bytes written per
// second), and the memory-bound limit of the FashionMNIST MLP's update maps is that bandwidth over the fewest
// bytes a map must move — θ read once and written once, 2·4·P bytes for P parameters (its batch's inputs are
// 8·784 floats, 1% of that). A map that stays within the caches beats the limit; the lockstep groups of revsgd
// (R replicas of 1 MiB each) do not fit.
func BenchmarkMemoryBandwidth(b *testing.B) {
	const n = 64 << 20 // float32s: 256 MiB per array
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = float32(i)
	}
	workers := runtime.NumCPU()
	copyAll := func() {
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*n/workers, (w+1)*n/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				copy(dst[lo:hi], src[lo:hi])
			}()
		}
		wg.Wait()
	}
	copyAll() // touch every page first
	b.ResetTimer()
	for range b.N {
		copyAll()
	}
	bytesPerSecond := float64(b.N) * 2 * 4 * n / b.Elapsed().Seconds()
	p := models.NumParams(models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation})
	b.ReportMetric(bytesPerSecond/1e9, "GB/s")
	b.ReportMetric(bytesPerSecond/float64(2*4*p), "mlp-maps/s-bound")
}
