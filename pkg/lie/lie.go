// Package lie approximates the backward SGD iterate from quantities of the forward run, with Lie-bracket
// corrections of the batch gradient fields, and measures how close each approximation comes.
//
// With g_k = ∇L_{B_k} and H_k = ∇²L_{B_k} at θ_0 and learning rate h, expanding the compositions in h gives
//
//	forward:  θ_n = θ_0 − h Σ_k g_k + h² Σ_{i<j} H_j g_i + O(h³)
//	backward: θ_n = θ_0 − h Σ_k g_k + h² Σ_{i<j} H_i g_j + O(h³)
//
// so the backward iterate is the forward one plus the second-order (Lie-bracket) correction
//
//	θ̃_n = θ_n^fwd + h² Σ_{i<j} (H_i g_j − H_j g_i),   H_i g_j − H_j g_i = [g_i, g_j] the Lie bracket,
//
// with residual O(h³). Writing P_k = Σ_{j<k} g_j and S_k = Σ_{j>k} g_j, the double sum is Σ_k H_k (S_k − P_k): n
// gradients and n Hessian-vector products, not n².
//
// Beyond the paper, Linearised composes the maps' linearisations at θ_0 exactly instead of expanding the
// composition: T_k(θ_0 + u) ≈ θ_0 − h g_k + (I − h H_k) u, applied newest first, u ← −h g_k + u − h H_k u. It
// keeps every product of Hessians — all orders in h of the linear part, exact for a quadratic — and misses only
// the terms with third derivatives of the loss; it costs n gradients and n − 1 Hessian-vector products in
// sequence.
package lie

import (
	"gonum.org/v1/gonum/floats"

	"fmt"

	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/replay"
)

// Expansion holds what the approximations expand around: θ_0, the batches and the learning rate.
type Expansion struct {
	// Engine evaluates gradients and Hessian-vector products of the problem's batch losses (its rule is unused).
	Engine *replay.Engine
	// H is the learning rate h of the SGD maps T_k(θ) = θ − h ∇L_{B_k}(θ).
	H float64
	// Theta0 is θ_0.
	Theta0 []float64
	// Batches is the batch history: B_k = Batches.Batch(k).
	Batches *data.History
	// Replicas is how many derivatives are evaluated at once (0: 16).
	Replicas int
}

func (x *Expansion) replicas() int {
	if x.Replicas > 0 {
		return x.Replicas
	}
	return 16
}

// atTheta0 evaluates, for batches B_ks[i] (and vectors vs[i], for Hessian-vector products when vs is not nil),
// derivatives at θ_0 in groups of replicas.
func (x *Expansion) atTheta0(ks []int, vs [][]float64) ([][]float64, error) {
	out := make([][]float64, 0, len(ks))
	r := x.replicas()
	for lo := 0; lo < len(ks); lo += r {
		hi := min(lo+r, len(ks))
		starts := make([][]float64, hi-lo)
		var batches []int32
		for i, k := range ks[lo:hi] {
			starts[i] = x.Theta0
			batches = append(batches, x.Batches.Batch(k)...)
		}
		g, err := x.Engine.NewGroup(starts)
		if err != nil {
			return nil, err
		}
		var res [][]float64
		if vs == nil {
			res, err = g.Gradients(batches)
		} else {
			res, err = g.HessianVectorProducts(batches, vs[lo:hi])
		}
		g.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// Gradients returns g_1, …, g_n at θ_0.
func (x *Expansion) Gradients(n int) ([][]float64, error) {
	if err := x.check(n); err != nil {
		return nil, err
	}
	return x.atTheta0(steps(n), nil)
}

// steps returns 1, …, n.
func steps(n int) []int {
	ks := make([]int, n)
	for i := range ks {
		ks[i] = i + 1
	}
	return ks
}

func (x *Expansion) check(n int) error {
	if n < 1 || n > x.Batches.Steps() {
		return fmt.Errorf("lie: step %d outside [1, %d], the batches at hand", n, x.Batches.Steps())
	}
	return nil
}

// Correction returns the second-order correction h² Σ_{i<j} (H_i g_j − H_j g_i) at θ_0 for n maps, by prefix and
// suffix sums: n gradients and n Hessian-vector products.
func (x *Expansion) Correction(n int) ([]float64, error) {
	grads, err := x.Gradients(n)
	if err != nil {
		return nil, err
	}
	p := len(x.Theta0)
	total := make([]float64, p)
	for _, g := range grads {
		floats.AddScaled(total, 1, g)
	}
	// D_k = S_k − P_k = (total − P_k − g_k) − P_k.
	ds := make([][]float64, n)
	prefix := make([]float64, p)
	for k, g := range grads {
		d := make([]float64, p)
		for i := range d {
			d[i] = total[i] - 2*prefix[i] - g[i]
		}
		ds[k] = d
		floats.AddScaled(prefix, 1, g)
	}
	hd, err := x.atTheta0(steps(n), ds)
	if err != nil {
		return nil, err
	}
	c := make([]float64, p)
	for _, v := range hd {
		floats.AddScaled(c, x.H*x.H, v)
	}
	return c, nil
}

// CorrectionDirect computes the same correction by the double sum over pairs i < j, n(n−1) Hessian-vector
// products: the reference Correction is tested against.
func (x *Expansion) CorrectionDirect(n int) ([]float64, error) {
	grads, err := x.Gradients(n)
	if err != nil {
		return nil, err
	}
	var ks []int
	var vs [][]float64
	var signs []float64
	for i := 1; i <= n; i++ {
		for j := i + 1; j <= n; j++ {
			ks, vs, signs = append(ks, i), append(vs, grads[j-1]), append(signs, 1)  // H_i g_j
			ks, vs, signs = append(ks, j), append(vs, grads[i-1]), append(signs, -1) // −H_j g_i
		}
	}
	c := make([]float64, len(x.Theta0))
	if len(ks) == 0 {
		return c, nil
	}
	hv, err := x.atTheta0(ks, vs)
	if err != nil {
		return nil, err
	}
	for i, v := range hv {
		floats.AddScaled(c, signs[i]*x.H*x.H, v)
	}
	return c, nil
}

// SecondOrder returns θ̃_n = θ_n^fwd + Correction(n).
func (x *Expansion) SecondOrder(n int, forward []float64) ([]float64, error) {
	c, err := x.Correction(n)
	if err != nil {
		return nil, err
	}
	out := append([]float64(nil), forward...)
	floats.AddScaled(out, 1, c)
	return out, nil
}

// Linearised returns the backward composition of the maps' linearisations at θ_0: u ← −h g_n, then for
// k = n−1, …, 1: u ← u − h g_k − h H_k u; the result is θ_0 + u.
func (x *Expansion) Linearised(n int) ([]float64, error) {
	grads, err := x.Gradients(n)
	if err != nil {
		return nil, err
	}
	u := make([]float64, len(x.Theta0))
	floats.AddScaled(u, -x.H, grads[n-1])
	for k := n - 1; k >= 1; k-- {
		hu, err := x.atTheta0([]int{k}, [][]float64{u})
		if err != nil {
			return nil, err
		}
		floats.AddScaled(u, -x.H, grads[k-1])
		floats.AddScaled(u, -x.H, hu[0])
	}
	out := append([]float64(nil), x.Theta0...)
	floats.AddScaled(out, 1, u)
	return out, nil
}
