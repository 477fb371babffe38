package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Roughness ignores a straight descent and measures what moves around it: 4a for a zigzag of amplitude a on a
// line, √6·σ·√(2/π) for independent normal noise; TrendShare is 1 for a monotone curve and 0 for a zigzag that
// ends where it starts.
func TestRoughnessSeparatesNoiseFromDescent(t *testing.T) {
	const a = 0.25
	steps := make([]int, 101)
	line, zigzag, noisy := make([]float64, 101), make([]float64, 101), make([]float64, 101)
	r := rand.New(rand.NewPCG(1, 2))
	for k := range steps {
		steps[k] = 10 * k
		line[k] = 5 - 0.03*float64(k)
		zigzag[k] = line[k] + a*float64(1-2*(k%2))
		noisy[k] = line[k] + r.NormFloat64()
	}
	all := Window{0, 1000}
	if got := Roughness(Series{steps, line}, all); math.Abs(got) > 1e-12 {
		t.Errorf("roughness of a line: %g, want 0", got)
	}
	if got := Roughness(Series{steps, zigzag}, all); math.Abs(got-4*a) > 1e-12 {
		t.Errorf("roughness of a zigzag of amplitude %g: %g, want %g", a, got, 4*a)
	}
	if got := MeanChange(Series{steps, line}, all); math.Abs(got-0.03) > 1e-12 {
		t.Errorf("mean change of the line: %g, want its slope per evaluation 0.03", got)
	}
	// 99 second differences of unit noise (correlated in threes): the mean has a standard error of about 0.2; ±0.4.
	if got, want := Roughness(Series{steps, noisy}, all), math.Sqrt(6)*math.Sqrt(2/math.Pi); math.Abs(got-want) > 0.4 {
		t.Errorf("roughness of unit noise: %g, want about %g", got, want)
	}
	if got := TrendShare(Series{steps, line}, all); math.Abs(got-1) > 1e-12 {
		t.Errorf("trend share of a line: %g, want 1", got)
	}
	flat := make([]float64, 101)
	for k := range flat {
		flat[k] = a * float64(k%2)
	}
	if got := TrendShare(Series{steps, flat}, Window{0, 1000}); math.Abs(got) > 1e-12 {
		t.Errorf("trend share of a zigzag that ends where it starts: %g, want 0", got)
	}
	// The window: only second differences whose three evaluations lie in [From, To] count.
	if got := Roughness(Series{steps, zigzag}, Window{995, 1000}); !math.IsNaN(got) {
		t.Errorf("roughness over a window without three evaluations: %g, want NaN", got)
	}
	ratio, per := RoughnessRatio([]Series{{steps, line}, {steps, zigzag}}, []Series{{steps, zigzag}, {steps, zigzag}}, all)
	if math.Abs(ratio-0.5) > 1e-12 || math.Abs(per[0]) > 1e-12 || math.Abs(per[1]-1) > 1e-12 {
		t.Errorf("roughness ratio %g, per seed %v; want 0.5, [0 1]", ratio, per)
	}
}
