package figures

import (
	"context"
	"fmt"
	"math"
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

// Regression is the regression-mlp figure (the paper's first experiment): a small MLP fitted by SGD at batch
// size one to a synthetic regression problem (data.TeacherRegression), forward against backward, per seed.
type Regression struct {
	Scale Scale
	// Problem is the data generator and the student network.
	Problem problem.Regression
	// H is the learning rate.
	H float64
	// Steps is the number of steps N; Every is the evaluation interval.
	Steps, Every int
	// Seeds is the number of seeds.
	Seeds int
}

func regressionSettings(s Scale) *Regression {
	r := &Regression{
		Scale: s,
		Problem: problem.Regression{
			Data:   data.TeacherRegression{Dim: 8, Hidden: 16, Noise: 0.1, Train: 256, Test: 1024, Seed: 2025},
			Hidden: []int{32, 32}, Activation: models.TanhActivation,
		},
		H: 0.05, Steps: 1400, Every: 10, Seeds: 5,
	}
	if s == Quick {
		r.Steps = 400
	}
	return r
}

// ID implements Figure.
func (r *Regression) ID() string { return "regression-mlp" }

// Settings implements Figure.
func (r *Regression) Settings() string {
	d := r.Problem.Data
	return fmt.Sprintf(`**regression-mlp** at scale %q: a student MLP %d-%s-1 (tanh) fitted with the half squared error
to a teacher y = v·tanh(Wx) + %g ξ (x ∈ R^%d, teacher width %d; %d training and %d test examples, data seed %d).
SGD with constant learning rate h = %g, batch size 1 (shuffled epochs), N = %d steps, %d seeds, losses
evaluated every %d steps, float32.`, r.Scale, d.Dim, joinInts(r.Problem.Hidden, "-"), d.Noise, d.Dim, d.Hidden,
		d.Train, d.Test, d.Seed, r.H, r.Steps, r.Seeds, r.Every)
}

// Experiments implements Recipe: forward against backward SGD, one experiment.
func (r *Regression) Experiments() ([]Experiment, error) {
	p, err := r.Problem.New()
	if err != nil {
		return nil, err
	}
	return one("regression-mlp: forward against backward", &experiment.Spec{
		Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: r.H}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(r.Seeds), Steps: r.Steps, BatchSize: 1, Sampling: data.Shuffled,
		Evaluated: evaluation.Every(r.Every), DType: dtypes.Float32, Metrics: true,
	}, nil)
}

// Draw implements Recipe.
func (r *Regression) Draw(results []*experiment.Result) (*Outcome, error) {
	o, err := lossFigure(results[0])
	if note := divergenceNote(results[0]); err == nil && note != "" {
		o.Summary = note + "\n\n" + o.Summary
	}
	return o, err
}

// Run implements Figure.
func (r *Regression) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, r)
}

// lossFigure draws the loss panels of a regression figure: per-seed training and test losses, the test loss's
// mean ± standard deviation across seeds, and how much each curve still moves between evaluations (forward
// curves keep fluctuating, backward curves settle); the summary gives the last evaluated values.
func lossFigure(res *experiment.Result) (*Outcome, error) {
	train := plot.NewPanel("training loss, per seed", "step", "loss").LogY()
	test := plot.NewPanel("test loss, per seed", "step", "loss").LogY()
	band := plot.NewPanel("test loss, mean ± std across seeds", "step", "loss").LogY()
	change := plot.NewPanel("change of the test loss between evaluations, mean over seeds", "step", "|ΔL|").LogY()
	var summary strings.Builder
	summary.WriteString("| order | final training loss (mean ± std) | final test loss (mean ± std) | mean |ΔL| of the test loss over the second half |\n|---|---|---|---|\n")
	for _, name := range []string{"forward", "backward"} {
		curves := res.Arm(name)
		var trains, tests [][]float64
		for _, c := range curves {
			x := stepsOf(c)
			if err := train.Line(name, x, c.TrainLoss, 0.8); err != nil {
				return nil, err
			}
			if err := test.Line(name, x, c.TestLoss, 0.8); err != nil {
				return nil, err
			}
			trains, tests = append(trains, c.TrainLoss), append(tests, c.TestLoss)
		}
		x := stepsOf(curves[0])
		trMean, trStd, err := analysis.MeanStd(trains)
		if err != nil {
			return nil, err
		}
		teMean, teStd, err := analysis.MeanStd(tests)
		if err != nil {
			return nil, err
		}
		if err := band.Band(name, x, teMean, teStd); err != nil {
			return nil, err
		}
		changes := meanAbsChange(tests)
		if err := change.Line(name, x[1:], changes, 1.5); err != nil {
			return nil, err
		}
		last := len(x) - 1
		fmt.Fprintf(&summary, "| %s | %.4f ± %.4f | %.4f ± %.4f | %.4f |\n", name, trMean[last], trStd[last],
			teMean[last], teStd[last], secondHalfMean(changes))
	}
	claims := changeClaims(res, analysis.LateWindow(res.Spec.Steps, nil), trainLossMetric, testLossMetric)
	change.Note(fmt.Sprintf("late mean change, backward ÷ forward: %.3g, %s", claims[1].Value, claims[1].verdictText()))
	summary.WriteString("\n" + ClaimsTable(claims))
	return &Outcome{Figure: plot.NewFigure(2, train, test, band, change), Summary: summary.String(), Claims: claims}, nil
}

func joinInts(xs []int, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, sep)
}

// secondHalfMean is the mean of the second half of xs: how much a curve still moves late in the run.
func secondHalfMean(xs []float64) float64 {
	late := xs[len(xs)/2:]
	m := 0.0
	for _, x := range late {
		m += x / float64(len(late))
	}
	return m
}

// meanAbsChange returns, for k ≥ 1, the mean over runs of |runs[s][k] − runs[s][k−1]|.
func meanAbsChange(runs [][]float64) []float64 {
	out := make([]float64, len(runs[0])-1)
	for _, r := range runs {
		for k := 1; k < len(r); k++ {
			out[k-1] += math.Abs(r[k]-r[k-1]) / float64(len(runs))
		}
	}
	return out
}
