package figures

import (
	"fmt"

	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/experiment"
)

// The paper's central claim on the curves of an experiment: late in a run, the curves of a backward-type order
// move less between evaluations than the forward ones (the measures are analysis.MeanChange and its kin).

// metric selects one evaluated quantity of a curve.
type metric struct {
	id, name string
	of       func(*experiment.Trajectory) []float64
}

var (
	trainLossMetric = metric{"train-loss", "training loss", func(c *experiment.Trajectory) []float64 { return c.TrainLoss }}
	testLossMetric  = metric{"test-loss", "test loss", func(c *experiment.Trajectory) []float64 { return c.TestLoss }}
	testAccMetric   = metric{"test-accuracy", "test accuracy", func(c *experiment.Trajectory) []float64 { return c.TestAccuracy }}
)

// series returns the metric's evaluated curve of each run.
func (m metric) series(curves []*experiment.Trajectory) []analysis.Series {
	out := make([]analysis.Series, len(curves))
	for i, c := range curves {
		out[i] = analysis.Series{Steps: c.Steps, Values: m.of(c)}
	}
	return out
}

// changeClaims states the central claim for every order against forward, for each metric: the late-window mean
// change, order ÷ forward, predicted below 1; and, reported whichever way it goes, each order's spread across
// seeds of the last test loss (backward seeds may settle on different points, so this spread need not shrink).
func changeClaims(res *experiment.Result, w analysis.Window, metrics ...metric) []Claim {
	fwd := res.Arm("forward")
	var claims []Claim
	for _, a := range res.Spec.Arms {
		name := a.Label()
		if name == "forward" {
			continue
		}
		for _, m := range metrics {
			r, seeds := analysis.ChangeRatio(m.series(res.Arm(name)), m.series(fwd), w)
			claims = append(claims, below(name+"/"+m.id+"-change-ratio",
				fmt.Sprintf("mean change of the %s between evaluations over %s, %s ÷ forward", m.name, w, name),
				r, 1).perSeed(seeds))
		}
	}
	for _, a := range res.Spec.Arms {
		name := a.Label()
		claims = append(claims, reported(name+"/test-loss-spread",
			fmt.Sprintf("standard deviation across seeds of the last test loss, %s", name),
			analysis.LastSpread(testLossMetric.series(res.Arm(name)))))
	}
	return claims
}
