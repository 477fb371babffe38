package analysis

import "math"

// Stopping rules: when to stop training, read off a curve evaluated at steps n_0 < n_1 < … (values v_k).

// SettledStop is a stopping rule for backward curves, which needs no held-out data: it stops at the first
// evaluation k where the changes Δ_j = |v_j − v_{j−1}| of the curve over the last window evaluations are, on
// average, at most the fraction tol of its value |v_k|. It returns k, or −1 when the rule never stops.
//
// Why it suits backward SGD: backward iterates converge to a point, so the changes of any smooth function of
// them between evaluations tend to 0 and the rule stops for any tol > 0 (for a curve converging geometrically,
// v_k = v* + C q^k, the mean change over the window is C q^{k−w}(1 − q^w)/w, and what is left to move, C q^k, is
// at most q^w/(1 − q^w)·w times it). Forward iterates only converge in distribution: their changes stay at the
// level of the gradient noise, and the rule stops on a forward curve only if tol is above that level. The
// stopping figure measures both.
func SettledStop(values []float64, tol float64, window int) int {
	if window < 1 {
		window = 1
	}
	for k := window; k < len(values); k++ {
		mean := 0.0
		for j := k - window + 1; j <= k; j++ {
			mean += math.Abs(values[j]-values[j-1]) / float64(window)
		}
		if mean <= tol*math.Abs(values[k]) {
			return k
		}
	}
	return -1
}

// EarlyStop is validation-based early stopping with patience, on a validation curve: training stops at the first
// evaluation k (decided) after which the best value so far has not improved for patience evaluations, and the
// iterate kept is the best one (best, the index of the smallest value up to decided). When patience never runs
// out, decided is −1 and best is the smallest value of the whole curve.
func EarlyStop(values []float64, patience int) (best, decided int) {
	best = -1
	for k, v := range values {
		if math.IsNaN(v) {
			continue
		}
		if best < 0 || v < values[best] {
			best = k
		}
		if k-best >= patience {
			return best, k
		}
	}
	return best, -1
}
