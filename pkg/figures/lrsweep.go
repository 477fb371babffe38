package figures

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
)

// LRSweep is fashion-mlp's comparison over the paper's range of learning rates on FashionMNIST (0.00025 to
// 0.025): forward against backward SGD at each h, and how the late fluctuation of the test loss, the change
// ratio and the test accuracy at N depend on h. At a small h the curves are still descending at N (their late
// change is mostly trend), which the figure measures and says, rather than a claim.
type LRSweep struct {
	Scale Scale
	// Base is the classification experiment swept; its learning rate H is replaced by each of Hs.
	Base *Classification
	// Hs are the learning rates, increasing.
	Hs []float64
}

func lrSweepSettings(s Scale) *LRSweep {
	base := fashionVariantSettings(s)
	base.Name, base.Paper = "lr-sweep", "FashionMNIST experiments (learning rates)"
	return &LRSweep{Scale: s, Base: base, Hs: []float64{0.00025, 0.0008, 0.0025, 0.008, 0.025}}
}

// ID implements Figure.
func (l *LRSweep) ID() string { return l.Base.Name }

// Settings implements Figure.
func (l *LRSweep) Settings() string {
	hs := make([]string, len(l.Hs))
	for i, h := range l.Hs {
		hs[i] = fmt.Sprintf("%g", h)
	}
	return fmt.Sprintf("**%s** (%s): fashion-mlp's experiment at each learning rate h in {%s}, the paper's range; "+
		"one experiment per h, on the same seeds. At h = %g: %s", l.ID(), l.Base.Paper, strings.Join(hs, ", "),
		l.Hs[len(l.Hs)-1], l.part(l.Hs[len(l.Hs)-1]).Settings())
}

// Line implements Figure.
func (l *LRSweep) Line() string {
	line := l.part(l.Hs[0]).Line()
	return strings.Replace(line, fmt.Sprintf("h = %g", l.Hs[0]), fmt.Sprintf("h from %g to %g", l.Hs[0],
		l.Hs[len(l.Hs)-1]), 1)
}

// Override implements Figure: steps, interval and seeds of every experiment; the orders are forward and
// backward.
func (l *LRSweep) Override(o Overrides) error {
	if err := notApplicable(l.ID(), o, false, true, "the figure compares forward and backward at each h"); err != nil {
		return err
	}
	return l.Base.Override(o)
}

// part is the experiment at learning rate h.
func (l *LRSweep) part(h float64) *Classification {
	c := *l.Base
	c.H, c.Rule, c.Orders = h, nil, nil
	return &c
}

// Experiments implements Recipe: one per learning rate.
func (l *LRSweep) Experiments() ([]Experiment, error) {
	out := make([]Experiment, len(l.Hs))
	for i, h := range l.Hs {
		spec, err := l.part(h).experiment()
		if err != nil {
			return nil, err
		}
		out[i] = Experiment{fmt.Sprintf("h = %g: forward against backward", h), spec}
	}
	return out, nil
}

// Run implements Figure.
func (l *LRSweep) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, l)
}

// Draw implements Recipe: against h, the late roughness of the test loss per order, the change and roughness
// ratios backward ÷ forward, the test accuracy at N per order, and the share of the late change that is trend;
// the claims of each h are fashion-mlp's, prefixed "h=<h>/".
func (l *LRSweep) Draw(results []*experiment.Result) (*Outcome, error) {
	m, claims := l.measure(results)
	fig, err := l.panels(m)
	if err != nil {
		return nil, err
	}
	var summary strings.Builder
	summary.WriteString("| h | forward roughness | backward roughness | change ratio | roughness ratio | forward trend share | " +
		"forward accuracy at N | backward accuracy at N |\n|---|---|---|---|---|---|---|---|\n")
	f, b := m["forward"], m["backward"]
	for i, h := range l.Hs {
		fmt.Fprintf(&summary, "| %g | %.4g | %.4g | %.3g | %.3g | %.2f | %.4f ± %.4f | %.4f ± %.4f |\n", h,
			f["roughness"][i], b["roughness"][i], m["change ratio"]["ratio"][i], m["roughness ratio"]["ratio"][i],
			f["trend"][i], f["accuracy"][i], f["accuracy spread"][i], b["accuracy"][i], b["accuracy spread"][i])
	}
	summary.WriteString("\n" + ClaimsTable(claims))
	return &Outcome{Figure: fig, Summary: summary.String(), Claims: claims}, nil
}

// sweep holds the measures of a sweep: series name (an order, "change ratio" or "roughness ratio") → measure →
// one value per h.
type sweep map[string]map[string][]float64

func (s sweep) add(name, measure string, v float64) {
	if s[name] == nil {
		s[name] = map[string][]float64{}
	}
	s[name][measure] = append(s[name][measure], v)
}

// measure returns the sweep's measures and the claims of every h.
func (l *LRSweep) measure(results []*experiment.Result) (sweep, []Claim) {
	w := analysis.LateWindow(l.Base.Steps, nil)
	m := sweep{}
	var claims []Claim
	for i, res := range results {
		h := l.Hs[i]
		for _, c := range l.part(h).claims(res) {
			switch c.ID {
			case "backward/test-loss-change-ratio":
				m.add("change ratio", "ratio", c.Value)
			case "backward/test-loss-roughness-ratio":
				m.add("roughness ratio", "ratio", c.Value)
			}
			c.ID = fmt.Sprintf("h=%g/%s", h, c.ID)
			c.Statement = fmt.Sprintf("h = %g: %s", h, c.Statement)
			claims = append(claims, c)
		}
		for _, a := range res.Spec.Arms {
			name := a.Label()
			curves := testLossMetric.series(res.Arm(name))
			var r []float64
			for _, cv := range curves {
				r = append(r, analysis.Roughness(cv, w))
			}
			m.add(name, "roughness", analysis.Mean(r))
			m.add(name, "trend", meanTrendShare(curves, w))
			accs := testAccMetric.series(res.Arm(name))
			m.add(name, "accuracy", analysis.Mean(analysis.Lasts(accs)))
			m.add(name, "accuracy spread", analysis.LastSpread(accs))
		}
	}
	return m, claims
}

// panels draws the sweep's measures against h.
func (l *LRSweep) panels(m sweep) (*plot.Figure, error) {
	w := analysis.LateWindow(l.Base.Steps, nil)
	rough := plot.NewPanel(fmt.Sprintf("fluctuation of the test loss around its trend over %s, mean over seeds", w),
		"h", "mean |second difference|").LogX().LogY()
	ratio := plot.NewPanel("backward ÷ forward over the same steps (per-seed verdicts in the claims)", "h",
		"ratio").LogX()
	acc := plot.NewPanel("test accuracy at N, mean over seeds (band: ± one standard deviation)", "h",
		"accuracy").LogX().LegendBottom()
	trend := plot.NewPanel("share of the late change of the test loss that is net trend (above ½: still "+
		"descending)", "h", "trend share").LogX()
	ends := []float64{l.Hs[0], l.Hs[len(l.Hs)-1]}
	var errs []error
	for _, name := range []string{"forward", "backward"} {
		errs = append(errs, rough.Line(name, l.Hs, m[name]["roughness"], 1.5), trend.Line(name, l.Hs, m[name]["trend"], 1.5),
			acc.Band(name, l.Hs, m[name]["accuracy"], m[name]["accuracy spread"]))
	}
	for _, name := range []string{"change ratio", "roughness ratio"} {
		errs = append(errs, ratio.Line(name, l.Hs, m[name]["ratio"], 1.5))
	}
	errs = append(errs, ratio.Dashed("1 (no difference)", ends, []float64{1, 1}), trend.Dashed("½", ends, []float64{0.5, 0.5}))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return plot.NewFigure(2, rough, ratio, acc, trend), nil
}
