package figures

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// Stopping is the stopping figure (beyond the paper, which leaves the question open): does a backward curve say
// when to stop? Backward iterates converge to a point, so the changes of the backward training loss between
// evaluations shrink towards 0, and stopping when they are small relative to the loss (analysis.SettledStop) is a
// rule that needs no held-out data. It is compared, seed by seed, with validation-based early stopping of forward
// SGD (analysis.EarlyStop, with patience): the step each chooses, the test loss there, and the cost in update maps.
// The same rule is also applied to the forward training loss, whose changes stay at the noise level: there it
// should rarely stop.
//
// The validation set is held out of the test set (its second half), so that the test loss at the chosen steps
// is measured on examples neither rule saw.
type Stopping struct {
	Scale Scale
	// Tol is the settling rule's tolerance: it stops when the backward training loss has moved, on average over
	// the last Window evaluations, by at most this fraction of its value.
	Tol    float64
	Window int
	// Patience is early stopping's, in evaluations.
	Patience int
	// Regression and MLP are the problems, with the settings of the regression-mlp and fashion-mlp figures.
	Regression *Regression
	MLP        *Classification
}

func stoppingSettings(s Scale) *Stopping {
	st := &Stopping{Scale: s, Tol: 5e-3, Window: 5, Patience: 5, Regression: regressionSettings(s),
		MLP: fashionMLPSettings(s)}
	// The regression's test set is drawn twice as large; its second half is the validation set.
	st.Regression.Problem.Data.Test *= 2
	return st
}

// ID implements Figure.
func (s *Stopping) ID() string { return "stopping" }

// Settings implements Figure.
func (s *Stopping) Settings() string {
	r, m := s.Regression, s.MLP
	return fmt.Sprintf(`**stopping** (beyond the paper) at scale %q. The settling rule stops backward SGD at the first
evaluation where the last %d changes of the backward training loss average at most %g of the loss; early stopping stops forward SGD when its validation loss has not improved for %d evaluations and keeps
the best iterate. Validation: the second half of the test set; test loss: the first half.
- Regression (regression-mlp's problem, %d training and %d + %d test/validation examples): h = %g, batch 1, N = %d, every %d, %d seeds.
- FashionMNIST %s (fashion-mlp's settings): h = %g, batch %d, N = %d, every %d, %d seeds, metrics on %d examples of each half.`,
		s.Scale, s.Window, s.Tol, s.Patience, r.Problem.Data.Train, r.Problem.Data.Test/2, r.Problem.Data.Test/2,
		r.H, r.Steps, r.Every, r.Seeds, m.Model.Name(), m.H, m.Batch, m.Steps, m.Every, m.Seeds, m.EvalLimit)
}

// stopRuns are one problem's forward and backward curves, evaluated on the test half (test) and on the
// validation half (validation); the training losses are the same in both.
type stopRuns struct {
	test, validation *experiment.Result
}

// halves returns the two experiments of a problem: forward and backward on p with the test half as test data,
// and with the validation half. When the metrics read only the first evalLimit examples of the test set and they
// lie in its first half, the whole test set stands for the test half (which is what fashion-mlp runs, so its
// runs are shared).
func halves(p *problem.Problem, base experiment.Spec) (test, validation *experiment.Spec, err error) {
	half := p.Test.Len() / 2
	testHalf, valHalf, err := p.Test.Split(half)
	if err != nil {
		return nil, nil, err
	}
	var out [2]*experiment.Spec
	for i, d := range []*data.Dataset{testHalf, valHalf} {
		q := *p
		if i == 0 && base.EvalLimit > 0 && base.EvalLimit <= half {
			d = p.Test
		} else {
			q.Source = nil // the data is no longer what the source generates
		}
		q.Test = d
		spec := base
		spec.Problem = &q
		out[i] = &spec
	}
	return out[0], out[1], nil
}

// Experiments implements Recipe: on the regression and on the FashionMNIST network, forward and backward SGD
// measured on the test half and on the validation half.
func (s *Stopping) Experiments() ([]Experiment, error) {
	rp, err := s.Regression.Problem.New()
	if err != nil {
		return nil, err
	}
	r := s.Regression
	regTest, regVal, err := halves(rp, experiment.Spec{
		Arms:  experiment.Orders(update.SGD{LearningRate: r.H}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(r.Seeds), Steps: r.Steps, BatchSize: 1, Sampling: data.Shuffled,
		Evaluated: evaluation.Every(r.Every), DType: dtypes.Float32, Metrics: true})
	if err != nil {
		return nil, err
	}
	m := s.MLP
	train, test, _, _, err := m.load()
	if err != nil {
		return nil, err
	}
	mp := &problem.Problem{Name: m.Dataset, Model: m.Model, Loss: problem.CrossEntropy{}, Train: train, Test: test}
	mlpTest, mlpVal, err := halves(mp, experiment.Spec{
		Arms:  experiment.Orders(update.SGD{LearningRate: m.H}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(m.Seeds), Steps: m.Steps, BatchSize: m.Batch, Sampling: data.Shuffled,
		Evaluated: evaluation.Every(m.Every), DType: dtypes.Float32, Metrics: true, EvalLimit: m.EvalLimit})
	if err != nil {
		return nil, err
	}
	return []Experiment{{"regression, test half", regTest}, {"regression, validation half", regVal},
		{"FashionMNIST MLP, test half", mlpTest}, {"FashionMNIST MLP, validation half", mlpVal}}, nil
}

// Run implements Figure.
func (s *Stopping) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, s)
}

// Draw implements Recipe.
func (s *Stopping) Draw(results []*experiment.Result) (*Outcome, error) {
	if err := finite(results...); err != nil {
		return nil, err
	}
	var summary strings.Builder
	summary.WriteString("| problem | rule | stopped before N | step chosen (mean) | test loss there (mean) | update maps to decide (mean) | held-out examples |\n|---|---|---|---|---|---|---|\n")
	var claims []Claim
	var panels []*plot.Panel
	c, p, err := s.compare("regression", "regression", &stopRuns{results[0], results[1]}, s.Regression.Problem.Data.Test/2, true, &summary)
	if err != nil {
		return nil, err
	}
	claims, panels = append(claims, c...), append(panels, p...)
	_, notice, _, err := s.MLP.source()
	if err != nil {
		return nil, err
	}
	c, p, err = s.compare("mlp", "FashionMNIST MLP", &stopRuns{results[2], results[3]}, s.MLP.EvalLimit, false, &summary)
	if err != nil {
		return nil, err
	}
	claims, panels = append(claims, c...), append(panels, p...)
	if notice != "" {
		summary.WriteString("\n" + notice + "\n")
	}
	summary.WriteString("\n" + ClaimsTable(claims))
	return &Outcome{Figure: plot.NewFigure(2, panels...), Summary: summary.String(), Claims: claims}, nil
}

// choice is where a rule stopped one seed's run: the evaluation index chosen (the iterate kept), whether the
// rule stopped before N, and the update maps computed until it decided.
type choice struct {
	index   int
	stopped bool
	maps    float64
}

// compare applies both rules seed by seed, writes the problem's rows and returns its claims and panels.
//
// predictStops says whether the settling rule is predicted to stop backward SGD in most seeds at this problem's
// settings (on the regression, whose backward curves settle early; not on the MLP at quick scale, still in its
// learning phase at N).
func (s *Stopping) compare(id, label string, runs *stopRuns, heldOut int, predictStops bool, w *strings.Builder) ([]Claim, []*plot.Panel, error) {
	fwd, bwd := runs.test.Arm("forward"), runs.test.Arm("backward")
	steps := fwd[0].Steps
	early, settled, settledFwd := s.decisions(runs)
	summarise := func(rule string, cs []choice, curves []*experiment.Trajectory, held string) (stopped, step, loss, maps float64, losses []float64) {
		for i, c := range cs {
			if c.stopped {
				stopped++
			}
			step += float64(steps[c.index]) / float64(len(cs))
			maps += c.maps / float64(len(cs))
			losses = append(losses, curves[i].TestLoss[c.index])
		}
		loss = analysis.Mean(losses)
		fmt.Fprintf(w, "| %s | %s | %d of %d seeds | %.0f | %.4f | %.0f | %s |\n", label, rule, int(stopped), len(cs), step,
			loss, maps, held)
		return stopped / float64(len(cs)), step, loss, maps, losses
	}
	eStop, eStep, eLoss, eMaps, eLosses := summarise(fmt.Sprintf("early stopping of forward SGD (patience %d)", s.Patience),
		early, fwd, fmt.Sprintf("%d", heldOut))
	gStop, gStep, gLoss, gMaps, gLosses := summarise("settling rule on backward SGD", settled, bwd, "none")
	fStop, _, _, _, _ := summarise("settling rule on forward SGD (a check: it should rarely stop)", settledFwd, fwd, "none")
	var bestF, bestB []float64
	for i := range fwd {
		bestF, bestB = append(bestF, slices.Min(fwd[i].TestLoss)), append(bestB, slices.Min(bwd[i].TestLoss))
	}
	fmt.Fprintf(w, "| %s | best test loss along the curve (an oracle) | — | — | forward %.4f, backward %.4f | — | — |\n",
		label, analysis.Mean(bestF), analysis.Mean(bestB))
	ratio := make([]float64, len(gLosses))
	for i := range ratio {
		ratio[i] = gLosses[i] / eLosses[i]
	}
	stops := reported(id+"/backward-stops", label+": share of seeds where the settling rule stops backward SGD "+
		"before N", gStop)
	if predictStops {
		stops = above(id+"/backward-stops", label+": share of seeds where the settling rule stops backward SGD "+
			"before N (backward iterates converge to a point)", gStop, 0.5)
	}
	claims := []Claim{
		stops,
		below(id+"/forward-false-stops", label+": share of seeds where the same rule stops forward SGD before N "+
			"(forward iterates do not converge to a point)", fStop, 0.5),
		reported(id+"/early-stops", label+": share of seeds where early stopping stops forward SGD before N", eStop),
		reported(id+"/backward-step", label+": step chosen by the settling rule on backward SGD, mean over seeds", gStep),
		reported(id+"/forward-step", label+": step chosen by early stopping of forward SGD, mean over seeds", eStep),
		reported(id+"/backward-test-loss", label+": test loss at the step the settling rule chose, backward SGD", gLoss).perSeed(gLosses),
		reported(id+"/forward-test-loss", label+": test loss at the step early stopping chose, forward SGD", eLoss).perSeed(eLosses),
		reported(id+"/test-loss-ratio", label+": test loss at the backward rule's step ÷ at early stopping's", analysis.Mean(ratio)).perSeed(ratio),
		reported(id+"/cost-ratio", label+": update maps until the decision, backward rule ÷ early stopping", gMaps/eMaps),
	}

	panels, err := decisionPanels(label, fwd, bwd, early, settled)
	return claims, panels, err
}

// decisions applies the three stopping rules to every seed: early stopping of forward SGD on the validation
// loss, and the settling rule on backward and on forward SGD's training loss; each choice with what its order's
// plan to the decision costs in update maps.
func (s *Stopping) decisions(runs *stopRuns) (early, settled, settledFwd []choice) {
	fwd, bwd := runs.test.Arm("forward"), runs.test.Arm("backward")
	val := runs.validation.Arm("forward")
	steps := fwd[0].Steps
	last := len(steps) - 1
	for i := range fwd {
		best, decided := analysis.EarlyStop(val[i].TestLoss, s.Patience)
		e := choice{index: best, stopped: decided >= 0, maps: float64(steps[last])}
		if decided >= 0 {
			e.maps = float64(steps[decided])
		}
		early = append(early, e)
		for _, target := range []struct {
			curve *experiment.Trajectory
			into  *[]choice
			order order.Order
		}{{bwd[i], &settled, order.Backward{}}, {fwd[i], &settledFwd, order.Forward{}}} {
			k := analysis.SettledStop(target.curve.TrainLoss, s.Tol, s.Window)
			g := choice{index: k, stopped: k >= 0}
			if k < 0 {
				g.index = last
			}
			// What the order's plan to the decision costs: backward n maps for the iterate at step n, forward one per step.
			g.maps = float64(order.Cost(target.order.Plan(steps[:g.index+1])))
			*target.into = append(*target.into, g)
		}
	}
	return early, settled, settledFwd
}

// decisionPanels draws every seed's test loss with where early stopping and the settling rule stopped it, and
// the change of the training loss between evaluations that the settling rule reads.
func decisionPanels(label string, fwd, bwd []*experiment.Trajectory, early, settled []choice) ([]*plot.Panel, error) {
	steps := fwd[0].Steps
	curves := plot.NewPanel(label+": test loss per seed, and where each rule stopped", "step", "test loss").LogY()
	changes := plot.NewPanel(label+": change of the training loss between evaluations", "step", "|ΔL|").LogY()
	for _, o := range []struct {
		name string
		cs   []*experiment.Trajectory
	}{{"forward", fwd}, {"backward", bwd}} {
		name := o.name
		for _, c := range o.cs {
			if err := curves.Line(name, stepsOf(c), c.TestLoss, 0.7); err != nil {
				return nil, err
			}
			d := make([]float64, len(c.TrainLoss)-1)
			for k := range d {
				d[k] = math.Abs(c.TrainLoss[k+1] - c.TrainLoss[k])
			}
			if err := changes.Line(name, stepsOf(c)[1:], d, 0.7); err != nil {
				return nil, err
			}
		}
	}
	for _, mark := range []struct {
		label  string
		cs     []choice
		curves []*experiment.Trajectory
	}{{"early stop (forward)", early, fwd}, {"settled (backward)", settled, bwd}} {
		var xs, ys []float64
		for i, c := range mark.cs {
			xs, ys = append(xs, float64(steps[c.index])), append(ys, mark.curves[i].TestLoss[c.index])
		}
		if err := curves.Points(mark.label, xs, ys); err != nil {
			return nil, err
		}
	}
	return []*plot.Panel{curves, changes}, nil
}
