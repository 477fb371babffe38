package figures

import (
	"github.com/revsgd/revsgd/pkg/experiment"
)

// stepsOf returns a curve's evaluated steps as plot coordinates.
func stepsOf(c *experiment.Trajectory) []float64 { return floats(c.Steps) }

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}
