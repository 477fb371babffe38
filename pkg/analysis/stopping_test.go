package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// On a geometric curve the rule stops where the closed form of the window's mean change, C q^{k−w}(1 − q^w)/w,
// first falls below tol·v_k; on i.i.d. noise around a level, whose changes stay at the noise's size, it does not.
func TestSettledStop(t *testing.T) {
	const c, q, level, tol, w = 2.0, 0.8, 1.0, 1e-3, 4
	var v []float64
	for k := range 80 {
		v = append(v, level+c*math.Pow(q, float64(k)))
	}
	want := -1
	for k := w; k < len(v); k++ {
		if c*math.Pow(q, float64(k-w))*(1-math.Pow(q, w))/w <= tol*v[k]*(1+1e-12) {
			want = k
			break
		}
	}
	if got := SettledStop(v, tol, w); got != want || want < 0 {
		t.Errorf("geometric curve: stopped at %d, want %d", got, want)
	}
	r := rand.New(rand.NewPCG(7, 8))
	stops := 0
	for range 200 {
		var noise []float64
		for range 40 {
			noise = append(noise, level+0.05*r.NormFloat64())
		}
		if SettledStop(noise, 10*tol, 2*w) >= 0 {
			stops++
		}
	}
	// Changes of noise of size 0.05 average 0.056 (2σ/√π): eight of them average below tol·level = 0.01 only
	// by a rare chance.
	if stops > 2 {
		t.Errorf("the rule stopped %d of 200 noise curves", stops)
	}
	if got := SettledStop([]float64{1, 1}, tol, 2); got != -1 {
		t.Errorf("too short a curve: %d", got)
	}
}

func TestEarlyStop(t *testing.T) {
	v := []float64{5, 4, 3, 3.5, 2.5, 2.6, 2.7, 2.8, 1}
	if best, decided := EarlyStop(v, 3); best != 4 || decided != 7 {
		t.Errorf("best %d, decided %d; want 4, 7", best, decided)
	}
	if best, decided := EarlyStop(v, 5); best != 8 || decided != -1 {
		t.Errorf("patience 5: best %d, decided %d; want 8, -1", best, decided)
	}
}
