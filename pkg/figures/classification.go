package figures

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/schedule"
	"github.com/revsgd/revsgd/pkg/update"
)

// Classification is a figure of the paper's image-classification experiments: forward against backward SGD at
// batch size 8, per seed (not averaged), with training loss, test loss and test accuracy. One type serves
// fashion-mlp, cifar10-resnet18, cifar10-vgg and cifar100-resnet; they differ in the fields below.
type Classification struct {
	Scale Scale
	// Name is the catalogue id; Paper says where the figure is in the paper.
	Name, Paper string
	// Dataset is data.FashionMNIST, data.CIFAR10 or data.CIFAR100 (fine labels).
	Dataset string
	// Model is the network.
	Model models.Model
	// H is the learning rate; Batch the batch size; Steps the number N of steps; Every the evaluation interval.
	H                   float64
	Batch, Steps, Every int
	// Seeds is the number of seeds.
	Seeds int
	// Orders are the composition orders compared; nil means forward and backward.
	Orders []order.Order
	// Rule is the optimizer step; nil means SGD with learning rate H.
	Rule update.Rule
	// Marks are steps drawn as vertical lines (resets, a switch).
	Marks []int
	// EvalLimit is the number of examples of each data set the metrics are computed on (0: all).
	EvalLimit int
	// StandIn, at quick scale, is the number of training and test images of generated stand-in data used when
	// the real CIFAR data is absent.
	StandIn [2]int
}

func fashionMLPSettings(s Scale) *Classification {
	c := &Classification{Scale: s, Name: "fashion-mlp", Paper: "FashionMNIST experiments (summary)", Dataset: data.FashionMNIST,
		Model: models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation},
		H:     0.025, Batch: 8, Steps: 2000, Every: 20, Seeds: 5, EvalLimit: 10000}
	if s == Quick {
		c.Steps, c.EvalLimit = 200, 1000
	}
	return c
}

func cifarSettings(s Scale, name, paper, dataset string, model models.Model, quickWidth float64) *Classification {
	c := &Classification{Scale: s, Name: name, Paper: paper, Dataset: dataset, Model: model,
		H: 0.025, Batch: 8, Steps: 2000, Every: 20, Seeds: 5, EvalLimit: 10000}
	if s == Quick {
		c.Steps, c.Every, c.EvalLimit, c.StandIn = 30, 10, 256, [2]int{512, 256}
		switch m := model.(type) {
		case models.ResNet:
			m.Width = quickWidth
			c.Model = m
		case models.VGG:
			m.Width = quickWidth
			c.Model = m
		}
	}
	return c
}

func cifar10ResNetSettings(s Scale) *Classification {
	return cifarSettings(s, "cifar10-resnet18", "Fig. 2", data.CIFAR10,
		models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1}, 1.0/16)
}

func cifar10VGGSettings(s Scale) *Classification {
	return cifarSettings(s, "cifar10-vgg", "VGG experiments (summary)", data.CIFAR10,
		models.VGG{Depth: 11, Channels: 3, Classes: 10, Width: 1}, 1.0/8)
}

func cifar100ResNetSettings(s Scale) *Classification {
	return cifarSettings(s, "cifar100-resnet", "CIFAR-100 experiments (v1: ResNet-18, v2: ResNet-50)", data.CIFAR100,
		models.ResNet{Depth: 18, Channels: 3, Classes: 100, Width: 1}, 1.0/16)
}

// ID implements Figure.
func (c *Classification) ID() string { return c.Name }

// Settings implements Figure.
func (c *Classification) Settings() string {
	evals := "all examples"
	if c.EvalLimit > 0 {
		evals = fmt.Sprintf("the first %d examples of the training and the test set", c.EvalLimit)
	}
	text := fmt.Sprintf(`**%s** (%s) at scale %q: %s, model %s (%d parameters), softmax cross-entropy, no regularisation, no
augmentation. Orders %s; %s, batch size %d (shuffled epochs), N = %d steps, %d seeds, metrics every %d steps on %s,
float32.`, c.Name, c.Paper, c.Scale, c.Dataset, c.Model.Name(), models.NumParams(c.Model), strings.Join(orderNames(c.orders()), ", "),
		describeRule(c.rule()), c.Batch, c.Steps, c.Seeds, c.Every, evals)
	if _, ok := c.Model.(models.Calibrated); ok {
		text += fmt.Sprintf(` Batch normalisation uses batch statistics in every update map; metrics use statistics
recomputed at θ on the first %d training examples.`, models.CalibrationExamples)
	}
	if c.StandIn[0] > 0 {
		text += fmt.Sprintf(` Without the real %s in the data directory, this scale runs on generated stand-in data in
its binary format (%d training, %d test images).`, c.Dataset, c.StandIn[0], c.StandIn[1])
	}
	return text
}

func (c *Classification) orders() []order.Order {
	if c.Orders == nil {
		return []order.Order{order.Forward{}, order.Backward{}}
	}
	return c.Orders
}

func (c *Classification) rule() update.Rule {
	if c.Rule == nil {
		return update.SGD{LearningRate: c.H}
	}
	return c.Rule
}

func orderNames(os []order.Order) []string {
	names := make([]string, len(os))
	for i, o := range os {
		names[i] = o.Name()
	}
	return names
}

// describeRule says which optimizer runs, e.g. "SGD with constant learning rate h = 0.025".
func describeRule(r update.Rule) string {
	switch v := r.(type) {
	case update.SGD:
		return fmt.Sprintf("SGD with constant learning rate h = %g", v.LearningRate)
	case update.AdamW:
		return fmt.Sprintf("AdamW (lr %g, β = (%g, %g), ε = %g, weight decay %g; every replay starts with fresh "+
			"optimizer state)", v.LearningRate, v.Beta1, v.Beta2, v.Epsilon, v.WeightDecay)
	}
	return fmt.Sprintf("%s %v", r.Name(), r.Hyper())
}

// load returns the data, and a notice when it is generated stand-in data.
func (c *Classification) load() (train, test *data.Dataset, notice string, err error) {
	switch c.Dataset {
	case data.FashionMNIST:
		if train, err = data.LoadFashionMNIST("train"); err == nil {
			test, err = data.LoadFashionMNIST("test")
		}
		return train, test, "", err
	case data.CIFAR10, data.CIFAR100:
		dir := data.CIFARDir(c.Dataset)
		if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) && c.StandIn[0] > 0 {
			dir = filepath.Join(data.Dir(), "stand-in", c.Dataset)
			if err := data.WriteCIFARStandIn(c.Dataset, dir, c.StandIn[0], c.StandIn[1], 2025); err != nil {
				return nil, nil, "", err
			}
			notice = fmt.Sprintf("**Stand-in data.** %s was not found in %s, so this run used generated stand-in "+
				"data in the %s binary format (%d training, %d test images; `data.WriteCIFARStandIn`), not the "+
				"real images. Fetch the real data with `%s`.", c.Dataset, data.CIFARDir(c.Dataset), c.Dataset,
				c.StandIn[0], c.StandIn[1], data.FetchCommand(c.Dataset))
		}
		if train, err = data.LoadCIFAR(c.Dataset, dir, "train", false); err == nil {
			test, err = data.LoadCIFAR(c.Dataset, dir, "test", false)
		}
		return train, test, notice, err
	}
	return nil, nil, "", fmt.Errorf("figures: unknown data set %q", c.Dataset)
}

// Run implements Figure.
func (c *Classification) Run(ctx context.Context, env Env) (*Outcome, error) {
	panels, summary, err := c.run(ctx, env)
	if err != nil {
		return nil, err
	}
	return &Outcome{Figure: plot.NewFigure(2, panels.trainLoss, panels.testLoss, panels.testAcc, panels.change),
		Summary: summary}, nil
}

// run runs the experiment and draws its panels.
func (c *Classification) run(ctx context.Context, env Env) (*classification, string, error) {
	train, test, notice, err := c.load()
	if err != nil {
		return nil, "", err
	}
	if notice != "" {
		fmt.Println(strings.ReplaceAll(notice, "**", ""))
	}
	p := &problem.Problem{Name: c.Dataset, Model: c.Model, Loss: problem.CrossEntropy{}, Train: train, Test: test}
	spec := &experiment.Spec{
		Problem: p, Rule: c.rule(), Orders: c.orders(),
		Seeds: experiment.SeedRange(c.Seeds), Steps: c.Steps, BatchSize: c.Batch, Sampling: data.Shuffled,
		Schedule: schedule.Every(c.Every), DType: dtypes.Float32, Metrics: true, EvalLimit: c.EvalLimit,
	}
	res, err := experiment.Run(ctx, env.Backend, env.spec(spec, c.Scale))
	if err != nil {
		return nil, "", err
	}
	panels, summary, err := classificationPanels(res, c.Marks)
	if err != nil {
		return nil, "", err
	}
	if notice != "" {
		summary = notice + "\n\n" + summary
	}
	return panels, summary, nil
}

// classification holds the panels of a classification figure.
type classification struct {
	trainLoss, testLoss, testAcc, change *plot.Panel
}

// classificationPanels draws per-seed training loss, test loss and test accuracy, order against order, how much
// the test loss still moves between evaluations, and vertical lines at the marked steps; the summary gives the
// final values.
func classificationPanels(res *experiment.Result, marks []int) (*classification, string, error) {
	trainLoss := plot.NewPanel("training loss, per seed", "step", "loss").LogY()
	testLoss := plot.NewPanel("test loss, per seed", "step", "loss").LogY()
	testAcc := plot.NewPanel("test accuracy, per seed", "step", "accuracy").LegendBottom()
	change := plot.NewPanel("change of the test loss between evaluations, mean over seeds", "step", "|ΔL|").LogY()
	var summary strings.Builder
	summary.WriteString("| order | final training loss | final test loss | final test accuracy | mean |ΔL| of the test loss over the second half |\n|---|---|---|---|---|\n")
	for _, o := range res.Spec.Orders {
		name := o.Name()
		curves := res.Order(name)
		var trains, tests, accs [][]float64
		for _, cv := range curves {
			x := stepsOf(cv)
			for _, l := range []struct {
				p *plot.Panel
				y []float64
			}{{trainLoss, cv.TrainLoss}, {testLoss, cv.TestLoss}, {testAcc, cv.TestAccuracy}} {
				if err := l.p.Line(name, x, l.y, 0.8); err != nil {
					return nil, "", err
				}
			}
			trains, tests, accs = append(trains, cv.TrainLoss), append(tests, cv.TestLoss), append(accs, cv.TestAccuracy)
		}
		x := stepsOf(curves[0])
		changes := meanAbsChange(tests)
		if err := change.Line(name, x[1:], changes, 1.5); err != nil {
			return nil, "", err
		}
		cell := func(runs [][]float64) string {
			m, s, _ := analysis.MeanStd(runs)
			return fmt.Sprintf("%.4f ± %.4f", m[len(m)-1], s[len(s)-1])
		}
		fmt.Fprintf(&summary, "| %s | %s | %s | %s | %.4f |\n", name, cell(trains), cell(tests), cell(accs),
			secondHalfMean(changes))
	}
	for _, p := range []*plot.Panel{trainLoss, testLoss, testAcc, change} {
		for _, m := range marks {
			p.VLine(float64(m))
		}
	}
	return &classification{trainLoss, testLoss, testAcc, change}, summary.String(), nil
}
