package figures

import (
	"fmt"
	"math"

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
// change, order ÷ forward, predicted below 1, with the reason it may not hold when the curves are still
// descending (their late change is mostly trend). On the test loss also: the roughness ratio (analysis.Roughness:
// the fluctuation around the trend, which a still-descending curve does not inflate), predicted below 1; and,
// reported whichever way they go, the trend shares, the test loss at N order ÷ forward (faster convergence: below
// 1), the test accuracy at N (no loss of generalisation) and each order's spread across seeds of the last test
// loss (backward seeds may settle on different points, so this spread need not shrink).
func changeClaims(res *experiment.Result, w analysis.Window, metrics ...metric) []Claim {
	fwd := res.Arm("forward")
	fwdTrend := meanTrendShare(testLossMetric.series(fwd), w)
	var claims []Claim
	for _, a := range res.Spec.Arms {
		name := a.Label()
		if name == "forward" {
			continue
		}
		trend := meanTrendShare(testLossMetric.series(res.Arm(name)), w)
		for _, m := range metrics {
			r, seeds := analysis.ChangeRatio(m.series(res.Arm(name)), m.series(fwd), w)
			c := below(name+"/"+m.id+"-change-ratio",
				fmt.Sprintf("mean change of the %s between evaluations over %s, %s ÷ forward", m.name, w, name),
				r, 1).perSeed(seeds)
			if max(fwdTrend, trend) > 0.5 {
				c.Why = fmt.Sprintf("the test loss is still descending over %s: %.0f%% of forward's late change of it and "+
					"%.0f%% of %s's is net trend, not fluctuation (the roughness ratio below ignores the trend)",
					w, 100*fwdTrend, 100*trend, name)
			}
			claims = append(claims, c)
		}
		tl, ftl := testLossMetric.series(res.Arm(name)), testLossMetric.series(fwd)
		r, seeds := analysis.RoughnessRatio(tl, ftl, w)
		claims = append(claims,
			below(name+"/test-loss-roughness-ratio", fmt.Sprintf("mean |second difference| of the test loss over %s "+
				"(fluctuation around the trend), %s ÷ forward", w, name), r, 1).perSeed(seeds),
			reported(name+"/test-loss-trend-share", fmt.Sprintf("share of the late change of the test loss that is net "+
				"trend, %s (mean over seeds)", name), trend))
		lasts, fLasts := analysis.Lasts(tl), analysis.Lasts(ftl)
		ratios := make([]float64, len(lasts))
		for i := range lasts {
			ratios[i] = lasts[i] / fLasts[i]
		}
		claims = append(claims, reported(name+"/test-loss-at-N-ratio", fmt.Sprintf("test loss at N, %s ÷ forward "+
			"(below 1: %s has converged further)", name, name), analysis.Mean(lasts)/analysis.Mean(fLasts)).perSeed(ratios))
	}
	claims = append(claims, reported("forward/test-loss-trend-share", "share of the late change of the test loss "+
		"that is net trend, forward (mean over seeds)", fwdTrend))
	for _, a := range res.Spec.Arms {
		name := a.Label()
		claims = append(claims, reported(name+"/test-loss-spread",
			fmt.Sprintf("standard deviation across seeds of the last test loss, %s", name),
			analysis.LastSpread(testLossMetric.series(res.Arm(name)))))
		if acc := testAccMetric.series(res.Arm(name)); len(acc) > 0 && len(acc[0].Values) > 0 {
			lasts := analysis.Lasts(acc)
			claims = append(claims, reported(name+"/test-accuracy-at-N", fmt.Sprintf("test accuracy at N, %s (mean "+
				"over seeds; spread %.3g)", name, analysis.LastSpread(acc)), analysis.Mean(lasts)).perSeed(lasts))
		}
	}
	return claims
}

// meanTrendShare is the mean over curves of analysis.TrendShare in w (NaN curves left out).
func meanTrendShare(curves []analysis.Series, w analysis.Window) float64 {
	var xs []float64
	for _, c := range curves {
		if v := analysis.TrendShare(c, w); !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	return analysis.Mean(xs)
}
