package figures

import (
	"fmt"
	"strings"

	"github.com/revsgd/revsgd/pkg/models"
)

// The settings line each image carries under its title (ReproduceIn adds the backend): enough to tell two images
// apart without their notebook — data, model, learning rate, batch, steps, seeds, evaluation, scale.

// Line implements Figure.
func (c *Classification) Line() string {
	data := c.Dataset
	if c.StandIn[0] > 0 {
		data += " (or its stand-in, named in the title)"
	}
	evals := "all examples"
	if c.EvalLimit > 0 {
		evals = fmt.Sprintf("%d examples", c.EvalLimit)
	}
	start := ""
	if c.WarmUp > 0 {
		start = fmt.Sprintf(", θ_0 after %d forward SGD steps (warm start)", c.WarmUp)
	}
	return fmt.Sprintf("%s, %s (%d parameters), %s, batch %d, N = %d, every %d, %d seeds%s, metrics on %s, scale %s",
		data, c.Model.Name(), models.NumParams(c.Model), describeRule(c.rule()), c.Batch, c.Steps, c.Every, c.Seeds,
		start, evals, c.Scale)
}

// Line implements Figure: its parts' lines.
func (c *Composite) Line() string {
	var parts []string
	for i, p := range c.Parts {
		parts = append(parts, c.Labels[i]+": "+p.Line())
	}
	return strings.Join(parts, "\n")
}

// Line implements Figure.
func (r *Regression) Line() string {
	return fmt.Sprintf("teacher regression (%d train, %d test), MLP %d-%s-1, SGD h = %g, batch 1, N = %d, every %d, %d seeds, scale %s",
		r.Problem.Data.Train, r.Problem.Data.Test, r.Problem.Data.Dim, joinInts(r.Problem.Hidden, "-"), r.H, r.Steps,
		r.Every, r.Seeds, r.Scale)
}

// Line implements Figure.
func (q *Quadratic) Line() string {
	return fmt.Sprintf("quadratic ½‖θ − ε‖², σ = %g, θ_0 = %g, SGD h = %g, batch 1, N = %d, %d seeds (curves), %d (histograms), scale %s",
		q.Sigma, q.Start, q.H, q.Steps, q.CurveSeeds, q.HistogramSeeds, q.Scale)
}

// Line implements Figure.
func (s *Stationary) Line() string {
	return fmt.Sprintf("quadratic (h = %g, N = %d) and linear regression (h = %g, N = %d), batch 1, %d seeds, scale %s",
		s.QuadH, s.QuadSteps, s.LinH, s.LinSteps, s.Seeds, s.Scale)
}

// Line implements Figure.
func (b *Baselines) Line() string {
	return fmt.Sprintf("quadratic (h = %g, N = %d, %d seeds), linear regression (h = %g, N = %d, %d seeds), FashionMNIST MLP (h = %g, N = %d, %d seeds), scale %s",
		b.QuadH, b.QuadSteps, b.QuadSeeds, b.LinH, b.LinSteps, b.LinSeeds, b.MLP.H, b.MLP.Steps, b.MLP.Seeds, b.Scale)
}

// Line implements Figure.
func (l *LieBracket) Line() string {
	return fmt.Sprintf("h sweep: MLP on teacher regression, n = %d, %d seeds; trajectory: FashionMNIST %s, h = %g, N = %d; batch %d, float64, scale %s",
		l.SweepSteps, l.Seeds, l.TrajModel.Name(), l.TrajH, l.TrajSteps, l.Batch, l.Scale)
}

// Line implements Figure.
func (s *Stopping) Line() string {
	return fmt.Sprintf("regression (h = %g, N = %d, %d seeds) and FashionMNIST MLP (h = %g, N = %d, %d seeds); settling tolerance %g over %d evaluations, patience %d; scale %s",
		s.Regression.H, s.Regression.Steps, s.Regression.Seeds, s.MLP.H, s.MLP.Steps, s.MLP.Seeds, s.Tol, s.Window, s.Patience, s.Scale)
}
