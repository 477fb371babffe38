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
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// Stationary is the stationary figure (Theorem 2.6): the law of backward limit points equals the forward
// stationary law. For many seeds it compares backward iterates at a late step N (converged to their limits) with
// forward iterates at N (draws from the stationary law), on the 1-D quadratic, where both must also match the
// exact N(0, hσ²/(2−h)), and on linear regression, where no closed form is at hand.
type Stationary struct {
	Scale Scale
	// Quadratic is the quadratic problem; QuadH its learning rate and QuadSteps its N.
	Quadratic problem.Quadratic
	QuadH     float64
	QuadSteps int
	// Linear is the regression problem; LinH its learning rate and LinSteps its N.
	Linear   problem.Linear
	LinH     float64
	LinSteps int
	// Seeds is the number of seeds of each problem; EnergyPoints caps the points per order in the energy test
	// (its cost grows with the square).
	Seeds, EnergyPoints int
	// Tail is the number of steps before N also evaluated, to estimate each backward run's limit.
	Tail int
}

func stationarySettings(s Scale) *Stationary {
	st := &Stationary{
		Scale:     s,
		Quadratic: problem.Quadratic{Dim: 1, Sigma: 1, Start: 1, Examples: 1 << 16, Seed: 2026},
		QuadH:     0.2, QuadSteps: 150,
		Linear: problem.Linear{Data: data.LinearRegression{Dim: 3, Noise: 0.5, Train: 4096, Seed: 2026}},
		LinH:   0.05, LinSteps: 600,
		Seeds: 1000, EnergyPoints: 1000, Tail: 6,
	}
	if s == Paper {
		st.Seeds = 10000
	}
	return st
}

// ID implements Figure.
func (s *Stationary) ID() string { return "stationary" }

// Settings implements Figure.
func (s *Stationary) Settings() string {
	q, l := s.Quadratic, s.Linear.Data
	return fmt.Sprintf(`**stationary** (Theorem 2.6) at scale %q, %d seeds per problem, batches of one drawn with replacement,
float64. Forward θ_N (a draw from the stationary law) against backward θ_N (converged to its limit θ*), with the
backward limit estimated from steps N−%d…N.
- Quadratic ½(θ − ε)², ε ~ N(0, σ²), σ = %g, θ_0 = %g, %d noise draws: h = %g, N = %d; exact law N(0, hσ²/(2−h)) = N(0, %.4f).
- Linear regression y = w·x + b + %g ξ, x ∈ R^%d, %d examples, linear model from PyTorch's default initialisation: h = %g, N = %d.
Tests: Kolmogorov–Smirnov (two-sample, and one-sample against the exact law), and the energy test on the
parameter vectors (%d points per order, 199 permutations).`, s.Scale, s.Seeds, s.Tail, q.Sigma, q.Start, q.Examples,
		s.QuadH, s.QuadSteps, analysis.QuadraticStationaryVariance(s.QuadH, q.Sigma), l.Noise, l.Dim, l.Train,
		s.LinH, s.LinSteps, min(s.EnergyPoints, s.Seeds))
}

// lawSpec is the experiment behind one problem's laws: forward and backward to N, evaluated at the last Tail+1
// steps (from which the backward limit is estimated).
func (s *Stationary) lawSpec(p *problem.Problem, h float64, n int) *experiment.Spec {
	var steps []int
	for k := n - s.Tail; k <= n; k++ {
		steps = append(steps, k)
	}
	return &experiment.Spec{
		Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(s.Seeds), Steps: n, BatchSize: 1, Sampling: data.WithReplacement,
		Evaluated: evaluation.List(steps), DType: dtypes.Float64, KeepIterates: true,
	}
}

// lawsOf returns, per order, θ_N of every seed of a lawSpec's result, and the backward limit estimates.
func lawsOf(res *experiment.Result) (fwd, bwd [][]float64, tails []float64, err error) {
	for _, c := range res.Arm("forward") {
		fwd = append(fwd, c.Iterates[len(c.Iterates)-1])
	}
	for _, c := range res.Arm("backward") {
		lim, err := c.Limit()
		if err != nil {
			return nil, nil, nil, err
		}
		bwd = append(bwd, lim.Point)
		tails = append(tails, lim.Tail)
	}
	return fwd, bwd, tails, nil
}

// Experiments implements Recipe: the laws' experiments on the quadratic and on linear regression.
func (s *Stationary) Experiments() ([]Experiment, error) {
	qp, err := s.Quadratic.New()
	if err != nil {
		return nil, err
	}
	lp, err := s.Linear.New()
	if err != nil {
		return nil, err
	}
	return []Experiment{{"quadratic: forward θ_N and backward limits", s.lawSpec(qp, s.QuadH, s.QuadSteps)},
		{"linear regression: forward θ_N and backward limits", s.lawSpec(lp, s.LinH, s.LinSteps)}}, nil
}

// Run implements Figure.
func (s *Stationary) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, s)
}

// Draw implements Recipe: the laws of forward θ_N and of the backward limits on the quadratic, then on linear
// regression, each tested for equality (and the quadratic's against its exact law).
func (s *Stationary) Draw(results []*experiment.Result) (*Outcome, error) {
	if err := finite(results...); err != nil {
		return nil, err
	}
	t := &lawTests{}
	t.summary.WriteString("| problem | test | statistic | p-value |\n|---|---|---|---|\n")
	qq, hist, qTails, err := s.quadraticLaws(results[0], t)
	if err != nil {
		return nil, err
	}
	lqq, scatter, lTails, err := s.linearLaws(results[1], t)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&t.summary, "\nBackward limits: median estimated ‖θ* − θ_N‖ %.2g (quadratic), %.2g (linear regression).\n",
		analysis.Median(qTails), analysis.Median(lTails))
	t.claims = append(t.claims,
		below("quadratic/limit-tail", "quadratic: median estimated distance ‖θ* − θ_N‖ of backward θ_N from its limit "+
			"(converged: far below the law's standard deviation)", analysis.Median(qTails), 1e-6),
		below("linear/limit-tail", "linear regression: median estimated distance ‖θ* − θ_N‖ of backward θ_N from its "+
			"limit", analysis.Median(lTails), 1e-6))
	t.summary.WriteString("\n" + ClaimsTable(t.claims))
	return &Outcome{Figure: plot.NewFigure(2, qq, hist, lqq, scatter), Summary: t.summary.String(), Claims: t.claims}, nil
}

// lawTests collects the figure's tests: a row of the summary's table and a claim each.
type lawTests struct {
	summary strings.Builder
	claims  []Claim
}

// equal records a test of equal laws: its claim is that the p-value exceeds 0.01 (a true claim fails it 1 time
// in 100).
func (t *lawTests) equal(id, problem, test string, stat, p float64) {
	fmt.Fprintf(&t.summary, "| %s | %s | %.4g | %.3g |\n", problem, test, stat, p)
	t.claims = append(t.claims, above(id, fmt.Sprintf("%s: p-value of the %s", problem, test), p, 0.01))
}

// quantilePoints is the number of quantiles the quantile–quantile panels draw.
const quantilePoints = 200

// quadraticLaws tests the quadratic's laws (backward limits against forward θ_N, each against the exact law,
// and the test's power against a wrong law) and draws their quantiles and histograms. It returns the backward
// limits' estimated distances to θ_N.
func (s *Stationary) quadraticLaws(res *experiment.Result, t *lawTests) (qq, hist *plot.Panel, tails []float64, err error) {
	fwd, bwd, tails, err := lawsOf(res)
	if err != nil {
		return nil, nil, nil, err
	}
	f1, b1 := column(fwd, 0), column(bwd, 0)
	exact := analysis.QuadraticStationaryVariance(s.QuadH, s.Quadratic.Sigma)
	d, p, err := analysis.KolmogorovSmirnov(b1, f1)
	if err != nil {
		return nil, nil, nil, err
	}
	t.equal("quadratic/ks-backward-forward", "quadratic", "KS, backward limits vs forward θ_N", d, p)
	for _, o := range []struct {
		id, name string
		xs       []float64
	}{{"quadratic/ks-forward-exact", "forward θ_N", f1}, {"quadratic/ks-backward-exact", "backward limits", b1}} {
		d, p, _ := analysis.KolmogorovSmirnovOneSample(o.xs, analysis.NormalCDF(0, exact))
		t.equal(o.id, "quadratic", "KS, "+o.name+" vs exact N(0, hσ²/(2−h))", d, p)
	}
	// The power of the same test: against a wrong law, twice the exact variance, it must reject (for 1000
	// points the largest CDF gap, 0.083, is 1.6× the 1% critical value 1.63/√1000).
	d, p, err = analysis.KolmogorovSmirnovOneSample(b1, analysis.NormalCDF(0, 2*exact))
	if err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintf(&t.summary, "| quadratic | KS, backward limits vs a wrong law N(0, 2hσ²/(2−h)) (power check) | %.4g | %.3g |\n", d, p)
	t.claims = append(t.claims, below("quadratic/ks-backward-wrong-law", "quadratic: p-value of the KS test of the backward "+
		"limits against a wrong law, N(0, 2hσ²/(2−h)) (the test's power)", p, 0.01))
	const m = quantilePoints
	qq = plot.NewPanel(fmt.Sprintf("quadratic: quantiles vs the exact law (%d seeds)", s.Seeds), "exact N(0, hσ²/(2−h)) quantile", "empirical quantile")
	ref := make([]float64, m)
	for k := range ref {
		ref[k] = analysis.NormalQuantile(0, exact, (float64(k)+0.5)/m)
	}
	if err := qq.Dashed("exact", ref, ref); err != nil {
		return nil, nil, nil, err
	}
	if err := qq.Points("forward", ref, analysis.Quantiles(f1, m)); err != nil {
		return nil, nil, nil, err
	}
	if err := qq.Points("backward", ref, analysis.Quantiles(b1, m)); err != nil {
		return nil, nil, nil, err
	}
	qq.Note(fmt.Sprintf("KS p-values: backward vs forward %.2f, vs exact %.2f", t.claims[0].Value, t.claims[2].Value))
	hist = plot.NewPanel("quadratic: forward θ_N and backward limits", "θ", "density")
	if err := hist.Histogram("forward", f1, 40); err != nil {
		return nil, nil, nil, err
	}
	if err := hist.Histogram("backward", b1, 40); err != nil {
		return nil, nil, nil, err
	}
	hist.Function("exact", analysis.NormalDensity(0, exact))
	return qq, hist, tails, nil
}

// linearLaws tests linear regression's laws (KS per coordinate with Bonferroni's correction, and the energy test
// on the whole parameter vector) and draws their standardised quantiles and the two clouds. It returns the
// backward limits' estimated distances to θ_N.
func (s *Stationary) linearLaws(res *experiment.Result, t *lawTests) (lqq, scatter *plot.Panel, tails []float64, err error) {
	lp := res.Spec.Problem
	fwd, bwd, tails, err := lawsOf(res)
	if err != nil {
		return nil, nil, nil, err
	}
	dims := len(fwd[0])
	names := []string{}
	for _, prm := range lp.Model.Params() {
		for i := range prm.Size() {
			names = append(names, fmt.Sprintf("%s[%d]", prm.Name, i))
		}
	}
	minP, maxD := 1.0, 0.0
	for i := range dims {
		d, p, _ := analysis.KolmogorovSmirnov(column(bwd, i), column(fwd, i))
		minP, maxD = min(minP, p), max(maxD, d)
	}
	t.equal("linear/ks-per-coordinate", "linear regression", fmt.Sprintf("KS per coordinate: largest D, smallest p × %d (Bonferroni)", dims), maxD, min(1, minP*float64(dims)))
	k := min(s.EnergyPoints, len(fwd))
	e, p, err := analysis.EnergyDistance(bwd[:k], fwd[:k], 199, 1)
	if err != nil {
		return nil, nil, nil, err
	}
	t.equal("linear/energy", "linear regression", "energy test on θ ∈ R^"+fmt.Sprint(dims), e, p)

	// Each coordinate's quantiles standardised by the forward mean and standard deviation of that coordinate, so
	// that all of them share one scale and a deviation of any is visible.
	lqq = plot.NewPanel("linear regression: backward limits vs forward θ_N, per coordinate",
		"forward θ_N quantile (standardised)", "backward limit quantile (same scale)")
	lqq.Note(fmt.Sprintf("energy test p = %.2f; KS per coordinate, Bonferroni p = %.2f", p, min(1, minP*float64(dims))))
	scatter = plot.NewPanel("linear regression: the two clouds", names[0], names[1])
	lo, hi := 0.0, 0.0
	for i := range dims {
		f := column(fwd, i)
		mu, sd := analysis.Mean(f), math.Sqrt(analysis.Variance(f))
		fq, bq := analysis.Quantiles(f, quantilePoints), analysis.Quantiles(column(bwd, i), quantilePoints)
		for k := range fq {
			fq[k], bq[k] = (fq[k]-mu)/sd, (bq[k]-mu)/sd
			lo, hi = min(lo, fq[k]), max(hi, fq[k])
		}
		if err := lqq.Points(names[i], fq, bq); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := lqq.Dashed("y = x", []float64{lo, hi}, []float64{lo, hi}); err != nil {
		return nil, nil, nil, err
	}
	if err := scatter.Points("forward", column(fwd, 0), column(fwd, 1)); err != nil {
		return nil, nil, nil, err
	}
	if err := scatter.Points("backward", column(bwd, 0), column(bwd, 1)); err != nil {
		return nil, nil, nil, err
	}
	return lqq, scatter, tails, nil
}

func column(points [][]float64, i int) []float64 {
	out := make([]float64, len(points))
	for k, p := range points {
		out[k] = p[i]
	}
	return out
}
