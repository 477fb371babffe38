package figures

import (
	"math"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/experiment"
)

// Iterates on a common line in the step, plus each run's own offset and wiggle, keep only the offset and the
// wiggle (less their means) once detrended: the line is what the projection must not show.
func TestDetrendedRemovesTheSharedLine(t *testing.T) {
	line := func(s int) []float64 { return []float64{0.5 * float64(s), -2 + 0.1*float64(s)} }
	run := func(offset float64, wiggle []float64) *experiment.Trajectory {
		r := &experiment.Trajectory{}
		for k, s := range []int{10, 20, 30, 40} {
			th := line(s)
			th[0] += offset + wiggle[k]
			th[1] -= offset
			r.Steps, r.Iterates = append(r.Steps, s), append(r.Iterates, th)
		}
		return r
	}
	// Wiggles with no trend of their own (orthogonal to 1 and to the steps), so the fit is the line plus the
	// offsets' mean.
	w := []float64{1, -1, -1, 1}
	got := detrended([]*experiment.Trajectory{run(3, w), run(-3, []float64{0, 0, 0, 0})})
	for i, want := range [][]float64{{3, -3}, {-3, 3}} {
		for k, th := range got[i].Iterates {
			wx := want[0]
			if i == 0 {
				wx += w[k]
			}
			if math.Abs(th[0]-wx) > 1e-12 || math.Abs(th[1]-want[1]) > 1e-12 {
				t.Errorf("run %d, step %d: %v, want [%g %g]", i, got[i].Steps[k], th, wx, want[1])
			}
		}
	}
}

// Settings that leave the claims nothing to measure are refused before anything runs, saying what to change.
func TestIntermittentRefusesWindowsItCannotMeasure(t *testing.T) {
	for _, c := range []struct {
		edit func(*Intermittent)
		want string
	}{
		{func(i *Intermittent) { i.Steps = 120 }, "N = 120 steps with resets every 50"},
		{func(i *Intermittent) { i.ViewEvery = 15 }, "must divide the window 50"},
		{func(i *Intermittent) { i.ViewEvery = 25 }, "at most a quarter of it"},
		{func(i *Intermittent) { i.Window = 0 }, "must be positive"},
	} {
		i := intermittentSettings(Quick)
		c.edit(i)
		if _, err := i.Experiments(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want an error saying %q", err, c.want)
		}
	}
}
