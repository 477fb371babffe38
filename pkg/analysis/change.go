package analysis

import (
	"fmt"
	"math"
)

// The paper's central claim, as numbers: late in a run, the curves of a backward-type order move less between
// evaluations than the forward ones (they converge to a point, forward SGD only in distribution). These functions
// measure how much an evaluated curve moves, and compare two orders' curves seed by seed.

// Series is one evaluated curve: Values[k] is a quantity (a loss, an accuracy) measured after Steps[k] update
// maps, steps increasing.
type Series struct {
	Steps  []int
	Values []float64
}

// Window is a range of evaluated steps (From, To]. The changes in a window are those between an evaluation and
// the one before it, counted at the later evaluation's step.
type Window struct{ From, To float64 }

// String writes the window as "steps 300–600".
func (w Window) String() string { return fmt.Sprintf("steps %g–%g", w.From, w.To) }

// LateWindow is where curves are compared: after the last mark (a late switch, the last reset of an intermittent
// order), else the second half of a run of the given number of steps.
func LateWindow(steps int, marks []int) Window {
	if len(marks) > 0 {
		return Window{float64(marks[len(marks)-1]), float64(steps)}
	}
	return Window{float64(steps) / 2, float64(steps)}
}

// MeanChange is the mean of |y_k − y_{k−1}| over the evaluations k whose step lies in w; NaN when none does.
// A curve that has settled on a point changes little; one that fluctuates in distribution, or still descends,
// changes more.
func MeanChange(s Series, w Window) float64 {
	sum, n := 0.0, 0
	for k := 1; k < len(s.Values); k++ {
		if at := float64(s.Steps[k]); at > w.From && at <= w.To {
			sum += math.Abs(s.Values[k] - s.Values[k-1])
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// ChangeRatio compares how much two sets of curves move in w, paired by seed (a[i] and ref[i] share a seed): the
// mean over seeds of MeanChange of a divided by that of ref, and the same ratio seed by seed. Below 1, the curves
// of a move less.
func ChangeRatio(a, ref []Series, w Window) (ratio float64, perSeed []float64) {
	var num, den float64
	for i := range a {
		x, y := MeanChange(a[i], w), MeanChange(ref[i], w)
		num, den = num+x, den+y
		perSeed = append(perSeed, x/y)
	}
	return num / den, perSeed
}

// WindowDecline measures how curves settle within the windows between resets (marks, the last window ending at
// steps; the first window, which holds the fast early descent, is left out): the mean change in the second half
// of each window divided by that in its first half, summed over windows, as a mean over curves and curve by curve.
// Below 1, the curves settle within a window.
func WindowDecline(curves []Series, steps int, marks []int) (ratio float64, perSeed []float64) {
	bounds := append(append([]int{}, marks...), steps)
	var num, den float64
	for _, c := range curves {
		var a, b float64
		for i := 1; i < len(bounds); i++ {
			lo, hi := float64(bounds[i-1]), float64(bounds[i])
			mid := (lo + hi) / 2
			first, second := MeanChange(c, Window{lo, mid}), MeanChange(c, Window{mid, hi})
			if !math.IsNaN(first) && !math.IsNaN(second) {
				a, b = a+second, b+first
			}
		}
		num, den = num+a, den+b
		perSeed = append(perSeed, a/b)
	}
	return num / den, perSeed
}

// LastSpread is the standard deviation (n − 1 in the denominator) of the curves' last values: how far apart the
// seeds end. NaN for fewer than two curves.
func LastSpread(curves []Series) float64 {
	if len(curves) < 2 {
		return math.NaN()
	}
	xs := make([]float64, len(curves))
	for i, c := range curves {
		xs[i] = c.Values[len(c.Values)-1]
	}
	return math.Sqrt(Variance(xs))
}

// Roughness is the mean of |y_{k+1} − 2y_k + y_{k−1}| over the evaluations k whose step and both neighbours' lie
// in w (evaluations equally spaced); NaN when there are none. Unlike MeanChange it does not count a steady descent
// (a straight line has no second differences), so a curve that is still learning is not mistaken for one that
// fluctuates. Independent noise of standard deviation σ around a line gives E|ε₁ − 2ε₂ + ε₃| = √6·σ·√(2/π) ≈
// 1.95σ; a settled curve gives about 0.
func Roughness(s Series, w Window) float64 {
	sum, n := 0.0, 0
	for k := 1; k+1 < len(s.Values); k++ {
		lo, hi := float64(s.Steps[k-1]), float64(s.Steps[k+1])
		if lo >= w.From && hi <= w.To {
			sum += math.Abs(s.Values[k+1] - 2*s.Values[k] + s.Values[k-1])
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// RoughnessRatio is ChangeRatio with Roughness in place of MeanChange: how much curves fluctuate in w around
// their trend, a's over ref's, paired by seed.
func RoughnessRatio(a, ref []Series, w Window) (ratio float64, perSeed []float64) {
	var num, den float64
	for i := range a {
		x, y := Roughness(a[i], w), Roughness(ref[i], w)
		num, den = num+x, den+y
		perSeed = append(perSeed, x/y)
	}
	return num / den, perSeed
}

// TrendShare is the share of a curve's movement in w that is net trend: |y_last − y_first| over the sum of
// |y_k − y_{k−1}|, for the evaluations in w (the first being the one before the window's first change). It is 1
// for a monotone curve (still descending: its MeanChange is trend, not fluctuation) and near 0 for one that moves
// back and forth around a level; NaN when the curve does not move in w.
func TrendShare(s Series, w Window) float64 {
	first, last, total := -1, -1, 0.0
	for k := 1; k < len(s.Values); k++ {
		if at := float64(s.Steps[k]); at > w.From && at <= w.To {
			if first < 0 {
				first = k - 1
			}
			last = k
			total += math.Abs(s.Values[k] - s.Values[k-1])
		}
	}
	if first < 0 || total == 0 {
		return math.NaN()
	}
	return math.Abs(s.Values[last]-s.Values[first]) / total
}

// Lasts returns the last value of each curve.
func Lasts(curves []Series) []float64 {
	out := make([]float64, len(curves))
	for i, c := range curves {
		out[i] = c.Values[len(c.Values)-1]
	}
	return out
}
