package analysis

import (
	"fmt"
	"math"
	"slices"

	"github.com/revsgd/revsgd/pkg/rng"
)

// KolmogorovSmirnov is the two-sample Kolmogorov–Smirnov test: D = sup_x |F_a(x) − F_b(x)| between the empirical
// distribution functions, and the asymptotic p-value P(K > √n_e D) with n_e = n_a n_b / (n_a + n_b) and K
// Kolmogorov's distribution, using Stephens' small-sample correction √n_e + 0.12 + 0.11/√n_e.
func KolmogorovSmirnov(a, b []float64) (d, p float64, err error) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, fmt.Errorf("analysis: Kolmogorov–Smirnov needs two non-empty samples, got %d and %d", len(a), len(b))
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	i, j := 0, 0
	for i < len(sa) && j < len(sb) {
		x := min(sa[i], sb[j])
		for i < len(sa) && sa[i] == x {
			i++
		}
		for j < len(sb) && sb[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(sa))-float64(j)/float64(len(sb))))
	}
	ne := float64(len(a)) * float64(len(b)) / float64(len(a)+len(b))
	return d, kolmogorovP(ne, d), nil
}

// KolmogorovSmirnovOneSample tests a sample against a continuous distribution function cdf: D = sup |F_n − cdf|
// and the asymptotic p-value with Stephens' correction √n + 0.12 + 0.11/√n.
func KolmogorovSmirnovOneSample(a []float64, cdf func(float64) float64) (d, p float64, err error) {
	if len(a) == 0 {
		return 0, 0, fmt.Errorf("analysis: Kolmogorov–Smirnov needs a non-empty sample")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	n := float64(len(s))
	for i, x := range s {
		f := cdf(x)
		d = max(d, math.Abs(float64(i+1)/n-f), math.Abs(f-float64(i)/n))
	}
	return d, kolmogorovP(n, d), nil
}

// kolmogorovP is the asymptotic p-value of a Kolmogorov–Smirnov statistic d for an effective sample size n, with
// Stephens' correction: P(K > (√n + 0.12 + 0.11/√n) d).
func kolmogorovP(n, d float64) float64 {
	return kolmogorovQ((math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * d)
}

// kolmogorovQ is P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}.
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	sum, sign := 0.0, 1.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-16 {
			break
		}
		sign = -sign
	}
	return min(1, max(0, 2*sum))
}

// NormalCDF returns the distribution function of N(mean, variance).
func NormalCDF(mean, variance float64) func(float64) float64 {
	sd := math.Sqrt(variance)
	return func(x float64) float64 { return 0.5 * math.Erfc(-(x-mean)/(sd*math.Sqrt2)) }
}

// EnergyDistance is the two-sample energy test for multivariate samples (Székely and Rizzo): the statistic
// E = 2 mean‖a−b‖ − mean‖a−a'‖ − mean‖b−b'‖ (zero exactly when the laws agree), scaled by n_a n_b/(n_a+n_b), and
// its permutation p-value over the given number of random relabellings drawn from rng.New(seed), counted as
// (1 + #{E_perm ≥ E}) / (1 + permutations).
func EnergyDistance(a, b [][]float64, permutations int, seed uint64) (e, p float64, err error) {
	na, nb := len(a), len(b)
	if na < 2 || nb < 2 || permutations < 1 {
		return 0, 0, fmt.Errorf("analysis: the energy test needs two samples of at least two points and permutations ≥ 1")
	}
	all := append(slices.Clone(a), b...)
	n := na + nb
	dist := make([]float64, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			d := Distance(all[i], all[j])
			dist[i*n+j], dist[j*n+i] = d, d
		}
	}
	stat := func(label []bool) float64 {
		var ab, aa, bb float64
		for i := range n {
			for j := range n {
				switch d := dist[i*n+j]; {
				case label[i] != label[j]:
					ab += d
				case label[i]:
					aa += d
				default:
					bb += d
				}
			}
		}
		ab /= 2 * float64(na*nb) // each cross pair counted twice
		return float64(na*nb) / float64(n) * (2*ab - aa/float64(na*na) - bb/float64(nb*nb))
	}
	label := make([]bool, n)
	for i := range na {
		label[i] = true
	}
	e = stat(label)
	src := rng.New(seed)
	exceed := 0
	for range permutations {
		perm := src.Perm(n)
		shuffled := make([]bool, n)
		for i, k := range perm {
			shuffled[i] = label[k]
		}
		if stat(shuffled) >= e {
			exceed++
		}
	}
	return e, float64(1+exceed) / float64(1+permutations), nil
}

// Quantiles returns the empirical quantiles of xs at probabilities (k − ½)/m, k = 1..m, by linear interpolation
// between order statistics: the points of a quantile–quantile plot.
func Quantiles(xs []float64, m int) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	out := make([]float64, m)
	for k := range m {
		pos := (float64(k)+0.5)/float64(m)*float64(len(s)) - 0.5
		lo := int(math.Floor(pos))
		frac := pos - float64(lo)
		lo = max(0, min(lo, len(s)-1))
		hi := min(lo+1, len(s)-1)
		out[k] = s[lo]*(1-frac) + s[hi]*frac
	}
	return out
}

// NormalQuantile returns the quantile function of N(mean, variance) at probability p in (0, 1).
func NormalQuantile(mean, variance, p float64) float64 {
	return mean + math.Sqrt(variance)*math.Sqrt2*math.Erfinv(2*p-1)
}
