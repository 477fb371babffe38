package analysis

import (
	"fmt"
	"math"
	"testing"
)

// A curve that moves by known amounts: the changes counted in a window are those whose later step lies in it.
func TestMeanChangeCountsChangesAtTheirLaterStep(t *testing.T) {
	s := Series{Steps: []int{0, 10, 20, 30, 40}, Values: []float64{5, 3, 4, 4.5, 4.25}}
	for _, c := range []struct {
		w    Window
		want float64
	}{
		{Window{0, 40}, (2 + 1 + 0.5 + 0.25) / 4},
		{Window{20, 40}, (0.5 + 0.25) / 2}, // step 20 itself is outside (From, To]
		{Window{10, 20}, 1},
	} {
		if got := MeanChange(s, c.w); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("MeanChange over %v = %g, want %g", c.w, got, c.want)
		}
	}
	if got := MeanChange(s, Window{40, 80}); !math.IsNaN(got) {
		t.Errorf("a window without evaluations gives %g, want NaN", got)
	}
}

func TestLateWindowIsTheSecondHalfOrAfterTheLastMark(t *testing.T) {
	if w := LateWindow(600, nil); w != (Window{300, 600}) {
		t.Errorf("LateWindow(600) = %v", w)
	}
	if w := LateWindow(600, []int{100, 400}); w != (Window{400, 600}) {
		t.Errorf("LateWindow(600, marks 100, 400) = %v", w)
	}
}

// The ratio is of the means over seeds, not the mean of the per-seed ratios.
func TestChangeRatioPairsSeeds(t *testing.T) {
	steps := []int{0, 1, 2}
	a := []Series{{steps, []float64{0, 1, 1}}, {steps, []float64{0, 3, 3}}}   // mean changes 0.5, 1.5
	ref := []Series{{steps, []float64{0, 1, 2}}, {steps, []float64{0, 0, 4}}} // 1, 2
	r, per := ChangeRatio(a, ref, Window{0, 2})
	if math.Abs(r-2.0/3) > 1e-15 || len(per) != 2 || per[0] != 0.5 || per[1] != 0.75 {
		t.Errorf("ChangeRatio = %g %v, want 2/3 [0.5 0.75]", r, per)
	}
}

// Windows between resets at 4 (the first window, 0–4, is left out) and 8, ending at 12: the second half of each
// window against its first.
func TestWindowDeclineComparesHalvesOfWindows(t *testing.T) {
	s := Series{Steps: []int{0, 2, 4, 6, 8, 10, 12}, Values: []float64{9, 0, 9, 5, 4, 1, 0.5}}
	// window 4–8: first half (4, 6]: |5−9| = 4; second half (6, 8]: 1. Window 8–12: (8, 10]: 3; (10, 12]: 0.5.
	r, per := WindowDecline([]Series{s}, 12, []int{4, 8})
	if want := (1 + 0.5) / (4 + 3.0); math.Abs(r-want) > 1e-15 || math.Abs(per[0]-want) > 1e-15 {
		t.Errorf("WindowDecline = %g %v, want %g", r, per, want)
	}
}

func TestSpreadsAndDistances(t *testing.T) {
	last := []Series{{[]int{0, 1}, []float64{0, 1}}, {[]int{0, 1}, []float64{0, 3}}}
	if got := LastSpread(last); math.Abs(got-math.Sqrt2) > 1e-15 { // values 1, 3: sample variance 2
		t.Errorf("LastSpread = %g, want √2", got)
	}
	if got := LastSpread(last[:1]); !math.IsNaN(got) {
		t.Errorf("LastSpread of one curve = %g, want NaN", got)
	}
	points := [][]float64{{0, 0}, {2, 0}, {0, 2}, {2, 2}} // mean (1, 1), each at distance √2
	if got := PointSpread(points); math.Abs(got-math.Sqrt2) > 1e-15 {
		t.Errorf("PointSpread = %g, want √2", got)
	}
	if got := MeanDistance([][]float64{{0, 0}, {1, 1}}, [][]float64{{3, 4}, {1, 1}}); got != 2.5 {
		t.Errorf("MeanDistance = %g, want (5 + 0)/2", got)
	}
	if got := Median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("Median(5, 1, 3) = %g", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median(4, 1, 3, 2) = %g", got)
	}
}

// How much a settling curve moves late in the run against one that keeps fluctuating, seed by seed.
func ExampleChangeRatio() {
	steps := []int{0, 10, 20, 30, 40}
	settling := []Series{{steps, []float64{2, 1, 0.6, 0.55, 0.54}}, {steps, []float64{2, 1.2, 0.7, 0.66, 0.65}}}
	fluctuating := []Series{{steps, []float64{2, 1, 0.7, 0.5, 0.7}}, {steps, []float64{2, 1.1, 0.6, 0.7, 0.6}}}
	w := LateWindow(40, nil)
	ratio, perSeed := ChangeRatio(settling, fluctuating, w)
	fmt.Printf("%v: ratio %.3f, per seed %.3f\n", w, ratio, perSeed)
	// Output: steps 20–40: ratio 0.183, per seed [0.150 0.250]
}
