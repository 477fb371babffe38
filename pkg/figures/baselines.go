package figures

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// Baselines is the baselines figure (beyond the paper): is backward SGD's settling just averaging? On the same
// seeds, θ_0 and batch histories it runs forward and backward SGD beside forward SGD's usual ways to make
// iterates settle: an exponential moving average of the iterates (EMA), a tail (Polyak–Ruppert, SWA) average, and
// a learning-rate decay to the horizon (cosine, step). Theory gives a sharp difference to measure: an average of
// forward iterates converges to the *mean* of the stationary law, so its spread across seeds shrinks, while the
// backward iterate converges to a *point drawn from* that law (Theorem 2.6), so its spread does not.
//
// Three problems: the 1-D quadratic, where every method's mean and variance across seeds has a closed form
// (analysis.QuadraticMoments); linear regression; and the FashionMNIST MLP with fashion-mlp's settings.
type Baselines struct {
	Scale Scale
	// EMA is the decay β of the moving average; TailFrom the fraction of the run after which the tail average
	// starts (0.5: the second half).
	EMA, TailFrom float64
	// Quadratic is the 1-D quadratic; QuadH its learning rate, QuadSteps its N, QuadEvery the evaluation
	// interval and QuadSeeds the number of seeds.
	Quadratic                       problem.Quadratic
	QuadH                           float64
	QuadSteps, QuadEvery, QuadSeeds int
	// Linear is the regression problem, with the same kind of settings.
	Linear                       problem.Linear
	LinH                         float64
	LinSteps, LinEvery, LinSeeds int
	// MLP is the FashionMNIST network and its settings (fashion-mlp's at this scale, so that the forward and
	// backward runs are shared with that figure through the run store).
	MLP *Classification
}

func baselinesSettings(s Scale) *Baselines {
	b := &Baselines{
		Scale: s, EMA: 0.9, TailFrom: 0.5,
		Quadratic: problem.Quadratic{Dim: 1, Sigma: 1, Start: 1, Examples: 1 << 16, Seed: 2026},
		QuadH:     0.2, QuadSteps: 200, QuadEvery: 10, QuadSeeds: 2000,
		Linear: problem.Linear{Data: data.LinearRegression{Dim: 3, Noise: 0.5, Train: 4096, Test: 1024, Seed: 2026}},
		LinH:   0.05, LinSteps: 400, LinEvery: 20, LinSeeds: 400,
		MLP: fashionMLPSettings(s),
	}
	if s == Paper {
		b.QuadSeeds, b.LinSeeds = 10000, 2000
	}
	return b
}

// ID implements Figure.
func (b *Baselines) ID() string { return "baselines" }

// Settings implements Figure.
func (b *Baselines) Settings() string {
	q, l, m := b.Quadratic, b.Linear.Data, b.MLP
	return fmt.Sprintf(`**baselines** (beyond the paper) at scale %q. Six ways to report an iterate at step n from the
same seed's θ_0 and batches: forward SGD; backward SGD; an EMA of the forward iterates (β = %g); a tail average of
the forward iterates from step %g·N + 1; forward SGD with a cosine decay of the learning rate to N; forward SGD
with a step decay (×0.1 at N/2 and 3N/4). Batches of one drawn with replacement on the first two problems.
- Quadratic ½(θ − ε)², ε ~ N(0, σ²), σ = %g, θ_0 = %g, %d noise draws: h = %g, N = %d, evaluated every %d, %d seeds, float64.
- Linear regression y = w·x + b + %g ξ, x ∈ R^%d, %d training and %d test examples: h = %g, N = %d, every %d, %d seeds, float64.
- FashionMNIST %s: h = %g, batch %d, N = %d, every %d, %d seeds, metrics on %d examples, float32.`,
		b.Scale, b.EMA, b.TailFrom, q.Sigma, q.Start, q.Examples, b.QuadH, b.QuadSteps, b.QuadEvery, b.QuadSeeds,
		l.Noise, l.Dim, l.Train, l.Test, b.LinH, b.LinSteps, b.LinEvery, b.LinSeeds, m.Model.Name(), m.H, m.Batch, m.Steps,
		m.Every, m.Seeds, m.EvalLimit)
}

// method is one way of producing the iterate reported at step n: an arm of the comparison (its name is the legend
// label and the claims' prefix), and what it is in words.
type method struct {
	experiment.Arm
	what string
}

// methods lists the compared methods at learning rate h over n steps.
func (b *Baselines) methods(h float64, n int) []method {
	sgd := update.SGD{LearningRate: h}
	tail := int(math.Round(b.TailFrom*float64(n))) + 1
	arm := func(name string, rule update.Rule, o order.Order, what string) method {
		return method{experiment.Arm{Name: name, Rule: rule, Order: o}, what}
	}
	return []method{
		arm("forward", sgd, order.Forward{}, "forward SGD"),
		arm("backward", sgd, order.Backward{}, "backward SGD"),
		arm("ema", update.Averaged{Rule: sgd, EMA: b.EMA}, order.Forward{}, fmt.Sprintf("EMA (β = %g) of forward iterates", b.EMA)),
		arm("tail", update.Averaged{Rule: sgd, TailStart: tail}, order.Forward{}, fmt.Sprintf("tail average of forward iterates from step %d", tail)),
		arm("cosine", update.SGD{LearningRate: h, Schedule: update.Cosine{Horizon: n}}, order.Forward{}, "forward SGD, cosine decay to N"),
		arm("step", update.SGD{LearningRate: h, Schedule: update.StepDecay{Horizon: n}}, order.Forward{}, "forward SGD, step decay"),
	}
}

// compared holds every method's curves on one problem, and each method's cost: update maps (gradient
// evaluations) per evaluated step. The averages add one vector update per map and no gradient.
type compared struct {
	methods []method
	curves  map[string][]*experiment.Trajectory
	cost    map[string]float64
}

// withMethods returns base with the methods at learning rate h as its arms: one experiment compares them all.
func (b *Baselines) withMethods(base *experiment.Spec, h float64) *experiment.Spec {
	spec := *base
	spec.Arms = nil
	for _, m := range b.methods(h, base.Steps) {
		spec.Arms = append(spec.Arms, m.Arm)
	}
	return &spec
}

// comparedFrom collects a withMethods experiment's result by method, with each method's cost.
func (b *Baselines) comparedFrom(res *experiment.Result, h float64) (*compared, error) {
	ms := b.methods(h, res.Spec.Steps)
	out := &compared{methods: ms, curves: map[string][]*experiment.Trajectory{}, cost: map[string]float64{}}
	evaluated, err := res.Spec.Evaluated.Steps(res.Spec.Steps)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out.cost[m.Name] = float64(order.Cost(m.Order.Plan(evaluated))) / float64(len(evaluated))
		out.curves[m.Name] = res.Arm(m.Name)
	}
	return out, nil
}

// finals returns θ_N of every seed of a method (the last kept iterate).
func (c *compared) finals(name string) [][]float64 {
	var out [][]float64
	for _, cv := range c.curves[name] {
		out = append(out, cv.Iterates[len(cv.Iterates)-1])
	}
	return out
}

// Experiments implements Recipe: the methods on the quadratic, on linear regression, and on the FashionMNIST
// network twice (the curves: fashion-mlp's experiment, so its runs are shared through the store; and θ_N alone,
// since keeping every evaluated iterate of a 269 322-parameter network would hold hundreds of MB).
func (b *Baselines) Experiments() ([]Experiment, error) {
	qp, err := b.Quadratic.New()
	if err != nil {
		return nil, err
	}
	lp, err := b.Linear.New()
	if err != nil {
		return nil, err
	}
	c := b.MLP
	train, test, _, _, err := c.load()
	if err != nil {
		return nil, err
	}
	mp := &problem.Problem{Name: c.Dataset, Model: c.Model, Loss: problem.CrossEntropy{}, Train: train, Test: test}
	curves := &experiment.Spec{Problem: mp, Seeds: experiment.SeedRange(c.Seeds), Steps: c.Steps, BatchSize: c.Batch,
		Sampling: data.Shuffled, Evaluated: evaluation.Every(c.Every), DType: dtypes.Float32, Metrics: true,
		EvalLimit: c.EvalLimit}
	ends := *curves
	ends.Evaluated, ends.Metrics, ends.KeepIterates = evaluation.List{c.Steps}, false, true
	return []Experiment{
		{"quadratic", b.withMethods(&experiment.Spec{Problem: qp, Seeds: experiment.SeedRange(b.QuadSeeds),
			Steps: b.QuadSteps, BatchSize: 1, Sampling: data.WithReplacement, Evaluated: evaluation.Every(b.QuadEvery),
			DType: dtypes.Float64, KeepIterates: true}, b.QuadH)},
		{"linear regression", b.withMethods(&experiment.Spec{Problem: lp, Seeds: experiment.SeedRange(b.LinSeeds),
			Steps: b.LinSteps, BatchSize: 1, Sampling: data.WithReplacement, Evaluated: evaluation.Every(b.LinEvery),
			DType: dtypes.Float64, KeepIterates: true, Metrics: true}, b.LinH)},
		{"FashionMNIST MLP: the curves", b.withMethods(curves, c.H)},
		{"FashionMNIST MLP: θ_N", b.withMethods(&ends, c.H)},
	}, nil
}

// Run implements Figure.
func (b *Baselines) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, b)
}

// Draw implements Recipe.
func (b *Baselines) Draw(results []*experiment.Result) (*Outcome, error) {
	if err := finite(results...); err != nil {
		return nil, err
	}
	var summary strings.Builder
	var claims []Claim
	qPanel, qClaims, err := b.quadratic(results[0], &summary)
	if err != nil {
		return nil, err
	}
	claims = append(claims, qClaims...)

	lin, err := b.comparedFrom(results[1], b.LinH)
	if err != nil {
		return nil, err
	}
	summary.WriteString("\n**Linear regression** (θ_N across seeds; distances in parameter space):\n\n")
	lClaims := lin.table(&summary, b.LinSteps, lin.finals)
	back, tail := analysis.PointSpread(lin.finals("backward")), analysis.PointSpread(lin.finals("tail"))
	claims = append(claims, prefixed("linear", "linear regression", lClaims)...)
	claims = append(claims,
		below("linear/tail/spread-vs-backward", "linear regression: spread across seeds of θ_N, tail average ÷ "+
			"backward (averages concentrate on the stationary mean; backward limits are draws from the law)", tail/back, 1),
		within("linear/backward/spread-vs-forward", "linear regression: spread across seeds of θ_N, backward ÷ "+
			"forward (the same stationary law, Theorem 2.6)", back/analysis.PointSpread(lin.finals("forward")), 0.75, 1.33))
	lPanel, err := lin.changePanel("linear regression: change of the test loss between evaluations", b.LinSteps)
	if err != nil {
		return nil, err
	}
	sPanel, err := lin.spreadPanel(fmt.Sprintf("linear regression: spread of θ_n across %d seeds", b.LinSeeds))
	if err != nil {
		return nil, err
	}

	mPanels, mClaims, err := b.mlp(results[2], results[3], &summary)
	if err != nil {
		return nil, err
	}
	claims = append(claims, mClaims...)
	summary.WriteString("\n" + ClaimsTable(claims))
	others := append([]*plot.Panel{sPanel, lPanel}, mPanels...)
	for _, p := range others {
		p.NoLegend() // the methods' colours are the same in every panel: the first panel's legend serves all
	}
	fig := plot.NewFigure(2, append([]*plot.Panel{qPanel}, others...)...)
	return &Outcome{Figure: fig, Summary: summary.String(), Claims: claims}, nil
}

// table writes one row per method — final test loss (and accuracy, for classifiers; mean ± std across seeds), mean change of the test loss
// between evaluations over the second half, the spread of θ_N across seeds, the mean distance of θ_N to the same
// seed's backward θ_N, and the cost — and returns the numbers as claims reported without prediction. finals
// gives each method's θ_N per seed.
func (c *compared) table(w *strings.Builder, steps int, finals func(string) [][]float64) []Claim {
	classifier := len(c.curves["forward"][0].TestAccuracy) > 0
	accuracy := ""
	if classifier {
		accuracy = " test accuracy at N (mean ± std) |"
	}
	fmt.Fprintf(w, "| method | test loss at N (mean ± std) |%s mean |ΔL| over the second half | spread of θ_N across seeds | "+
		"mean ‖θ_N − backward θ_N‖ | update maps per evaluated step |\n|---|---|---|---|---|---|---|%s\n", accuracy,
		map[bool]string{true: "---|"}[classifier])
	late := analysis.LateWindow(steps, nil)
	back := finals("backward")
	var claims []Claim
	for _, m := range c.methods {
		curves := c.curves[m.Name]
		var last, acc, changes []float64
		for _, cv := range curves {
			last = append(last, cv.TestLoss[len(cv.TestLoss)-1])
			changes = append(changes, analysis.MeanChange(analysis.Series{Steps: cv.Steps, Values: cv.TestLoss}, late))
			if classifier {
				acc = append(acc, cv.TestAccuracy[len(cv.TestAccuracy)-1])
			}
		}
		f := finals(m.Name)
		sp, dist := analysis.PointSpread(f), analysis.MeanDistance(f, back)
		accCell := ""
		if classifier {
			accCell = fmt.Sprintf(" %.4f ± %.4f |", analysis.Mean(acc), math.Sqrt(analysis.Variance(acc)))
			claims = append(claims, reported(m.Name+"/test-accuracy", "test accuracy at N, mean over seeds, "+m.what,
				analysis.Mean(acc)).perSeed(acc))
		}
		fmt.Fprintf(w, "| %s | %.4f ± %.4f |%s %.3g | %.3g | %.3g | %.1f |\n", m.what, analysis.Mean(last),
			math.Sqrt(analysis.Variance(last)), accCell, analysis.Mean(changes), sp, dist, c.cost[m.Name])
		claims = append(claims,
			reported(m.Name+"/test-loss", "test loss at N, mean over seeds, "+m.what, analysis.Mean(last)).perSeed(last),
			reported(m.Name+"/test-loss-spread", "standard deviation of the test loss at N across seeds, "+m.what,
				math.Sqrt(analysis.Variance(last))),
			reported(m.Name+"/test-loss-change", "mean change of the test loss between evaluations over the second "+
				"half, "+m.what, analysis.Mean(changes)).perSeed(changes),
			reported(m.Name+"/spread", "spread of θ_N across seeds (root-mean-square distance to their mean), "+m.what, sp),
			reported(m.Name+"/distance-to-backward", "mean distance of θ_N to the same seed's backward θ_N, "+m.what, dist),
			reported(m.Name+"/cost", "update maps per evaluated step, "+m.what, c.cost[m.Name]))
	}
	return claims
}

// changePanel draws, per method, the mean over seeds of the change of the test loss between evaluations.
func (c *compared) changePanel(title string, steps int) (*plot.Panel, error) {
	p := plot.NewPanel(title, "step", "|ΔL|, mean over seeds").LogY()
	for _, m := range c.methods {
		var tests [][]float64
		for _, cv := range c.curves[m.Name] {
			tests = append(tests, cv.TestLoss)
		}
		if err := p.Line(m.Name, stepsOf(c.curves[m.Name][0])[1:], meanAbsChange(tests), 1.2); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// spreadPanel draws, per method, the spread of the iterates across seeds at every evaluated step.
func (c *compared) spreadPanel(title string) (*plot.Panel, error) {
	p := plot.NewPanel(title, "step", "RMS distance to the mean over seeds").LogY()
	for _, m := range c.methods {
		curves := c.curves[m.Name]
		ys := make([]float64, len(curves[0].Steps))
		for k := range ys {
			points := make([][]float64, len(curves))
			for s, cv := range curves {
				points[s] = cv.Iterates[k]
			}
			ys[k] = analysis.PointSpread(points)
		}
		if err := p.Line(m.Name, stepsOf(curves[0]), ys, 1.2); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// quadratic checks each one's mean and variance across seeds against
// the closed forms, step by step.
func (b *Baselines) quadratic(res *experiment.Result, summary *strings.Builder) (*plot.Panel, []Claim, error) {
	p := res.Spec.Problem
	quad, err := b.comparedFrom(res, b.QuadH)
	if err != nil {
		return nil, nil, err
	}
	// The noise is drawn from the problem's finite sample of ε, so its exact law is that sample's: its mean and
	// (population) variance.
	eps, err := tensors.CopyFlatData[float64](p.Train.Targets)
	if err != nil {
		return nil, nil, err
	}
	mu := analysis.Mean(eps)
	sigma2 := analysis.Variance(eps) * float64(len(eps)-1) / float64(len(eps))
	n := b.QuadSteps
	panel := plot.NewPanel(fmt.Sprintf("quadratic: variance of θ_n across %d seeds (dashed: exact)", b.QuadSeeds),
		"step n", "variance across seeds").LogY()
	fmt.Fprintf(summary, "**Quadratic** (%d seeds; exact moments from the closed forms, noise mean %.4f and variance %.4f):\n\n"+
		"| method | mean of θ_N | exact | variance of θ_N | exact | measured ÷ exact |\n|---|---|---|---|---|---|\n", b.QuadSeeds, mu, sigma2)
	var claims []Claim
	variances := map[string]float64{}
	exactVar := map[string]float64{}
	for _, m := range quad.methods {
		mean, vr := b.exactMoments(m.Rule, mu, sigma2)
		if err := varianceCurves(panel, m.Name, quad.curves[m.Name], vr); err != nil {
			return nil, nil, err
		}
		last := column(quad.finals(m.Name), 0)
		gotMean, gotVar := analysis.Mean(last), analysis.Variance(last)
		variances[m.Name], exactVar[m.Name] = gotVar, vr[n]
		fmt.Fprintf(summary, "| %s | %.4f | %.4f | %.5f | %.5f | %.3f |\n", m.what, gotMean, mean[n], gotVar, vr[n], gotVar/vr[n])
		// 2000 seeds: a sample variance is within ±15% of the exact one with 4.7 standard errors √(2/(S−1)) to
		// spare; a mean within 4.5 standard errors √(v/S) of the exact one.
		claims = append(claims,
			within("quadratic/"+m.Name+"/variance-ratio", "quadratic: variance of θ_N across seeds ÷ its closed form, "+m.what,
				gotVar/vr[n], 0.85, 1.15),
			within("quadratic/"+m.Name+"/mean-error", "quadratic: (mean of θ_N − its closed form) in standard errors, "+m.what,
				(gotMean-mean[n])/math.Sqrt(vr[n]/float64(len(last))), -4.5, 4.5))
	}
	// The sharp difference: averages concentrate, backward iterates keep the stationary law's spread.
	for _, name := range []string{"ema", "tail"} {
		r := exactVar[name] / exactVar["backward"]
		claims = append(claims, within("quadratic/"+name+"/variance-vs-backward",
			fmt.Sprintf("quadratic: variance of θ_N across seeds, %s ÷ backward (closed forms: %.3g)", name, r),
			variances[name]/variances["backward"], r*0.85/1.15, r*1.15/0.85))
	}
	stationary := analysis.QuadraticStationaryVariance(b.QuadH, math.Sqrt(sigma2))
	claims = append(claims, within("quadratic/backward/variance-vs-stationary", "quadratic: variance of backward θ_N "+
		"across seeds ÷ the stationary variance hσ²/(2−h) (it does not shrink)", variances["backward"]/stationary, 0.85, 1.15))
	panel.Note(fmt.Sprintf("at N: tail ÷ backward %.3f, EMA ÷ backward %.3f", variances["tail"]/variances["backward"],
		variances["ema"]/variances["backward"]))
	return panel, claims, nil
}

// exactMoments returns the closed-form mean and variance across seeds of a method's read-out on the quadratic
// (θ_n, or the average of the iterates for an averaged rule) at every step n ≤ QuadSteps, for noise of mean mu
// and variance sigma2.
func (b *Baselines) exactMoments(rule update.Rule, mu, sigma2 float64) (mean, variance []float64) {
	h, w := func(int) float64 { return b.QuadH }, func(int) float64 { return 1 }
	averaged := false
	switch r := rule.(type) {
	case update.Averaged:
		w, averaged = r.Weight, true
	case update.SGD:
		if r.Schedule != nil {
			h = func(k int) float64 { return b.QuadH * r.Schedule.Factor(k) }
		}
	}
	mom := analysis.QuadraticMoments(b.Quadratic.Start, mu, sigma2, h, w, b.QuadSteps)
	if averaged {
		return mom.AvgMean, mom.AvgVar
	}
	return mom.ThetaMean, mom.ThetaVar
}

// varianceCurves draws a method's variance of θ across seeds at each evaluated step, and its closed form
// (exact, indexed by step) dashed.
func varianceCurves(panel *plot.Panel, name string, curves []*experiment.Trajectory, exact []float64) error {
	steps := stepsOf(curves[0])
	measured, closed := make([]float64, len(steps)), make([]float64, len(steps))
	for k := range steps {
		xs := make([]float64, len(curves))
		for s, cv := range curves {
			xs[s] = cv.Iterates[k][0]
		}
		measured[k], closed[k] = analysis.Variance(xs), exact[curves[0].Steps[k]]
	}
	if err := panel.Line(name, steps, measured, 1.2); err != nil {
		return err
	}
	return panel.Dashed("exact", steps, closed)
}

// mlp draws every method on the FashionMNIST network: test loss and its change per method, and, from the second
// experiment, which keeps only θ_N, the spread across seeds and the distance to each seed's backward θ_N.
func (b *Baselines) mlp(curves, last *experiment.Result, summary *strings.Builder) ([]*plot.Panel, []Claim, error) {
	c := b.MLP
	_, notice, _, err := c.source()
	if err != nil {
		return nil, nil, err
	}
	cmp, err := b.comparedFrom(curves, c.H)
	if err != nil {
		return nil, nil, err
	}
	ends, err := b.comparedFrom(last, c.H)
	if err != nil {
		return nil, nil, err
	}
	if notice != "" {
		summary.WriteString("\n" + notice + "\n")
	}
	fmt.Fprintf(summary, "\n**FashionMNIST %s** (θ_N from a second run of each method that keeps only it; the cost is that "+
		"of the curves; each seed starts from its own θ_0, so the spread of θ_N across seeds is mostly that of the "+
		"initialisations):\n\n", c.Model.Name())
	claims := prefixed("mlp", "FashionMNIST MLP", cmp.table(summary, c.Steps, ends.finals))
	fwd := cmp.curves["forward"]
	for _, m := range cmp.methods[1:] {
		r, per := analysis.ChangeRatio(testLossMetric.series(cmp.curves[m.Name]), testLossMetric.series(fwd), analysis.LateWindow(c.Steps, nil))
		claims = append(claims, reported("mlp/"+m.Name+"/test-loss-change-ratio", "FashionMNIST MLP: mean change "+
			"of the test loss over the second half, "+m.what+" ÷ forward", r).perSeed(per))
	}
	change, err := cmp.changePanel("FashionMNIST MLP: change of the test loss between evaluations", c.Steps)
	if err != nil {
		return nil, nil, err
	}
	loss, acc, err := cmp.meanPanels()
	if err != nil {
		return nil, nil, err
	}
	return []*plot.Panel{loss, acc, change}, claims, nil
}

// meanPanels draws every method's test loss and test accuracy, each a mean over seeds.
func (c *compared) meanPanels() (loss, acc *plot.Panel, err error) {
	loss = plot.NewPanel("FashionMNIST MLP: test loss, mean over seeds", "step", "test loss")
	acc = plot.NewPanel("FashionMNIST MLP: test accuracy, mean over seeds", "step", "accuracy")
	for _, m := range c.methods {
		var ls, as [][]float64
		for _, cv := range c.curves[m.Name] {
			ls, as = append(ls, cv.TestLoss), append(as, cv.TestAccuracy)
		}
		lm, _, err := analysis.MeanStd(ls)
		if err != nil {
			return nil, nil, err
		}
		am, _, err := analysis.MeanStd(as)
		if err != nil {
			return nil, nil, err
		}
		x := stepsOf(c.curves[m.Name][0])
		if err := loss.Line(m.Name, x, lm, 1.2); err != nil {
			return nil, nil, err
		}
		if err := acc.Line(m.Name, x, am, 1.2); err != nil {
			return nil, nil, err
		}
	}
	return loss, acc, nil
}
