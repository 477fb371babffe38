package analysis

// Moments are the exact mean and variance of forward SGD's iterate and of an average of its iterates on the 1-D
// quadratic, at every step 0, 1, …, N (see QuadraticMoments).
type Moments struct {
	ThetaMean, ThetaVar []float64
	AvgMean, AvgVar     []float64
}

// QuadraticMoments returns the exact means and variances of forward SGD on the 1-D quadratic ½(θ − ε)², ε i.i.d.
// with mean mu and variance sigma2, from a fixed θ_0, with learning rate h(k) at map k and an average of the
// iterates with weights w(k) (update.Averaged):
//
//	θ_k = (1 − h_k) θ_{k−1} + h_k ε_k,   ā_k = ā_{k−1} + w_k (θ_k − ā_{k−1}),   ā_0 = θ_0.
//
// The pair (θ_k, ā_k) is linear in the noise, so its mean and covariance follow exactly from one step to the
// next. The backward iterate θ_n = T_1 ∘ … ∘ T_n(θ_0) at a constant h has, at every n, the law of the forward
// one (the same coefficients on a reversed, equally distributed sequence of ε), so ThetaMean and ThetaVar are
// its moments too.
func QuadraticMoments(theta0, mu, sigma2 float64, h, w func(k int) float64, n int) Moments {
	m := Moments{ThetaMean: []float64{theta0}, ThetaVar: []float64{0}, AvgMean: []float64{theta0}, AvgVar: []float64{0}}
	mt, ma, ptt, paa, pat := theta0, theta0, 0.0, 0.0, 0.0
	for k := 1; k <= n; k++ {
		hk, wk := h(k), w(k)
		rho := 1 - hk
		// ā_k = (1−w) ā_{k−1} + w ρ θ_{k−1} + w h ε_k; θ_k = ρ θ_{k−1} + h ε_k.
		paa = (1-wk)*(1-wk)*paa + 2*(1-wk)*wk*rho*pat + wk*wk*(rho*rho*ptt+hk*hk*sigma2)
		pat = (1-wk)*rho*pat + wk*(rho*rho*ptt+hk*hk*sigma2)
		ptt = rho*rho*ptt + hk*hk*sigma2
		mt = rho*mt + hk*mu
		ma = (1-wk)*ma + wk*mt
		m.ThetaMean, m.ThetaVar = append(m.ThetaMean, mt), append(m.ThetaVar, ptt)
		m.AvgMean, m.AvgVar = append(m.AvgMean, ma), append(m.AvgVar, paa)
	}
	return m
}

// EMAStationaryVariance is the variance, once stationary, of an exponential moving average of decay β of
// forward SGD's iterates on the 1-D quadratic at a constant learning rate h and noise variance σ²: with
// ρ = 1 − h and v = hσ²/(2−h) the iterates' stationary variance (an AR(1) process of coefficient ρ),
// v (1−β)(1+βρ) / ((1+β)(1−βρ)). It stays positive: an EMA does not converge to a point.
func EMAStationaryVariance(h, sigma, beta float64) float64 {
	rho := 1 - h
	return QuadraticStationaryVariance(h, sigma) * (1 - beta) * (1 + beta*rho) / ((1 + beta) * (1 - beta*rho))
}

// TailAverageVariance is the variance, to first order in 1/m, of the average of m consecutive stationary
// iterates of forward SGD on the 1-D quadratic: σ²/m (the iterates' long-run variance, hσ²/(2−h) · (1+ρ)/(1−ρ),
// is σ²). It shrinks to 0: the tail average converges to the stationary law's mean.
func TailAverageVariance(sigma float64, m int) float64 { return sigma * sigma / float64(m) }
