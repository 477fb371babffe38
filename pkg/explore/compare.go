package explore

import (
	"fmt"
	"math"
	"strings"

	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/experiment"
)

// Convergence compares the forward and backward runs of one experiment, paired by seed: where each backward run
// converges, how far the forward iterates stay from that point, and whether the backward limits follow the law of
// the last forward iterates (Theorem 2.6).
type Convergence struct {
	// Seeds are the seeds with both a forward and a backward run.
	Seeds []uint64
	// Limits are the backward runs' limits (analysis.BackwardLimit), by seed.
	Limits []analysis.Limit
	// Steps are the forward runs' evaluated steps; ForwardToLimit[i][k] = ‖θ^fwd_{Steps[k]} − θ*_i‖.
	Steps          []int
	ForwardToLimit [][]float64
	// KSp is the smallest per-coordinate two-sample Kolmogorov–Smirnov p-value of the backward limits against the
	// last forward iterates, times the number of coordinates (Bonferroni, at most 1); EnergyP the energy test's
	// p-value on the whole vectors (199 permutations). Both NaN below 8 seeds.
	KSp, EnergyP float64
	// LeftOut says, per seed left out, why: a run that diverged or stops before its N steps has a last iterate
	// that is neither a limit nor a draw from the stationary law.
	LeftOut []string
	// lastSteps[i] is the backward run's last step size ‖θ_N − θ_{N'}‖ between its last two evaluations.
	lastSteps []float64
}

// reachedN says why a run's last iterate does not stand for its N steps (it diverged, stops early, or is not
// finite), or nil.
func reachedN(r *experiment.Trajectory) error {
	switch {
	case r.Diverged != nil:
		return r.Diverged
	case len(r.Steps) == 0 || r.Steps[len(r.Steps)-1] != r.N:
		last := 0
		if len(r.Steps) > 0 {
			last = r.Steps[len(r.Steps)-1]
		}
		return fmt.Errorf("its last evaluated step is %d of N = %d (it diverged, or was not completed)", last, r.N)
	}
	for _, v := range r.Iterates[len(r.Iterates)-1] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("its last iterate is not finite")
		}
	}
	return nil
}

// Compare pairs forward and backward runs by seed and measures their convergence. A seed whose forward or backward
// run did not reach its N steps with a finite iterate (it diverged, or is incomplete in the store) is left out,
// with the reason in LeftOut.
func Compare(forward, backward []*experiment.Trajectory) (*Convergence, error) {
	fwd := map[uint64]*experiment.Trajectory{}
	for _, r := range forward {
		fwd[r.Seed] = r
	}
	c := &Convergence{KSp: math.NaN(), EnergyP: math.NaN()}
	var limits, lasts [][]float64
	for _, b := range backward {
		f, ok := fwd[b.Seed]
		if !ok {
			continue
		}
		if len(f.Iterates) == 0 || len(f.Iterates) != len(f.Steps) {
			return nil, fmt.Errorf("explore: the forward run of seed %d holds %d iterates for %d evaluated steps: "+
				"comparing needs its iterates at every evaluated step (a run stored with KeepIterates)", f.Seed,
				len(f.Iterates), len(f.Steps))
		}
		if err := reachedN(b); err != nil {
			c.LeftOut = append(c.LeftOut, fmt.Sprintf("seed %d: the backward run: %v", b.Seed, err))
			continue
		}
		if err := reachedN(f); err != nil {
			c.LeftOut = append(c.LeftOut, fmt.Sprintf("seed %d: the forward run: %v", f.Seed, err))
			continue
		}
		lim, err := b.Limit()
		if err != nil {
			return nil, fmt.Errorf("explore: backward run of seed %d: %w", b.Seed, err)
		}
		c.Seeds, c.Limits = append(c.Seeds, b.Seed), append(c.Limits, lim)
		_, sizes := b.StepSizes()
		c.lastSteps = append(c.lastSteps, sizes[len(sizes)-1])
		c.Steps = f.Steps
		c.ForwardToLimit = append(c.ForwardToLimit, analysis.DistancesTo(f.Iterates, lim.Point))
		limits, lasts = append(limits, lim.Point), append(lasts, f.Iterates[len(f.Iterates)-1])
	}
	if len(c.Seeds) == 0 {
		return nil, fmt.Errorf("explore: no seed has both a forward and a backward run that reached N (%s)",
			strings.Join(c.LeftOut, "; "))
	}
	if len(c.Seeds) >= 8 {
		d := len(limits[0])
		minP := 1.0
		for i := range d {
			_, p, err := analysis.KolmogorovSmirnov(column(limits, i), column(lasts, i))
			if err != nil {
				return nil, err
			}
			minP = min(minP, p)
		}
		c.KSp = min(1, minP*float64(d))
		_, p, err := analysis.EnergyDistance(limits, lasts, 199, 1)
		if err != nil {
			return nil, err
		}
		c.EnergyP = p
	}
	return c, nil
}

func column(points [][]float64, i int) []float64 {
	out := make([]float64, len(points))
	for k, p := range points {
		out[k] = p[i]
	}
	return out
}

// summaryRows is the number of seeds Summary lists.
const summaryRows = 10

// Summary writes the comparison in Markdown: per seed the backward run's fitted contraction rate, its estimated
// distance to its limit, and the forward run's distance to that limit at its last step (the first seeds); then the
// law tests.
func (c *Convergence) Summary() string {
	var b strings.Builder
	b.WriteString("| seed | backward: last step ‖θ_N − θ_{N'}‖ | backward: fitted contraction per step | backward: ‖θ* − θ_N‖ " +
		"(estimated) | forward: ‖θ_N − θ*‖ |\n|---|---|---|---|---|\n")
	for i, s := range c.Seeds {
		if i == summaryRows {
			fmt.Fprintf(&b, "| … | (%d more seeds) | | | |\n", len(c.Seeds)-summaryRows)
			break
		}
		d, lim := c.ForwardToLimit[i], c.Limits[i]
		rate, tail := fmt.Sprintf("%.4g", lim.Rate), fmt.Sprintf("%.3g", lim.Tail)
		if !lim.Converging || math.IsNaN(lim.Tail) {
			rate, tail = "no decay fitted", "—" // e.g. steps already at rounding level
		}
		fmt.Fprintf(&b, "| %d | %.3g | %s | %s | %.3g |\n", s, c.lastSteps[i], rate, tail, d[len(d)-1])
	}
	if len(c.LeftOut) > 0 {
		fmt.Fprintf(&b, "\nLeft out (%d seeds): %s.\n", len(c.LeftOut), strings.Join(c.LeftOut, "; "))
	}
	if math.IsNaN(c.KSp) {
		fmt.Fprintf(&b, "\nLaw of the backward limits against the last forward iterates: not tested (%d seeds; it needs at "+
			"least 8, and many more to have power).\n", len(c.Seeds))
	} else {
		fmt.Fprintf(&b, "\nLaw of the backward limits against the last forward iterates, over %d seeds: KS per coordinate "+
			"p = %.3g (Bonferroni), energy test p = %.3g (small p: different laws).\n", len(c.Seeds), c.KSp, c.EnergyP)
	}
	return b.String()
}
