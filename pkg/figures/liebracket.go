package figures

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/lie"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/update"
)

// LieBracket is the lie-bracket figure (App. C): how well the forward iterate, the forward iterate with the
// second-order Lie-bracket correction, and the linearised backward composition (beyond the paper) approximate
// the backward iterate — against h at a fixed number of steps (log-log: slopes 2, 3, 3), and along a trajectory
// at a practical learning rate.
type LieBracket struct {
	Scale Scale
	// Sweep is the problem of the h sweep (a small tanh MLP on synthetic regression), run SweepSteps steps with
	// batches of Batch for each h in Hs, over Seeds seeds.
	Sweep      problem.Regression
	SweepSteps int
	Hs         []float64
	// Trajectory is run on FashionMNIST with a small MLP at learning rate TrajH to TrajSteps steps, evaluated
	// every TrajEvery steps.
	TrajModel            models.MLP
	TrajH                float64
	TrajSteps, TrajEvery int
	Batch, Seeds         int
}

func lieBracketSettings(s Scale) *LieBracket {
	l := &LieBracket{Scale: s,
		Sweep: problem.Regression{Data: data.TeacherRegression{Dim: 8, Hidden: 16, Noise: 0.1, Train: 256, Test: 64, Seed: 2025},
			Hidden: []int{16}, Activation: models.TanhActivation},
		SweepSteps: 10, Hs: []float64{0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125},
		TrajModel: models.MLP{Widths: []int{784, 32, 10}, Activation: models.TanhActivation},
		TrajH:     0.05, TrajSteps: 200, TrajEvery: 10, Batch: 8, Seeds: 3}
	if s == Quick {
		l.TrajSteps, l.TrajEvery, l.Seeds = 40, 5, 2
	}
	return l
}

// ID implements Figure.
func (l *LieBracket) ID() string { return "lie-bracket" }

// Settings implements Figure.
func (l *LieBracket) Settings() string {
	d := l.Sweep.Data
	return fmt.Sprintf(`**lie-bracket** (App. C) at scale %q, float64, batch size %d, %d seeds. Approximations of the backward
iterate θ_n^bwd: the forward iterate θ_n^fwd (the raw gap), the paper's second-order correction
θ_n^fwd + h² Σ_{i<j} [g_i, g_j](θ_0) (n gradients and n Hessian-vector products), and, beyond the paper, the
linearised backward composition (every product of Hessians, no third derivatives; n gradients, n − 1 Hessian-vector
products in sequence).
- Against h: MLP %d-%s-1 (tanh) on the teacher regression (%d examples), n = %d steps, h ∈ %v.
- Along a trajectory: FashionMNIST, MLP %s, h = %g, n up to %d evaluated every %d steps.`, l.Scale, l.Batch, l.Seeds,
		d.Dim, joinInts(l.Sweep.Hidden, "-"), d.Train, l.SweepSteps, l.Hs, l.TrajModel.Name(), l.TrajH, l.TrajSteps, l.TrajEvery)
}

// approximations holds, for one (h, n), the distances of each approximation to the backward iterate and their
// costs in seconds.
type approximations struct {
	gap, second, linear               float64
	backwardTime, secondTime, linTime time.Duration
}

// measure runs forward and backward on p and computes both approximations at the evaluated steps.
func (l *LieBracket) measure(ctx context.Context, runner experiment.Runner, p *problem.Problem, h float64, steps int, plan evaluation.Plan, seed uint64) ([]int, []approximations, *lie.Expansion, error) {
	spec := &experiment.Spec{Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: h}, order.Forward{}, order.Backward{}),
		Seeds: []uint64{seed}, Steps: steps, BatchSize: l.Batch, Sampling: data.Shuffled, Evaluated: plan,
		DType: dtypes.Float64, KeepIterates: true}
	start := time.Now()
	res, err := runner.Run(ctx, spec)
	countRun(ctx, res)
	if err != nil {
		return nil, nil, nil, err
	}
	elapsed := time.Since(start)
	e, err := replay.New(runner.Backend, p, update.SGD{LearningRate: h}, dtypes.Float64)
	if err != nil {
		return nil, nil, nil, err
	}
	theta0, hist, err := spec.Draw(seed)
	if err != nil {
		return nil, nil, nil, err
	}
	x := &lie.Expansion{Engine: e, H: h, Theta0: theta0, Batches: hist}
	fwd, bwd := res.Trajectory("forward", seed), res.Trajectory("backward", seed)
	total := 0
	for _, n := range fwd.Steps {
		total += n
	}
	var out []approximations
	for k, n := range fwd.Steps {
		a := approximations{gap: analysis.Distance(fwd.Iterates[k], bwd.Iterates[k])}
		// The experiment ran forward and all backward replays together; share its time by maps applied.
		a.backwardTime = time.Duration(float64(elapsed) * float64(n) / float64(total+n))
		t0 := time.Now()
		second, err := x.SecondOrder(n, fwd.Iterates[k])
		if err != nil {
			return nil, nil, nil, err
		}
		a.secondTime = time.Since(t0)
		t0 = time.Now()
		lin, err := x.Linearised(n)
		if err != nil {
			return nil, nil, nil, err
		}
		a.linTime = time.Since(t0)
		a.second, a.linear = analysis.Distance(second, bwd.Iterates[k]), analysis.Distance(lin, bwd.Iterates[k])
		out = append(out, a)
	}
	return fwd.Steps, out, x, nil
}

// Run implements Figure: the h sweep, then the trajectory, then where the corrections stop helping.
func (l *LieBracket) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	sw, err := l.sweep(ctx, runner)
	if err != nil {
		return nil, err
	}
	claims := sw.claims
	var summary strings.Builder
	fmt.Fprintf(&summary, "| approximation | log-log slope in h (n = %d) | error at h = %g |\n|---|---|---|\n", l.SweepSteps, l.Hs[0])
	for i, label := range []string{"forward (raw gap)", "second-order correction", "linearised composition"} {
		fmt.Fprintf(&summary, "| %s | %.2f | %.3g |\n", label, claims[i].Value, sw.errors[i][0])
	}
	panels, trajClaims, hl, err := l.trajectory(ctx, runner, &summary)
	if err != nil {
		return nil, err
	}
	claims = append(claims, trajClaims...)
	fmt.Fprintf(&summary, "\nWhere the corrections help and where they stop: both expand the composition around θ_0 in powers "+
		"of h·H_k. In the h sweep h·|λ_max(H_k(θ_0))| is at most %.2f, and the errors fall with the predicted slopes. "+
		"Along the FashionMNIST trajectory it is %.2f for the median batch and %.2f for the largest: no longer "+
		"small, so the terms left out are as large as those kept and the second-order correction overshoots; where it exceeds 2 a map's linear part I − hH_k "+
		"expands along that eigenvector, so the linearised composition, a product of n such maps, grows "+
		"geometrically with n.\n", sw.sharpness, analysis.Median(hl), slices.Max(hl))
	summary.WriteString("\n" + ClaimsTable(claims))
	return &Outcome{Figure: plot.NewFigure(2, append([]*plot.Panel{sw.panel}, panels...)...), Summary: summary.String(), Claims: claims}, nil
}

// sweepResult is what the h sweep measured and drew.
type sweepResult struct {
	errors    [3][]float64 // the raw gap and the errors of the two corrections, for each h: means over seeds
	sharpness float64      // the largest h·|λ_max| of the sweep's batch Hessians at θ_0, at the largest h
	panel     *plot.Panel
	claims    []Claim
}

// sweep measures the approximations against h at n = SweepSteps, draws them, and states the claims on their
// slopes and on where the second-order correction helps.
func (l *LieBracket) sweep(ctx context.Context, runner experiment.Runner) (*sweepResult, error) {
	sweep, err := l.Sweep.New()
	if err != nil {
		return nil, err
	}
	gap, second, linear := make([]float64, len(l.Hs)), make([]float64, len(l.Hs)), make([]float64, len(l.Hs))
	var sweepX *lie.Expansion // of the first seed; its batch Hessians at θ_0 do not depend on h
	for i, h := range l.Hs {
		for _, seed := range experiment.SeedRange(l.Seeds) {
			_, a, x, err := l.measure(ctx, runner, sweep, h, l.SweepSteps, evaluation.List{l.SweepSteps}, seed)
			if err != nil {
				return nil, err
			}
			if sweepX == nil {
				sweepX = x
			}
			gap[i] += a[0].gap / float64(l.Seeds)
			second[i] += a[0].second / float64(l.Seeds)
			linear[i] += a[0].linear / float64(l.Seeds)
		}
	}
	errs := [3][]float64{gap, second, linear}
	vsH := plot.NewPanel(fmt.Sprintf("error against h, n = %d (log-log)", l.SweepSteps), "h", "‖approximation − θ_n^bwd‖").LogY().LogX()
	for i, label := range []string{"forward (raw gap)", "second-order correction", "linearised composition"} {
		if err := vsH.Line(label, l.Hs, errs[i], 1.5); err != nil {
			return nil, err
		}
	}
	// The gap is O(h²) and both corrections leave O(h³); over h from 0.1 down to 0.003, the terms of the next
	// order bend the fitted slopes by up to about 0.3.
	claims := []Claim{
		within("gap-slope", fmt.Sprintf("log-log slope in h of the forward/backward gap (n = %d)", l.SweepSteps),
			analysis.LogLogSlope(l.Hs, gap), 1.7, 2.3),
		within("second-order-slope", "log-log slope in h of the error of the second-order correction",
			analysis.LogLogSlope(l.Hs, second), 2.7, 3.3),
		within("linearised-slope", "log-log slope in h of the error of the linearised composition",
			analysis.LogLogSlope(l.Hs, linear), 2.7, 3.3),
	}
	sweepLambdas, err := sweepX.Sharpness(l.SweepSteps, 30)
	if err != nil {
		return nil, err
	}
	sweepMax := 0.0
	for _, v := range sweepLambdas {
		sweepMax = max(sweepMax, l.Hs[0]*math.Abs(v))
	}
	small := len(l.Hs) - 1
	claims = append(claims,
		below("sweep/second-order-share-small-h", fmt.Sprintf("error of the second-order correction ÷ the raw gap at "+
			"the smallest h = %g (n = %d): the correction helps where h·H is small", l.Hs[small], l.SweepSteps),
			second[small]/gap[small], 1),
		reported("sweep/second-order-share-large-h", fmt.Sprintf("error of the second-order correction ÷ the raw gap "+
			"at the largest h = %g (n = %d)", l.Hs[0], l.SweepSteps),
			second[0]/gap[0]),
		reported("sweep/h-sharpness-max", fmt.Sprintf("h·|λ_max| of the sweep's batch Hessians at "+
			"θ_0, largest over its %d batches, at the largest h = %g", l.SweepSteps, l.Hs[0]), sweepMax))
	vsH.Note(fmt.Sprintf("fitted slopes: gap %.2f, second-order %.2f, linearised %.2f; h·|λ_max| ≤ %.2f", claims[0].Value,
		claims[1].Value, claims[2].Value, sweepMax))
	return &sweepResult{errors: errs, sharpness: sweepMax, panel: vsH, claims: claims}, nil
}

// trajectory measures the approximations along a FashionMNIST trajectory and returns its three panels (errors,
// the share of the gap they leave, cost), its claims, and h·|λ_max| of each batch Hessian at θ_0; it adds the last
// step's numbers to the summary.
func (l *LieBracket) trajectory(ctx context.Context, runner experiment.Runner, summary *strings.Builder) ([]*plot.Panel, []Claim, []float64, error) {
	train, err := data.LoadFashionMNIST("train")
	if err != nil {
		return nil, nil, nil, err
	}
	fashion := &problem.Problem{Name: "fashion-mnist", Model: l.TrajModel, Loss: problem.CrossEntropy{}, Train: train}
	steps, a, x, err := l.measure(ctx, runner, fashion, l.TrajH, l.TrajSteps, evaluation.Every(l.TrajEvery), 1)
	if err != nil {
		return nil, nil, nil, err
	}
	// Why the corrections stop helping: the batch Hessians' largest eigenvalues at θ_0, times h.
	lambdas, err := x.Sharpness(l.TrajSteps, 30)
	if err != nil {
		return nil, nil, nil, err
	}
	hl := make([]float64, len(lambdas))
	for i, v := range lambdas {
		hl[i] = l.TrajH * math.Abs(v)
	}
	panels, err := trajectoryPanels(l.TrajH, floats(steps), a)
	if err != nil {
		return nil, nil, nil, err
	}
	first, last := a[0], a[len(a)-1]
	fmt.Fprintf(summary, "\nAlong the FashionMNIST trajectory at h = %g, step %d: raw gap %.3g; the second-order correction "+
		"leaves %.0f%% of it, the linearised composition %.0f%%. Time for that step: exact backward replay %.3g s, "+
		"second-order correction %.3g s, linearised composition %.3g s.\n", l.TrajH, steps[len(steps)-1], last.gap,
		100*last.second/last.gap, 100*last.linear/last.gap, last.backwardTime.Seconds(), last.secondTime.Seconds(), last.linTime.Seconds())
	panels[0].Note(fmt.Sprintf("h·|λ_max(H_k(θ_0))| over the %d batches: median %.2f, largest %.2f", len(hl), analysis.Median(hl), slices.Max(hl)))
	share := func(id, approximation string, step int, v float64) Claim {
		return reported(id, fmt.Sprintf("FashionMNIST trajectory, h = %g, step %d: error of the %s ÷ the raw gap",
			l.TrajH, step, approximation), v)
	}
	claims := []Claim{
		reported("trajectory/h-sharpness-median", fmt.Sprintf("FashionMNIST trajectory: median over the %d batches of "+
			"h·|λ_max| of the batch Hessian at θ_0 (the linear parts I − hH_k expand where it exceeds 2)", len(hl)), analysis.Median(hl)),
		reported("trajectory/h-sharpness-max", fmt.Sprintf("FashionMNIST trajectory: largest over the %d batches of "+
			"h·|λ_max| of the batch Hessian at θ_0", len(hl)), slices.Max(hl)),
		share("trajectory/second-order-share-first", "second-order correction", steps[0], first.second/first.gap),
		share("trajectory/second-order-share-last", "second-order correction", steps[len(steps)-1], last.second/last.gap),
		share("trajectory/linearised-share-first", "linearised composition", steps[0], first.linear/first.gap),
		share("trajectory/linearised-share-last", "linearised composition", steps[len(steps)-1], last.linear/last.gap),
	}
	return panels, claims, hl, nil
}

// trajectoryPanels draws the approximations along the trajectory: their errors, the share of the gap they leave,
// and their cost per evaluated step.
func trajectoryPanels(h float64, xs []float64, a []approximations) ([]*plot.Panel, error) {
	errs := plot.NewPanel(fmt.Sprintf("along a trajectory, FashionMNIST, h = %g", h), "step n", "‖approximation − θ_n^bwd‖").LogY()
	fraction := plot.NewPanel("share of the forward/backward gap left", "step n", "error / raw gap").LogY()
	cost := plot.NewPanel("cost per evaluated step", "step n", "seconds").LogY()
	col := func(f func(approximations) float64) []float64 {
		out := make([]float64, len(a))
		for i, v := range a {
			out[i] = f(v)
		}
		return out
	}
	type line struct {
		label string
		f     func(approximations) float64
	}
	for _, c := range []line{{"forward (raw gap)", func(v approximations) float64 { return v.gap }},
		{"second-order correction", func(v approximations) float64 { return v.second }},
		{"linearised composition", func(v approximations) float64 { return v.linear }}} {
		if err := errs.Line(c.label, xs, col(c.f), 1.5); err != nil {
			return nil, err
		}
		if err := fraction.Line(c.label, xs, col(func(v approximations) float64 { return c.f(v) / v.gap }), 1.5); err != nil {
			return nil, err
		}
	}
	for _, c := range []line{{"exact backward replay", func(v approximations) float64 { return v.backwardTime.Seconds() }},
		{"second-order correction", func(v approximations) float64 { return v.secondTime.Seconds() }},
		{"linearised composition", func(v approximations) float64 { return v.linTime.Seconds() }}} {
		if err := cost.Line(c.label, xs, col(c.f), 1.5); err != nil {
			return nil, err
		}
	}
	return []*plot.Panel{errs, fraction, cost}, nil
}
