package lie

import (
	"gonum.org/v1/gonum/floats"

	"github.com/revsgd/revsgd/pkg/rng"
)

// Sharpness estimates, for each of the first n batches, the eigenvalue of largest magnitude of its Hessian
// H_k = ∇²L_{B_k}(θ_0), by iters rounds of power iteration from a fixed random start (each round: n
// Hessian-vector products). It says where the expansions stop working: the maps' linear parts I − hH_k expand
// along an eigenvector once h|λ| > 2, and the linearised composition, their product, then grows geometrically;
// the series behind the second-order correction needs h|λ| well below 1.
func (x *Expansion) Sharpness(n, iters int) ([]float64, error) {
	if err := x.check(n); err != nil {
		return nil, err
	}
	src := rng.New(rng.Derive(uint64(n), "lie/sharpness"))
	vs := make([][]float64, n)
	for k := range vs {
		v := make([]float64, len(x.Theta0))
		for i := range v {
			v[i] = src.Normal()
		}
		vs[k] = normalised(v)
	}
	lambdas := make([]float64, n)
	for range iters {
		hvs, err := x.atTheta0(steps(n), vs)
		if err != nil {
			return nil, err
		}
		for k, hv := range hvs {
			lambdas[k] = floats.Dot(vs[k], hv) // the Rayleigh quotient of the unit vector vs[k]
			if floats.Norm(hv, 2) > 0 {
				vs[k] = normalised(hv)
			}
		}
	}
	return lambdas, nil
}

func normalised(v []float64) []float64 {
	n := floats.Norm(v, 2)
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] / n
	}
	return out
}
