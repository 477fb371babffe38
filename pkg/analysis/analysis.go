// Package analysis computes statistics of iterates and curves across seeds: where runs converge and how much
// they spread.
package analysis

import (
	"fmt"
	"math"
)

// MeanStd returns, step by step, the mean and the sample standard deviation across runs: runs[s][k] is run s's
// value at step k, and all runs must have the same length. With one run the deviation is zero.
func MeanStd(runs [][]float64) (mean, std []float64, err error) {
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("analysis: no runs")
	}
	n := len(runs[0])
	for s, r := range runs {
		if len(r) != n {
			return nil, nil, fmt.Errorf("analysis: run %d has %d values, run 0 has %d", s, len(r), n)
		}
	}
	mean, std = make([]float64, n), make([]float64, n)
	for k := range n {
		for _, r := range runs {
			mean[k] += r[k]
		}
		mean[k] /= float64(len(runs))
		if len(runs) > 1 {
			for _, r := range runs {
				d := r[k] - mean[k]
				std[k] += d * d
			}
			std[k] = math.Sqrt(std[k] / float64(len(runs)-1))
		}
	}
	return mean, std, nil
}

// Mean returns the arithmetic mean of xs.
func Mean(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	return m / float64(len(xs))
}

// Variance returns the sample variance of xs (n − 1 in the denominator).
func Variance(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return v / float64(len(xs)-1)
}

// NormalDensity returns the density of N(mean, variance).
func NormalDensity(mean, variance float64) func(float64) float64 {
	return func(x float64) float64 {
		return math.Exp(-(x-mean)*(x-mean)/(2*variance)) / math.Sqrt(2*math.Pi*variance)
	}
}

// QuadraticStationaryVariance is hσ²/(2−h), the variance of the forward stationary law of SGD on the quadratic
// ½(θ − ε)², ε ~ N(0, σ²), with learning rate h; the backward limit θ* = h Σ_k (1−h)^{k−1} ε_k has the same law.
func QuadraticStationaryVariance(h, sigma float64) float64 { return h * sigma * sigma / (2 - h) }
