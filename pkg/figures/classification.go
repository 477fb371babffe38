package figures

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
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
	// WarmUp, when positive, is the number of forward SGD maps at learning rate H that make θ_0 (experiment.WarmUp:
	// each seed's own warm-up run, stored like the others); zero starts at the model's initialisation, as the
	// paper does.
	WarmUp int
	// EvalLimit is the number of examples of each data set the metrics are computed on (0: all).
	EvalLimit int
	// StandIn is the number of training and test images of the stand-in used when the real CIFAR data is absent
	// (data.CIFARStandIn: FashionMNIST in the CIFAR layout, else generated images); zero means none, and the
	// missing data is an error.
	StandIn [2]int
}

func fashionMLPSettings(s Scale) *Classification {
	c := &Classification{Scale: s, Name: "fashion-mlp", Paper: "FashionMNIST experiments (summary)", Dataset: data.FashionMNIST,
		Model: models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation},
		H:     0.025, Batch: 8, Steps: 2000, Every: 20, Seeds: 5, EvalLimit: 10000}
	if s == Quick {
		// 600 steps (backward every 30: 31 500 maps, about a minute and a half on two cores): past the early
		// descent, so the late-window change ratios measure settling (at 200 steps the training-loss ratio was
		// 0.83, above 1 for two of five seeds; at 600 all three are below 0.3). The variants (intermittent,
		// late-switch, adamw's MLP) keep 200 steps: enough for their claims (adamw's MLP panel at 600 steps
		// would take about 7 minutes on two cores: 84 update maps/s with its evaluations).
		c.Steps, c.Every, c.EvalLimit = 600, 30, 1000
	}
	return c
}

// fashionVariantSettings are fashion-mlp's settings for the figures of the variants: at quick scale 200 steps.
func fashionVariantSettings(s Scale) *Classification {
	c := fashionMLPSettings(s)
	if s == Quick {
		c.Steps, c.Every = 200, 20
	}
	return c
}

func cifarSettings(s Scale, name, paper, dataset string, model models.Model, quickWidth float64) *Classification {
	// At paper scale the stand-in has CIFAR's sizes (FashionMNIST has 60 000 training and 10 000 test images).
	c := &Classification{Scale: s, Name: name, Paper: paper, Dataset: dataset, Model: model,
		H: 0.025, Batch: 8, Steps: 2000, Every: 20, Seeds: 5, EvalLimit: 10000, StandIn: [2]int{50000, 10000}}
	if s == Quick {
		// From the initialisation, 120 steps (what two cores allowed) left both orders still descending, so the
		// late change measured descent, not settling, and 2 seeds could not decide anything. So at quick scale
		// each seed starts near a minimum: θ_0 is the end of 1 000 forward SGD steps at the paper's h (its own
		// warm-up run, about two epochs of a 4 096-image stand-in; forward's test loss then drifts by less than its
		// fluctuation: on the ResNet, 0.55 → 0.50 over the next 500 steps against ±0.03 between evaluations).
		// Then 200 steps, evaluated every 20 on 1 000 examples of each set, 5 seeds. On two cores with XLA a
		// ResNet-18 at width 1/16 takes about six minutes (one for the warm-ups, the rest mostly the evaluations).
		c.Steps, c.Every, c.Seeds, c.EvalLimit, c.StandIn, c.WarmUp = 200, 20, 5, 1000, [2]int{4096, 1000}, 1000
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
	c := cifarSettings(s, "cifar100-resnet", "CIFAR-100 experiments (v1: ResNet-18, v2: ResNet-50)", data.CIFAR100,
		models.ResNet{Depth: 18, Channels: 3, Classes: 100, Width: 1}, 1.0/16)
	if s == Quick {
		// 100 classes of about 41 stand-in images each take longer to reach forward's noise floor: after 1 000
		// warm-up steps (test loss 2.4, accuracy 0.26) 64% of forward's late change was still trend and every
		// claim was inconclusive; after 3 000 (test loss 1.3, accuracy 0.52) 19%, about what pure fluctuation
		// gives over five changes. Three more minutes on two cores.
		c.WarmUp = 3000
	}
	return c
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
	if c.WarmUp > 0 {
		text += fmt.Sprintf(` **Warm start**: θ_0 of each seed is not the initialisation but the end of %d forward SGD
steps at h = %g from it (on batches of the seed's own warm-up stream), so that the runs start near a minimum,
where the paper's contraction argument applies; step 0 of the curves is the end of the warm-up.`, c.WarmUp, c.H)
	}
	if _, ok := c.Model.(models.Calibrated); ok {
		text += fmt.Sprintf(` Batch normalisation uses batch statistics in every update map; metrics use statistics
recomputed at θ on the first %d training examples.`, models.CalibrationExamples)
	}
	if c.StandIn[0] > 0 {
		text += fmt.Sprintf(` Without the real %s in the data directory, this scale runs on a stand-in in its binary
format, %d training and %d test images, and says so: %s (the first images of each FashionMNIST split), or,
without FashionMNIST too, %s.`, c.Dataset, c.StandIn[0], c.StandIn[1], data.FashionStandIn.Describe(c.Dataset),
			data.GeneratedStandIn.Describe(c.Dataset))
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

// load returns the data, and when it is a stand-in a notice (Markdown) and a figure title that say so.
func (c *Classification) load() (train, test *data.Dataset, notice, title string, err error) {
	dir, notice, title, err := c.source()
	if err != nil {
		return nil, nil, "", "", err
	}
	if c.Dataset == data.FashionMNIST {
		if train, err = data.LoadFashionMNIST("train"); err == nil {
			test, err = data.LoadFashionMNIST("test")
		}
		return train, test, "", "", err
	}
	if train, err = data.LoadCIFAR(c.Dataset, dir, "train", false); err == nil {
		test, err = data.LoadCIFAR(c.Dataset, dir, "test", false)
	}
	return train, test, notice, title, err
}

// source returns where the CIFAR data is read from ("" for FashionMNIST) and, when it is a stand-in (made there
// if missing) or unchecked, a notice (Markdown) and a figure title that say so.
func (c *Classification) source() (dir, notice, title string, err error) {
	switch c.Dataset {
	case data.FashionMNIST:
		return "", "", "", nil
	case data.CIFAR10, data.CIFAR100:
		dir := data.CIFARDir(c.Dataset)
		if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) && c.StandIn[0] > 0 {
			var kind data.StandInKind
			if dir, kind, err = data.CIFARStandIn(c.Dataset, c.StandIn[0], c.StandIn[1]); err != nil {
				return "", "", "", err
			}
			notice, title = c.standInNotice(kind, dir)
		} else if origin := data.CIFARStandInOrigin(dir); statErr == nil && origin != "" {
			return "", "", "", fmt.Errorf("figures: %s holds a stand-in (%s), not %s: its manifest says the "+
				"stand-in writer made it, not `%s`; its numbers would be published as %s's. Delete %s and fetch the "+
				"data (`%s`), or just delete it to run on a stand-in that the figure names as one", dir, origin,
				c.Dataset, data.FetchCommand(c.Dataset), c.Dataset, dir, data.FetchCommand(c.Dataset))
		} else if statErr == nil && !data.CIFARChecked(dir) {
			notice = fmt.Sprintf("**Unchecked data.** %s has no manifest from `revsgd fetch`, so its files could "+
				"not be checked against the download's MD5: they have %s's number of records and are used as they "+
				"are. Fetch the data with `%s` to have them checked.", dir, c.Dataset, data.FetchCommand(c.Dataset))
			title = c.Name + " (unchecked data)"
		}
		return dir, notice, title, nil
	}
	return "", "", "", fmt.Errorf("figures: unknown data set %q", c.Dataset)
}

// standInNotice says, in Markdown, which stand-in a run used instead of the missing CIFAR data, and gives the
// figure's title.
func (c *Classification) standInNotice(kind data.StandInKind, dir string) (notice, title string) {
	what := kind.Describe(c.Dataset)
	var how string
	switch {
	case kind == data.FashionStandIn && c.Dataset == data.CIFAR100:
		how = "It holds FashionMNIST's first %d training and %d test images, each 28×28 garment centred in 32×32 " +
			"and drawn in one of 10 colours, tint i mod 10 for the i-th image of a split; fine label 10·garment + " +
			"tint, coarse label fine/5 (`data.WriteFashionCIFARStandIn`)."
	case kind == data.FashionStandIn:
		how = "It holds FashionMNIST's first %d training and %d test images, each 28×28 garment centred in 32×32 " +
			"and copied into the red, green and blue planes, labelled by garment (`data.WriteFashionCIFARStandIn`)."
	default:
		how = "FashionMNIST was not found either, so its %d training and %d test images are generated: each class " +
			"has one random colour and stripe orientation, plus noise (`data.WriteCIFARStandIn`)."
	}
	notice = fmt.Sprintf("**Stand-in data.** %s was not found in %s, so this run used a stand-in in its binary "+
		"format: %s. %s The files are in %s. These are not CIFAR images, so the numbers are not the paper's; "+
		"fetch the real data with `%s`.", c.Dataset, data.CIFARDir(c.Dataset), what,
		fmt.Sprintf(how, c.StandIn[0], c.StandIn[1]), dir, data.FetchCommand(c.Dataset))
	return notice, fmt.Sprintf("%s on stand-in data: %s", c.Name, what)
}

// Experiments implements Recipe: one experiment, c.Orders under c.Rule on the data (a stand-in where CIFAR is
// missing, said on stdout).
func (c *Classification) Experiments() ([]Experiment, error) {
	spec, err := c.experiment()
	return one(c.Name+": "+strings.Join(orderNames(c.orders()), " against "), spec, err)
}

// experiment returns the figure's one experiment.
func (c *Classification) experiment() (*experiment.Spec, error) {
	train, test, notice, _, err := c.load()
	if err != nil {
		return nil, err
	}
	if notice != "" {
		fmt.Println(strings.ReplaceAll(notice, "**", ""))
	}
	p := &problem.Problem{Name: c.Dataset, Model: c.Model, Loss: problem.CrossEntropy{}, Train: train, Test: test}
	spec := &experiment.Spec{
		Problem: p, Arms: experiment.Orders(c.rule(), c.orders()...),
		Seeds: experiment.SeedRange(c.Seeds), Steps: c.Steps, BatchSize: c.Batch, Sampling: data.Shuffled,
		Evaluated: evaluation.Every(c.Every), DType: dtypes.Float32, Metrics: true, EvalLimit: c.EvalLimit,
	}
	if c.WarmUp > 0 {
		spec.WarmUp = &experiment.WarmUp{Rule: update.SGD{LearningRate: c.H}, Steps: c.WarmUp}
	}
	return spec, nil
}

// Draw implements Recipe: per-seed training loss, test loss and test accuracy, and how much the test loss still
// moves (the claim's panel, with its verdict).
func (c *Classification) Draw(results []*experiment.Result) (*Outcome, error) {
	panels, summary, err := c.draw(results[0])
	if err != nil {
		return nil, err
	}
	fig := plot.NewFigure(2, panels.trainLoss, panels.testLoss, panels.testAcc, panels.change)
	fig.Title = panels.title
	return &Outcome{Figure: fig, Summary: summary, Claims: panels.claims}, nil
}

// Run implements Figure.
func (c *Classification) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, c)
}

// draw draws the panels of a result and measures its claims.
func (c *Classification) draw(res *experiment.Result) (*classification, string, error) {
	_, notice, title, err := c.source()
	if err != nil {
		return nil, "", err
	}
	if diverged := divergenceNote(res); diverged != "" {
		notice = strings.TrimSpace(diverged + "\n\n" + notice)
	}
	panels, summary, err := classificationPanels(res, c.Marks)
	if err != nil {
		return nil, "", err
	}
	panels.claims = c.claims(res)
	for _, cl := range panels.claims {
		if strings.HasSuffix(cl.ID, "/test-loss-change-ratio") {
			note := fmt.Sprintf("late mean change, %s ÷ forward: %.2f, %s", strings.TrimSuffix(cl.ID,
				"/test-loss-change-ratio"), cl.Value, cl.verdictText())
			if brief := c.briefWhy(res); brief != "" && cl.Verdict() != Holds {
				note += " — " + brief
			}
			panels.change.Note(note)
		}
	}
	summary += "\n" + ClaimsTable(panels.claims)
	if len(res.WarmUp) > 0 {
		loss, acc := testLossMetric.series(res.WarmUp), testAccMetric.series(res.WarmUp)
		summary = fmt.Sprintf("**Warm start.** Each seed's runs start where its warm-up (%d forward SGD steps at h = %g) "+
			"ends: test loss %.4f ± %.4f, test accuracy %.4f ± %.4f over the seeds.\n\n", c.WarmUp, c.H,
			analysis.Mean(analysis.Lasts(loss)), analysis.LastSpread(loss), analysis.Mean(analysis.Lasts(acc)),
			analysis.LastSpread(acc)) + summary
	}
	if notice != "" {
		summary = notice + "\n\n" + summary
	}
	panels.title = title
	return panels, summary, nil
}

// classes returns the number of classes a classifier tells apart (its output width), or 0 for other models.
func classes(m models.Model) int {
	switch v := m.(type) {
	case models.ResNet:
		return v.Classes
	case models.VGG:
		return v.Classes
	case models.MLP:
		return v.Widths[len(v.Widths)-1]
	}
	return 0
}

// notLearning says, when forward's test loss at N is still near ln K — the loss of a uniform guess among K
// classes — that the network has not yet learned much, so no claim about settling can show; "" otherwise.
func notLearning(res *experiment.Result, k int) string {
	if k < 2 {
		return ""
	}
	last := analysis.Mean(analysis.Lasts(testLossMetric.series(res.Arm("forward"))))
	if chance := math.Log(float64(k)); last > 0.8*chance {
		return fmt.Sprintf("forward's test loss at N is %.3g, near ln %d = %.3g (a uniform guess): the network has "+
			"not yet learned much", last, k, chance)
	}
	return ""
}

// briefWhy is the measured reason, in a few words for a panel's note, that the curves cannot show settling yet:
// forward's test loss near chance, or a late change that is mostly trend; "" when neither.
func (c *Classification) briefWhy(res *experiment.Result) string {
	fwd := testLossMetric.series(res.Arm("forward"))
	if k := classes(c.Model); notLearning(res, k) != "" {
		return fmt.Sprintf("forward's test loss %.3g ≈ ln %d: not yet learning", analysis.Mean(analysis.Lasts(fwd)), k)
	}
	if trend := meanTrendShare(fwd, analysis.LateWindow(c.Steps, c.Marks)); trend > 0.5 {
		return fmt.Sprintf("still descending: %.0f%% of forward's late change is trend", 100*trend)
	}
	return ""
}

// markLabel names the marks of an experiment's orders in a legend: the resets of an intermittent order, the
// switch of a late-switch one.
func markLabel(spec *experiment.Spec) string {
	for _, a := range spec.Arms {
		switch a.Order.(type) {
		case order.Intermittent, *order.Intermittent:
			return "reset"
		case order.Switch, *order.Switch:
			return "switch to backward"
		}
	}
	return "mark"
}

// classification holds the panels of a classification figure, and its title ("" unless the data is a
// stand-in, which the title names).
type classification struct {
	trainLoss, testLoss, testAcc, change *plot.Panel
	title                                string
	claims                               []Claim
}

// claims measures the figure's claim: late in the run every other order's curves move less than forward's
// (training loss, test loss, test accuracy); with resets, the test loss also settles within each window.
func (c *Classification) claims(res *experiment.Result) []Claim {
	claims := changeClaims(res, analysis.LateWindow(c.Steps, c.Marks), trainLossMetric, testLossMetric, testAccMetric)
	if why := notLearning(res, classes(c.Model)); why != "" {
		for i := range claims {
			if claims[i].predicted() && claims[i].Verdict() != Holds {
				claims[i].Why = strings.TrimPrefix(claims[i].Why+"; "+why, "; ")
			}
		}
	}
	if len(c.Marks) < 2 {
		return claims
	}
	fr, fSeeds := analysis.WindowDecline(testLossMetric.series(res.Arm("forward")), c.Steps, c.Marks)
	for _, a := range res.Spec.Arms {
		name := a.Label()
		if name == "forward" {
			continue
		}
		r, seeds := analysis.WindowDecline(testLossMetric.series(res.Arm(name)), c.Steps, c.Marks)
		per := make([]float64, len(seeds))
		for i := range seeds {
			per[i] = seeds[i] / fSeeds[i]
		}
		claims = append(claims,
			reported(name+"/window-decline", fmt.Sprintf("mean change of the test loss in the second half of each "+
				"window between resets ÷ in its first half, %s", name), r).perSeed(seeds),
			reported("forward/window-decline", "the same for forward (no resets; the same windows)", fr).perSeed(fSeeds),
			below(name+"/window-decline-ratio", fmt.Sprintf("within-window decline, %s ÷ forward", name), r/fr, 1).perSeed(per))
	}
	return claims
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
	for _, a := range res.Spec.Arms {
		name := a.Label()
		curves := res.Arm(name)
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
	at := make([]float64, len(marks))
	for i, m := range marks {
		at[i] = float64(m)
	}
	for _, p := range []*plot.Panel{trainLoss, testLoss, testAcc, change} {
		p.Marks(markLabel(res.Spec), at...)
	}
	return &classification{trainLoss: trainLoss, testLoss: testLoss, testAcc: testAcc, change: change},
		summary.String(), nil
}
