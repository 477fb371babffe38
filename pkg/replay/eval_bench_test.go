package replay

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// BenchmarkConvNetEvaluate times the metrics of one replica on 1 000 stand-in CIFAR images (what the quick convnet
// figures evaluate at each evaluated step, twice: training and test data) at the quick figures' widths, with
// evalBudget's bound on the forward values of a call on a CPU and without it (as before that bound: calls of
// 500 examples for these inputs), and for the convnets on the automatic path (on XLA's CPU plugin their metrics
// then go through native convolutions, metricsModel) and on patches.
func BenchmarkConvNetEvaluate(b *testing.B) {
	train := cifarStandIn(b, 1000)
	resnet := models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1.0 / 16}
	vgg := models.VGG{Depth: 11, Channels: 3, Classes: 10, Width: 1.0 / 8}
	for _, m := range []models.Model{resnet, resnet.WithPath(models.PatchPath), vgg, vgg.WithPath(models.PatchPath),
		models.MLP{Widths: []int{3072, 256, 256, 10}, Activation: models.ReLUActivation}} {
		for _, bound := range []int64{cpuEvalValues, 1 << 62} {
			name := fmt.Sprintf("values=2^%d", log2(bound))
			if bound == 1<<62 {
				name = "values=unbounded"
			}
			if c, ok := m.(models.Convolutional); ok {
				name = c.ConvolutionPath().String() + "/" + name
			}
			b.Run(m.Name()+"/"+name, func(b *testing.B) {
				defer func(old int64) { cpuEvalValues = old }(cpuEvalValues)
				cpuEvalValues = bound
				p := &problem.Problem{Name: "cifar10-stand-in", Model: m, Loss: problem.CrossEntropy{}, Train: train}
				e, err := New(backendtest.Default(b), p, update.SGD{LearningRate: 0.025}, dtypes.Float32)
				if err != nil {
					b.Fatal(err)
				}
				g, err := e.NewGroup([][]float64{m.Init(rng.New(1))})
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close()
				if _, err := g.Evaluate(TrainData, 1000); err != nil { // compile outside the timing
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if _, err := g.Evaluate(TrainData, 1000); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func log2(n int64) int {
	k := 0
	for n > 1 {
		n, k = n/2, k+1
	}
	return k
}

// On a CPU an evaluation call of a convnet holds few examples (its forward values per example outnumber its
// inputs by hundreds: about 25 a call through patch matrices, on the pure-Go backend, about 90 through native
// convolutions, on XLA's), one of an MLP as many as its inputs allow; either way each call's values stay within
// the bound.
func TestEvalCallsAreSizedByForwardValues(t *testing.T) {
	b := backendtest.Default(t)
	train := cifarStandIn(t, 64)
	for _, c := range []struct {
		m           models.Model
		most, least int
	}{
		{models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1.0 / 16}, 128, 8},
		{models.MLP{Widths: []int{3072, 256, 256, 10}, Activation: models.ReLUActivation}, 1024, 682},
	} {
		e, err := New(b, &problem.Problem{Name: "cifar", Model: c.m, Loss: problem.CrossEntropy{}, Train: train},
			update.SGD{LearningRate: 0.025}, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		scalars, examples, evaluations, err := e.evalBudget()
		if err != nil {
			t.Fatal(err)
		}
		chunk := min(examples, scalars/3072)
		if chunk > c.most || chunk < c.least {
			t.Errorf("%s: calls of %d examples, want %d to %d", c.m.Name(), chunk, c.least, c.most)
		}
		if int64(evaluations)*e.forwardScalars > cpuEvalValues {
			t.Errorf("%s: %d evaluations of %d forward values each exceed the bound %d", c.m.Name(), evaluations,
				e.forwardScalars, cpuEvalValues)
		}
	}
}

// On XLA's CPU plugin a convnet on the automatic path computes its metrics through native convolutions
// (metricsModel); they must equal those of the patch path to float32 rounding: the losses and accuracies of
// three replicas on 64 stand-in images, within 1e-5 relative (a mean of 64 float32 losses, each through 18
// layers, summed in another order by another kernel). On the pure-Go backend both engines take patches.
func TestMetricsPathGivesThePatchPathsMetrics(t *testing.T) {
	b := backendtest.Default(t)
	train := cifarStandIn(t, 64)
	auto := models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1.0 / 16}
	patches := auto
	patches.Path = models.PatchPath
	starts := [][]float64{auto.Init(rng.New(1)), auto.Init(rng.New(2)), auto.Init(rng.New(3))}
	var evals [2]Evaluation
	for k, m := range []models.Model{auto, patches} {
		e, err := New(b, &problem.Problem{Name: "cifar", Model: m, Loss: problem.CrossEntropy{}, Train: train},
			update.SGD{LearningRate: 0.025}, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		want := m.(models.Convolutional).ConvolutionPath()
		if k == 0 && backend.OnCPU(b) && !backend.IsGo(b) {
			want = models.GroupedPath
		}
		if got := e.metrics.(models.Convolutional).ConvolutionPath(); got != want {
			t.Fatalf("%s on %s: metrics through %s, want %s", m.Name(), b.Name(), got, want)
		}
		g, err := e.NewGroup(starts)
		if err != nil {
			t.Fatal(err)
		}
		if evals[k], err = g.Evaluate(TrainData, 0); err != nil {
			t.Fatal(err)
		}
		g.Close()
	}
	for r := range starts {
		for _, c := range []struct {
			name string
			a, b float64
		}{{"loss", evals[0].Loss[r], evals[1].Loss[r]}, {"accuracy", evals[0].Accuracy[r], evals[1].Accuracy[r]}} {
			if math.Abs(c.a-c.b) > 1e-5*math.Abs(c.b) {
				t.Errorf("replica %d: %s %.9g on the metrics path, %.9g on patches", r, c.name, c.a, c.b)
			}
		}
	}
}
