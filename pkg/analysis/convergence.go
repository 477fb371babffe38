package analysis

import (
	"fmt"
	"math"
)

// StepSizes returns ‖θ_{k+1} − θ_k‖ between consecutive iterates.
func StepSizes(iterates [][]float64) []float64 {
	out := make([]float64, 0, max(len(iterates)-1, 0))
	for k := 1; k < len(iterates); k++ {
		out = append(out, Distance(iterates[k], iterates[k-1]))
	}
	return out
}

// Distance returns the Euclidean distance ‖a − b‖.
func Distance(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(d)
}

// DistancesTo returns ‖θ_k − point‖ for each iterate, e.g. the distance of forward iterates to a backward limit.
func DistancesTo(iterates [][]float64, point []float64) []float64 {
	out := make([]float64, len(iterates))
	for k, th := range iterates {
		out[k] = Distance(th, point)
	}
	return out
}

// Spread returns, step by step, the spread of iterates across seeds: the mean squared distance to their mean
// (the trace of their covariance, n − 1 in the denominator). runs[s][k] is seed s's iterate at step k.
func Spread(runs [][][]float64) ([]float64, error) {
	if len(runs) < 2 {
		return nil, fmt.Errorf("analysis: the spread across seeds needs at least two runs, got %d", len(runs))
	}
	steps := len(runs[0])
	for s, r := range runs {
		if len(r) != steps {
			return nil, fmt.Errorf("analysis: run %d has %d iterates, run 0 has %d", s, len(r), steps)
		}
	}
	out := make([]float64, steps)
	for k := range steps {
		dim := len(runs[0][k])
		mean := make([]float64, dim)
		for _, r := range runs {
			for i, v := range r[k] {
				mean[i] += v / float64(len(runs))
			}
		}
		for _, r := range runs {
			d := Distance(r[k], mean)
			out[k] += d * d
		}
		out[k] /= float64(len(runs) - 1)
	}
	return out, nil
}

// Limit is the estimated limit point of a converging (backward) run.
type Limit struct {
	// Point is the estimate of the limit θ*: the last iterate. Further steps move in directions that depend on
	// batches not yet drawn, so no extrapolation beats it; Tail says how far θ* is expected to be.
	Point []float64
	// Rate is the fitted contraction per step ρ: step sizes decay like ρ^n.
	Rate float64
	// Tail estimates ‖θ* − θ_N‖ for the last evaluated step N: the root of the expected sum of the squared
	// remaining steps, c² ρ^{2N} / (1 − ρ²), with c ρ^n the fitted step size.
	Tail float64
	// Distances estimates ‖θ* − θ_{s_k}‖ for every evaluated step s_k: √(‖θ_N − θ_{s_k}‖² + Tail²).
	Distances []float64
	// Converging is false when the step sizes do not decay (ρ ≥ 1); Tail and Distances are then +Inf.
	Converging bool
}

// BackwardLimit estimates where a run converges from its iterates at increasing steps (at least three).
//
// Model: the step from θ_n to θ_{n+1} has a random direction and a size that decays geometrically, E‖θ_{n+1} −
// θ_n‖² = c² ρ^{2n}, as for backward SGD near a minimum (on the quadratic, θ_{n+1} − θ_n = h(1−h)^n (ε_{n+1} −
// θ_0) exactly). Between evaluated steps s_k < s_{k+1} the squared displacement is then c² ρ^{2 s_k} (1 −
// ρ^{2Δ})/(1 − ρ²), Δ = s_{k+1} − s_k; log c and log ρ are fitted by least squares on the logarithm of the
// displacements over the second half of the evaluated steps, where the geometric regime holds, and c² as the mean
// of the squared displacements divided by their modelled decay over the later half of that window.
func BackwardLimit(steps []int, iterates [][]float64) (Limit, error) {
	if len(steps) != len(iterates) || len(steps) < 3 {
		return Limit{}, fmt.Errorf("analysis: need at least three evaluated steps with their iterates, got %d steps and %d iterates",
			len(steps), len(iterates))
	}
	for k := 1; k < len(steps); k++ {
		if steps[k] <= steps[k-1] {
			return Limit{}, fmt.Errorf("analysis: steps must increase, got %d after %d", steps[k], steps[k-1])
		}
	}
	last := len(steps) - 1
	lim := Limit{Point: iterates[last]}
	var (
		xs, ys []float64
		deltas []int // spacing to the next evaluated step
	)
	for k := last / 2; k < last; k++ {
		if d := Distance(iterates[k+1], iterates[k]); d > 0 {
			xs = append(xs, float64(steps[k]))
			ys = append(ys, math.Log(d))
			deltas = append(deltas, steps[k+1]-steps[k])
		}
	}
	rho, c2 := 1.0, 0.0
	if len(xs) >= 2 {
		// ρ from the slope of the log displacements; the spacing correction depends on ρ (it vanishes for unit
		// spacing), hence a few fixed-point rounds.
		rho = math.Exp(Slope(xs, ys))
		for range 5 {
			adj := make([]float64, len(ys))
			for j := range xs {
				adj[j] = ys[j] - 0.5*math.Log(spacingFactor(rho, deltas[j]))
			}
			rho = math.Exp(Slope(xs, adj))
		}
		// c² as the mean of the normalised squared displacements, not from the intercept: the mean of log‖Δ‖
		// sits below log √E‖Δ‖² (for Gaussian steps in one dimension by (γ + ln 2)/2).
		// Over the later half of the window only: the level at the last step is then extrapolated over few steps,
		// so an error in ρ matters little.
		late := xs[len(xs)/2:]
		for j, n := range late {
			j += len(xs) / 2
			d := math.Exp(ys[j])
			c2 += d * d / (math.Pow(rho, 2*n) * spacingFactor(rho, deltas[j])) / float64(len(late))
		}
	}
	lim.Rate = rho
	lim.Converging = rho < 1
	lim.Distances = make([]float64, len(steps))
	if !lim.Converging {
		lim.Tail = math.Inf(1)
		for k := range lim.Distances {
			lim.Distances[k] = math.Inf(1)
		}
		return lim, nil
	}
	n := float64(steps[last])
	lim.Tail = math.Sqrt(c2*math.Pow(rho, 2*n)) / math.Sqrt(1-rho*rho)
	for k := range steps {
		d := Distance(iterates[last], iterates[k])
		lim.Distances[k] = math.Sqrt(d*d + lim.Tail*lim.Tail)
	}
	return lim, nil
}

// spacingFactor is Σ_{j<Δ} ρ^{2j} = (1 − ρ^{2Δ})/(1 − ρ²): the squared displacement over Δ steps in units of
// the first step's.
func spacingFactor(rho float64, delta int) float64 {
	if math.Abs(1-rho*rho) < 1e-12 {
		return float64(delta)
	}
	return (1 - math.Pow(rho, 2*float64(delta))) / (1 - rho*rho)
}

// Slope is the least-squares slope of ys against xs.
func Slope(xs, ys []float64) float64 {
	mx, my := Mean(xs), Mean(ys)
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

// LogLogSlope is the least-squares slope of log ys against log xs: the order p of a power law y ∝ x^p.
func LogLogSlope(xs, ys []float64) float64 {
	lx, ly := make([]float64, len(xs)), make([]float64, len(ys))
	for i := range xs {
		lx[i], ly[i] = math.Log(xs[i]), math.Log(ys[i])
	}
	return Slope(lx, ly)
}

// PointSpread is the root-mean-square distance of points to their mean (n in the denominator): how far apart the
// seeds' final iterates lie.
func PointSpread(points [][]float64) float64 {
	mean := make([]float64, len(points[0]))
	for _, p := range points {
		for i, v := range p {
			mean[i] += v / float64(len(points))
		}
	}
	s := 0.0
	for _, d := range DistancesTo(points, mean) {
		s += d * d / float64(len(points))
	}
	return math.Sqrt(s)
}

// MeanDistance is the mean over pairs of ‖a_i − b_i‖: how far one method's final iterates lie from another's,
// seed by seed.
func MeanDistance(a, b [][]float64) float64 {
	s := 0.0
	for i := range a {
		s += Distance(a[i], b[i]) / float64(len(a))
	}
	return s
}

// Median is the median of xs (the middle order statistic, or the mean of the two middle ones).
func Median(xs []float64) float64 { return Quantiles(xs, 1)[0] }

// Movement is how far one run's iterates move between resets (the windows (t_{i−1}, t_i] of an intermittent
// order, t_0 = 0 and the last window ending at N), measured on iterates evaluated at steps that include every
// window's end.
type Movement struct {
	// Late is the mean ‖θ_{s_k} − θ_{s_{k−1}}‖ over the pairs of consecutive evaluations that both lie in the
	// second half of a window, the first window (the early descent) left out: how much the run still moves
	// late in a window. A backward composition restarted at t_{i−1} settles on a point there; forward SGD keeps
	// moving at its noise level.
	Late float64
	// Jump is the mean distance between the iterates at consecutive window ends, ‖θ_{t_{i+1}} − θ_{t_i}‖ for
	// i ≥ 1: how far the run moves from one window's end point to the next.
	Jump float64
}

// WindowMovement measures the Movement of iterates evaluated at steps (increasing) of a run of n steps with
// resets at the given steps. It is an error when a window's end is not evaluated or when fewer than two
// windows after the first have a pair of evaluations in their second half: evaluate at steps that divide the
// windows, at least twice in each half.
func WindowMovement(steps []int, iterates [][]float64, n int, resets []int) (Movement, error) {
	if len(steps) != len(iterates) {
		return Movement{}, fmt.Errorf("analysis: %d steps and %d iterates", len(steps), len(iterates))
	}
	at := make(map[int]int, len(steps))
	for k, s := range steps {
		at[s] = k
	}
	bounds := append(append([]int{0}, resets...), n)
	var late, jump []float64
	lateWindows := 0
	for i := 2; i < len(bounds); i++ {
		lo, hi := bounds[i-1], bounds[i]
		mid := float64(lo+hi) / 2
		pairs := 0
		for k := 1; k < len(steps); k++ {
			if float64(steps[k-1]) >= mid && steps[k] <= hi {
				late = append(late, Distance(iterates[k], iterates[k-1]))
				pairs++
			}
		}
		if pairs > 0 {
			lateWindows++
		}
		a, okA := at[lo]
		b, okB := at[hi]
		if !okA || !okB {
			return Movement{}, fmt.Errorf("analysis: the window (%d, %d] has an end that is not evaluated; "+
				"evaluate at steps that include every reset and N", lo, hi)
		}
		jump = append(jump, Distance(iterates[b], iterates[a]))
	}
	if lateWindows < 2 {
		return Movement{}, fmt.Errorf("analysis: %d windows after the first have two evaluations in their second "+
			"half (resets %v, N = %d); at least 2 are needed: evaluate more often or run more windows",
			lateWindows, resets, n)
	}
	return Movement{Late: Mean(late), Jump: Mean(jump)}, nil
}
