package figures

import (
	"fmt"
	"math"

	"github.com/revsgd/revsgd/pkg/experiment"
)

// The paper's central claim, as numbers: late in a run, the curves of a backward-type order move less between
// evaluations than the forward ones (they converge to a point, forward SGD only in distribution). These
// functions measure it on the curves of an experiment.

// metric selects one evaluated quantity of a curve.
type metric struct {
	id, name string
	of       func(*experiment.Curve) []float64
}

var (
	trainLossMetric = metric{"train-loss", "training loss", func(c *experiment.Curve) []float64 { return c.TrainLoss }}
	testLossMetric  = metric{"test-loss", "test loss", func(c *experiment.Curve) []float64 { return c.TestLoss }}
	testAccMetric   = metric{"test-accuracy", "test accuracy", func(c *experiment.Curve) []float64 { return c.TestAccuracy }}
)

// window is a range of evaluated steps (From, To]; its changes are those between an evaluation and the previous
// one, counted at the later step.
type window struct{ From, To float64 }

func (w window) String() string { return fmt.Sprintf("steps %g–%g", w.From, w.To) }

// lateWindow is where the curves are compared: after the last mark (a late switch, the last reset), else the
// second half of the run.
func lateWindow(steps int, marks []int) window {
	if len(marks) > 0 {
		return window{float64(marks[len(marks)-1]), float64(steps)}
	}
	return window{float64(steps) / 2, float64(steps)}
}

// meanChange is the mean of |y_k − y_{k−1}| over the evaluations k whose step lies in w; NaN when none does.
func meanChange(steps []int, ys []float64, w window) float64 {
	sum, n := 0.0, 0
	for k := 1; k < len(ys); k++ {
		if s := float64(steps[k]); s > w.From && s <= w.To {
			sum += math.Abs(ys[k] - ys[k-1])
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// changeRatio compares how much the curves of two orders move in w: the mean over seeds of the mean change of
// o's curves divided by that of the reference's, and the same ratio seed by seed (curves are paired by seed).
func changeRatio(o, ref []*experiment.Curve, m metric, w window) (ratio float64, perSeed []float64) {
	var num, den float64
	for i := range o {
		a, b := meanChange(o[i].Steps, m.of(o[i]), w), meanChange(ref[i].Steps, m.of(ref[i]), w)
		num, den = num+a, den+b
		perSeed = append(perSeed, a/b)
	}
	return num / den, perSeed
}

// changeClaims states the central claim for every order against forward, for each metric: the late-window mean
// change, order ÷ forward, predicted below 1; and, reported whichever way it goes, each order's spread across
// seeds of the last test loss (backward seeds may settle on different points, so this spread need not shrink).
func changeClaims(res *experiment.Result, w window, metrics ...metric) []Claim {
	fwd := res.Order("forward")
	var claims []Claim
	for _, o := range res.Spec.Orders {
		name := o.Name()
		if name == "forward" {
			continue
		}
		for _, m := range metrics {
			r, seeds := changeRatio(res.Order(name), fwd, m, w)
			claims = append(claims, below(name+"/"+m.id+"-change-ratio",
				fmt.Sprintf("mean change of the %s between evaluations over %s, %s ÷ forward", m.name, w, name),
				r, 1).perSeed(seeds))
		}
	}
	for _, o := range res.Spec.Orders {
		name := o.Name()
		claims = append(claims, reported(name+"/test-loss-spread",
			fmt.Sprintf("standard deviation across seeds of the last test loss, %s", name),
			lastSpread(res.Order(name), testLossMetric)))
	}
	return claims
}

// lastSpread is the standard deviation across seeds (n − 1 in the denominator) of a metric's last value.
func lastSpread(curves []*experiment.Curve, m metric) float64 {
	var xs []float64
	for _, c := range curves {
		ys := m.of(c)
		xs = append(xs, ys[len(ys)-1])
	}
	if len(xs) < 2 {
		return math.NaN()
	}
	mu := 0.0
	for _, x := range xs {
		mu += x / float64(len(xs))
	}
	v := 0.0
	for _, x := range xs {
		v += (x - mu) * (x - mu) / float64(len(xs)-1)
	}
	return math.Sqrt(v)
}

// windowDecline measures how the changes fall within the windows between resets: over the windows that start at
// a reset (marks, the last one ending at steps; the first window, which starts with the fast early descent, is
// left out), the mean change of the test loss in the second half of each window divided by that in
// the first half; per seed as well. Below 1 means the curves settle within a window.
func windowDecline(curves []*experiment.Curve, steps int, marks []int) (ratio float64, perSeed []float64) {
	bounds := append(append([]int{}, marks...), steps)
	var num, den float64
	for _, c := range curves {
		var a, b float64
		for i := 1; i < len(bounds); i++ {
			lo, hi := float64(bounds[i-1]), float64(bounds[i])
			mid := (lo + hi) / 2
			first, second := meanChange(c.Steps, c.TestLoss, window{lo, mid}), meanChange(c.Steps, c.TestLoss, window{mid, hi})
			if !math.IsNaN(first) && !math.IsNaN(second) {
				a, b = a+second, b+first
			}
		}
		num, den = num+a, den+b
		perSeed = append(perSeed, a/b)
	}
	return num / den, perSeed
}
