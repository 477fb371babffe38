package replay

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// One lockstep SGD step (batch 8, float32) of R replicas of the CIFAR convnets on stand-in CIFAR-10 images, on
// the backend GOMLX_BACKEND selects (the pure-Go one when unset), by convolution path: update maps per second,
// compilation excluded. R = 1 and 8, and on an accelerator also 32 and 64, and ResNet-50. Select with
// -bench 'ConvNetStep/resnet18-w0.0625' etc.
func BenchmarkConvNetStep(b *testing.B) {
	train := cifarStandIn(b, 256)
	var nets []models.Model
	for _, w := range []float64{1.0 / 16, 1.0 / 4, 1} {
		nets = append(nets, models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: w},
			models.VGG{Depth: 11, Channels: 3, Classes: 10, Width: w})
	}
	sizes := []int{1, 8}
	if be := backendtest.Default(b); !backend.OnCPU(be) {
		sizes = append(sizes, 32, 64)
		nets = append(nets, models.ResNet{Depth: 50, Channels: 3, Classes: 10, Width: 1})
	}
	for _, m := range nets {
		for _, path := range []models.ConvolutionPath{models.PatchPath, models.GroupedPath} {
			for _, r := range sizes {
				b.Run(fmt.Sprintf("%s/%s/R=%d", m.Name(), path, r), func(b *testing.B) {
					switch v := m.(type) {
					case models.ResNet:
						v.Path = path
						m = v
					case models.VGG:
						v.Path = path
						m = v
					}
					p := &problem.Problem{Name: "cifar10-stand-in", Model: m, Loss: problem.CrossEntropy{}, Train: train}
					e, err := New(backendtest.Default(b), p, update.SGD{LearningRate: 0.025}, dtypes.Float32)
					if err != nil {
						b.Fatal(err)
					}
					src := rng.New(1)
					starts := make([][]float64, r)
					for i := range starts {
						starts[i] = m.Init(src)
					}
					g, err := e.NewGroup(starts)
					if err != nil {
						b.Fatal(err)
					}
					defer g.Close()
					active := make([]bool, r)
					batches := make([]int32, 8*r)
					for i := range active {
						active[i] = true
					}
					for i := range batches {
						batches[i] = int32(i % 256)
					}
					if err := g.Step(batches, active); err != nil { // compile outside the timing
						b.Fatal(err)
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
	}
}

// cifarStandIn returns n generated stand-in CIFAR-10 training images (data.WriteCIFARStandIn).
func cifarStandIn(tb testing.TB, n int) *data.Dataset {
	tb.Helper()
	dir := tb.TempDir()
	if err := data.WriteCIFARStandIn(data.CIFAR10, dir, n, 8, 1); err != nil {
		tb.Fatal(err)
	}
	train, err := data.LoadCIFAR(data.CIFAR10, dir, "train", false)
	if err != nil {
		tb.Fatal(err)
	}
	return train
}
