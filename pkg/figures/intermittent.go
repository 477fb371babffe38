package figures

import (
	"context"
	"fmt"
	"strings"

	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/explore"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
)

// Intermittent is the paper's Fig. 3: forward SGD against intermittent backward SGD, whose backward composition
// restarts every Window steps from the iterate at the reset. Its first experiment is the classification figure's
// (losses and accuracy per seed, with the resets marked); its second runs the same seeds and batches again
// keeping the iterates every ViewEvery steps, for the figure's own view in parameter space: within each window
// the intermittent iterates settle on a point, and after the reset move on to another, while forward keeps
// moving among them.
type Intermittent struct {
	*Classification
	// Window is W, the number of steps between resets.
	Window int
	// ViewEvery is the evaluation interval of the parameter-space runs, which keep their iterates (each a copy
	// of the model's parameters, so they are evaluated sparsely); it divides Window and is at most Window/4, so
	// that every window's end and two pairs of evaluations in its second half are evaluated.
	ViewEvery int
}

func intermittentSettings(s Scale) *Intermittent {
	c := fashionVariantSettings(s)
	c.Name, c.Paper = "intermittent", "Fig. 3"
	i := &Intermittent{Classification: c, Window: 500, ViewEvery: 100}
	c.Every = 10
	if s == Quick {
		// From the initialisation, 200 steps are all descent: in parameter space the drift and the distance
		// between the two orders' paths, set in the first window, hide everything else. From a warm start (the
		// convnets' at quick scale: 1 000 forward steps at h) the runs move around a minimum, the loss curves of
		// the intermittent order lie flat between resets and jump at them, and the window end points lie among
		// forward's iterates. At paper scale the runs start at the initialisation, as the paper's do.
		i.Window, i.ViewEvery, c.Every, c.WarmUp = 50, 10, 5, 1000
	}
	return i
}

// resets returns the intermittent order's reset points.
func (i *Intermittent) resets() order.EveryW { return order.EveryW(i.Window) }

// part returns the classification figure the first experiment draws: forward against intermittent backward,
// the resets marked.
func (i *Intermittent) part() *Classification {
	c := *i.Classification
	c.Orders = []order.Order{order.Forward{}, order.Intermittent{Resets: i.resets()}}
	c.Marks = i.resets().Resets(c.Steps)
	return &c
}

// check says what is wrong with settings that leave the claims nothing to measure.
func (i *Intermittent) check() error {
	switch {
	case i.Window <= 0 || i.ViewEvery <= 0:
		return fmt.Errorf("figures: %s: the window (%d) and the view's evaluation interval (%d) must be positive",
			i.ID(), i.Window, i.ViewEvery)
	case i.Steps < 3*i.Window:
		return fmt.Errorf("figures: %s: N = %d steps with resets every %d: the claims need at least two windows "+
			"after the first (N ≥ %d); raise the steps or lower Window", i.ID(), i.Steps, i.Window, 3*i.Window)
	case i.Window%i.ViewEvery != 0 || 4*i.ViewEvery > i.Window:
		return fmt.Errorf("figures: %s: the view's evaluation interval %d must divide the window %d (every "+
			"window's end is evaluated) and be at most a quarter of it (two pairs of evaluations in each window's "+
			"second half)", i.ID(), i.ViewEvery, i.Window)
	}
	return nil
}

// Settings implements Figure.
func (i *Intermittent) Settings() string {
	return i.part().Settings() + fmt.Sprintf(` Resets every W = %d steps. **Parameter space**: the same seeds and
batches run again, keeping θ every %d steps (no metrics), for the movement of the iterates late in each window and
the projection of the first seed's iterates on their two principal directions.`, i.Window, i.ViewEvery)
}

// Line implements Figure.
func (i *Intermittent) Line() string {
	return i.part().Line() + fmt.Sprintf(", resets every %d, iterates every %d", i.Window, i.ViewEvery)
}

// Override implements Figure: steps, interval and seeds; the orders are forward and intermittent backward with
// resets every Window steps.
func (i *Intermittent) Override(o Overrides) error {
	if err := notApplicable(i.ID(), o, false, true, "the figure compares forward with intermittent backward; "+
		"its window is the Window setting"); err != nil {
		return err
	}
	if err := i.Classification.Override(o); err != nil {
		return err
	}
	return i.check()
}

// Experiments implements Recipe: the classification experiment, and the same runs keeping their iterates.
func (i *Intermittent) Experiments() ([]Experiment, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	spec, err := i.part().experiment()
	if err != nil {
		return nil, err
	}
	view := *spec
	view.Metrics, view.EvalLimit, view.KeepIterates = false, 0, true
	view.Evaluated = evaluation.Every(i.ViewEvery)
	names := strings.Join(orderNames(i.part().orders()), " against ")
	return []Experiment{{i.ID() + ": " + names, spec},
		{fmt.Sprintf("%s, parameter space: the same runs, θ kept every %d steps", i.ID(), i.ViewEvery), &view}}, nil
}

// Draw implements Recipe: the classification panels, the movement of the iterates between evaluations and
// their projection, and the claims of both.
func (i *Intermittent) Draw(results []*experiment.Result) (*Outcome, error) {
	c := i.part()
	got, summary, err := c.draw(results[0])
	if err != nil {
		return nil, err
	}
	view := results[1]
	if err := finite(view); err != nil {
		return nil, fmt.Errorf("figures: %s: the parameter-space view needs finite iterates: %w", i.ID(), err)
	}
	claims, err := i.movementClaims(view)
	if err != nil {
		return nil, err
	}
	moves, err := i.movementPanel(view)
	if err != nil {
		return nil, err
	}
	proj, err := i.projectionPanel(view)
	if err != nil {
		return nil, err
	}
	fig := plot.NewFigure(2, got.trainLoss, got.testLoss, got.testAcc, got.change, moves, proj)
	fig.Title = got.title
	summary += "\n**Parameter space.**\n\n" + ClaimsTable(claims)
	return &Outcome{Figure: fig, Summary: summary, Claims: append(got.claims, claims...)}, nil
}

// Run implements Figure.
func (i *Intermittent) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, i)
}

// movements measures analysis.WindowMovement of each seed's run of an arm.
func (i *Intermittent) movements(view *experiment.Result, arm string) ([]analysis.Movement, error) {
	var out []analysis.Movement
	for _, t := range view.Arm(arm) {
		m, err := analysis.WindowMovement(t.Steps, t.Iterates, i.Steps, i.resets().Resets(i.Steps))
		if err != nil {
			return nil, fmt.Errorf("figures: %s: %s, seed %d: %w", i.ID(), arm, t.Seed, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// movementClaims: late in each window the intermittent iterates move less than forward's, seed by seed (the
// claim); reported beside it, how far apart its window end points are, against its late movement and against
// forward's iterates at the same steps (about as far: the points it locks onto lie among forward's iterates).
// In parameter space the ratio is nearer 1 than the loss curves' change ratios (quick scale: 0.85, every seed
// 0.80–0.90, against 0.19): what still moves late in a window changes the loss little, presumably along
// directions of low curvature, where the maps barely contract (not measured here).
func (i *Intermittent) movementClaims(view *experiment.Result) ([]Claim, error) {
	fwd, err := i.movements(view, "forward")
	if err != nil {
		return nil, err
	}
	name := order.Intermittent{Resets: i.resets()}.Name()
	its, err := i.movements(view, name)
	if err != nil {
		return nil, err
	}
	late, jumps, ends, fJumps := make([]float64, len(its)), make([]float64, len(its)), make([]float64, len(its)),
		make([]float64, len(its))
	var iLate, fLate, iJump, fJump float64
	for k := range its {
		late[k], jumps[k] = its[k].Late/fwd[k].Late, its[k].Jump/its[k].Late
		ends[k], fJumps[k] = its[k].Jump/fwd[k].Jump, fwd[k].Jump/fwd[k].Late
		iLate, fLate, iJump, fJump = iLate+its[k].Late, fLate+fwd[k].Late, iJump+its[k].Jump, fJump+fwd[k].Jump
	}
	half := fmt.Sprintf("between evaluations %d steps apart in the second half of each window after the first",
		i.ViewEvery)
	return []Claim{
		below(name+"/late-movement-ratio", fmt.Sprintf("mean ‖Δθ‖ %s, %s ÷ forward", half, name), iLate/fLate, 1).
			perSeed(late),
		reported(name+"/reset-jump-ratio", fmt.Sprintf("distance between consecutive window end points ÷ the late "+
			"mean ‖Δθ‖, %s", name), iJump/iLate).perSeed(jumps),
		reported("forward/reset-jump-ratio", "the same for forward (the same steps)", fJump/fLate).perSeed(fJumps),
		reported(name+"/end-point-distance-ratio", fmt.Sprintf("distance between consecutive window end points, "+
			"%s ÷ forward's iterates at the same steps", name), iJump/fJump).perSeed(ends),
	}, nil
}

// movementPanel draws ‖θ_{s_k} − θ_{s_{k−1}}‖ between the view's evaluations, the mean over seeds per order,
// with the resets marked: the intermittent order's falls within each window, forward's stays level.
func (i *Intermittent) movementPanel(view *experiment.Result) (*plot.Panel, error) {
	p := plot.NewPanel(fmt.Sprintf("movement of θ between evaluations %d steps apart, mean over seeds", i.ViewEvery),
		"step", "‖Δθ‖").LogY()
	for _, a := range view.Spec.Arms {
		var sizes [][]float64
		var at []int
		for _, t := range view.Arm(a.Label()) {
			s, x := t.StepSizes()
			at, sizes = s, append(sizes, x)
		}
		mean, _, _ := analysis.MeanStd(sizes)
		if err := p.Line(a.Label(), floats(at), mean, 1.5); err != nil {
			return nil, err
		}
	}
	p.Marks("reset", floats(i.resets().Resets(i.Steps))...)
	return p, nil
}

// projectionPanel draws the first seed's iterates from the end of the first window on, in the plane of the two
// principal directions of forward's iterates (each coordinate's linear trend over the steps, which both runs
// share, removed first; explore.ProjectOn): forward's path, and the intermittent order's with each window's end
// point marked. The end points lie among forward's iterates, as far apart as them.
func (i *Intermittent) projectionPanel(view *experiment.Result) (*plot.Panel, error) {
	seed := view.Spec.Seeds[0]
	var late []*experiment.Trajectory // forward first
	for _, a := range view.Spec.Arms {
		// From the end of the first window on: Late keeps the steps after the fraction's.
		late = append(late, view.Trajectory(a.Label(), seed).Late((float64(i.Window)-0.5)/float64(i.Steps)))
	}
	late = detrended(late)
	pr, err := explore.ProjectOn(late[:1], late)
	if err != nil {
		return nil, fmt.Errorf("figures: %s: %w", i.ID(), err)
	}
	p := plot.NewPanel(fmt.Sprintf("seed %d's θ, steps %d–%d, on the two principal directions of forward's iterates "+
		"(trend removed)", seed, i.Window, i.Steps), "first direction", "second direction").Note(fmt.Sprintf(
		"%.0f%% and %.0f%% of the variance of forward's iterates", 100*pr.Explained[0], 100*pr.Explained[1]))
	for r, t := range pr.Runs {
		var xs, ys, endX, endY []float64
		for k, pt := range pr.Points[r] {
			xs, ys = append(xs, pt[0]), append(ys, pt[1])
			if t.Arm != "forward" && t.Steps[k]%i.Window == 0 {
				endX, endY = append(endX, pt[0]), append(endY, pt[1])
			}
		}
		if err := p.Line(t.Arm, xs, ys, 0.7); err != nil {
			return nil, err
		}
		if len(endX) > 0 {
			if err := p.Points(t.Arm+": window end points", endX, endY); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// detrended returns the trajectories with the least-squares line in the step through each coordinate of all
// their iterates subtracted: the slow descent the runs share, which would otherwise be the first principal
// direction and hide how the runs move around it.
func detrended(rs []*experiment.Trajectory) []*experiment.Trajectory {
	var n, sx, sxx float64
	for _, r := range rs {
		for _, s := range r.Steps {
			n, sx, sxx = n+1, sx+float64(s), sxx+float64(s)*float64(s)
		}
	}
	d := len(rs[0].Iterates[0])
	sy, sxy := make([]float64, d), make([]float64, d)
	for _, r := range rs {
		for k, th := range r.Iterates {
			for j, v := range th {
				sy[j] += v
				sxy[j] += float64(r.Steps[k]) * v
			}
		}
	}
	out := make([]*experiment.Trajectory, len(rs))
	for i, r := range rs {
		c := *r
		c.Iterates = make([][]float64, len(r.Iterates))
		for k, th := range r.Iterates {
			x := float64(r.Steps[k])
			c.Iterates[k] = make([]float64, d)
			for j, v := range th {
				slope := (n*sxy[j] - sx*sy[j]) / (n*sxx - sx*sx)
				c.Iterates[k][j] = v - (sy[j]-slope*sx)/n - slope*x
			}
		}
		out[i] = &c
	}
	return out
}
