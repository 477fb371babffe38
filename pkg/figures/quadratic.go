package figures

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/update"
)

// Quadratic is the quadratic figure (Section 3.1): SGD on L_i(θ) = ½‖θ − ε_i‖², ε_i ~ N(0, σ² I), in one and
// in Dim dimensions. Forward iterates keep oscillating; backward iterates settle on a point whose law across
// seeds is the forward stationary law N(0, hσ²/(2−h)).
type Quadratic struct {
	Scale Scale
	// H is the learning rate h.
	H float64
	// Sigma is the noise scale σ.
	Sigma float64
	// Start is every coordinate of θ_0.
	Start float64
	// Steps is the number of steps N of each run.
	Steps int
	// CurveSeeds is the number of seeds drawn as curves.
	CurveSeeds int
	// HistogramSeeds is the number of seeds whose θ_N fill the histograms.
	HistogramSeeds int
	// Dim is the dimension of the multi-dimensional panel.
	Dim int
	// Examples is the number of noise vectors ε_i batches are drawn from (batches of one, with replacement).
	Examples int
	// DataSeed seeds the noise.
	DataSeed uint64
}

func quadraticSettings(s Scale) *Quadratic {
	q := &Quadratic{Scale: s, H: 0.1, Sigma: 1, Start: 2, Steps: 200, CurveSeeds: 5, HistogramSeeds: 1000,
		Dim: 10, Examples: 1 << 16, DataSeed: 2025}
	if s == Paper {
		q.HistogramSeeds = 10000
	}
	return q
}

// ID implements Figure.
func (q *Quadratic) ID() string { return "quadratic" }

// Settings implements Figure.
func (q *Quadratic) Settings() string {
	return fmt.Sprintf(`**quadratic** (Section 3.1) at scale %q: SGD with constant learning rate h = %g on
L_i(θ) = ½‖θ − ε_i‖², ε_i ~ N(0, σ²I) with σ = %g, θ_0 = %g in every coordinate, batches of one noise vector
drawn with replacement from %d draws, N = %d steps, float64.
Curves: %d seeds in d = 1 and d = %d. Histograms: θ_N of %d seeds against the exact stationary law
N(0, hσ²/(2−h)) = N(0, %.4f).`, q.Scale, q.H, q.Sigma, q.Start, q.Examples, q.Steps, q.CurveSeeds, q.Dim,
		q.HistogramSeeds, analysis.QuadraticStationaryVariance(q.H, q.Sigma))
}

// meanTarget returns the mean noise vector ε̄ of the problem behind a result.
func meanTarget(res *experiment.Result) ([]float64, error) {
	eps, err := tensors.CopyFlatData[float64](res.Spec.Problem.Train.Targets)
	if err != nil {
		return nil, err
	}
	dim := res.Spec.Problem.Train.Targets.Shape().Dimensions[1]
	mean := make([]float64, dim)
	for i, v := range eps {
		mean[i%dim] += v / float64(len(eps)/dim)
	}
	return mean, nil
}

func (q *Quadratic) spec(dim, seeds int, plan evaluation.Plan) (*experiment.Spec, error) {
	p, err := problem.Quadratic{Dim: dim, Sigma: q.Sigma, Start: q.Start, Examples: q.Examples, Seed: q.DataSeed}.New()
	if err != nil {
		return nil, err
	}
	return &experiment.Spec{
		Problem: p, Arms: experiment.Orders(update.SGD{LearningRate: q.H}, order.Forward{}, order.Backward{}),
		Seeds: experiment.SeedRange(seeds), Steps: q.Steps, BatchSize: 1, Sampling: data.WithReplacement, Evaluated: plan,
		DType: dtypes.Float64, KeepIterates: true,
	}, nil
}

// Experiments implements Recipe: forward against backward SGD with every step evaluated in d = 1 and in d = Dim
// (the curves), and θ_N alone over HistogramSeeds seeds in d = 1 (the histograms).
func (q *Quadratic) Experiments() ([]Experiment, error) {
	var out []Experiment
	for _, e := range []struct {
		name       string
		dim, seeds int
		plan       evaluation.Plan
	}{
		{"curves, d = 1", 1, q.CurveSeeds, evaluation.Every(1)},
		{fmt.Sprintf("curves, d = %d", q.Dim), q.Dim, q.CurveSeeds, evaluation.Every(1)},
		{"stationary laws: θ_N, d = 1", 1, q.HistogramSeeds, evaluation.List{q.Steps}},
	} {
		spec, err := q.spec(e.dim, e.seeds, e.plan)
		if err != nil {
			return nil, err
		}
		out = append(out, Experiment{e.name, spec})
	}
	return out, nil
}

// Run implements Figure.
func (q *Quadratic) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, q)
}

// Draw implements Recipe: the iterates, their step sizes and distances to the minimum, and the histograms of θ_N
// against the exact stationary law.
func (q *Quadratic) Draw(results []*experiment.Result) (*Outcome, error) {
	if err := finite(results...); err != nil {
		return nil, err
	}
	curves1, curvesD, limits := results[0], results[1], results[2]
	// ε̄, the mean of the noise vectors, minimises the full loss: the distance to it shows where iterates settle.
	mean, err := meanTarget(curvesD)
	if err != nil {
		return nil, err
	}
	iterates, steps, norms, err := q.curvePanels(curves1, curvesD, mean)
	if err != nil {
		return nil, err
	}
	claims := q.stepClaims(curves1)
	steps.Note(fmt.Sprintf("fitted backward decay rate %.4f per step (1 − h = %g)", claims[0].Value, 1-q.H))
	var summary strings.Builder
	hist, varianceClaims, err := q.histograms(limits, &summary)
	if err != nil {
		return nil, err
	}
	claims = append(claims, varianceClaims...)
	summary.WriteString("\n" + ClaimsTable(claims))
	return &Outcome{Figure: plot.NewFigure(2, iterates, steps, norms, hist), Summary: summary.String(), Claims: claims}, nil
}

// curvePanels draws the d = 1 iterates and their step sizes (with the (1−h)^n decay backward steps follow), and
// the d-dimensional iterates' distances to the minimum ε̄.
func (q *Quadratic) curvePanels(curves1, curvesD *experiment.Result, mean []float64) (iterates, steps, norms *plot.Panel, err error) {
	iterates = plot.NewPanel("iterates, d = 1", "step n", "θ_n")
	steps = plot.NewPanel("step sizes, d = 1", "step n", "|θ_{n+1} − θ_n|").LogY()
	norms = plot.NewPanel(fmt.Sprintf("distance to the minimum, d = %d", q.Dim), "step n", "‖θ_n − ε̄‖")
	for _, name := range []string{"forward", "backward"} {
		for _, c := range curves1.Arm(name) {
			if err := iterates.Line(name, stepsOf(c), c.Coordinate(0), 0.8); err != nil {
				return nil, nil, nil, err
			}
			at, sizes := c.StepSizes()
			if err := steps.Line(name, floats(at), sizes, 0.8); err != nil {
				return nil, nil, nil, err
			}
		}
		for _, c := range curvesD.Arm(name) {
			if err := norms.Line(name, stepsOf(c), analysis.DistancesTo(c.Iterates, mean), 0.8); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	// Reference slope: backward steps shrink like (1−h)^n.
	ref := make([]float64, q.Steps)
	xs := make([]float64, q.Steps)
	for n := range ref {
		xs[n] = float64(n + 1)
		ref[n] = q.H * math.Pow(1-q.H, float64(n+1)) * (q.Start + q.Sigma)
	}
	if err := steps.Dashed("h(1−h)^n (θ_0+σ)", xs, ref); err != nil {
		return nil, nil, nil, err
	}

	return iterates, steps, norms, nil
}

// histograms draws θ_N over HistogramSeeds seeds for both orders against the exact stationary law, writes their
// variances to the summary, and states the claims that each matches the exact one.
func (q *Quadratic) histograms(limits *experiment.Result, summary *strings.Builder) (*plot.Panel, []Claim, error) {
	var claims []Claim
	hist := plot.NewPanel(fmt.Sprintf("θ_%d over %d seeds, d = 1", q.Steps, q.HistogramSeeds), "θ", "density")
	exact := analysis.QuadraticStationaryVariance(q.H, q.Sigma)
	fmt.Fprintf(summary, "| order | variance of θ_%d over %d seeds | exact hσ²/(2−h) |\n|---|---|---|\n", q.Steps, q.HistogramSeeds)
	for _, name := range []string{"forward", "backward"} {
		var last []float64
		for _, c := range limits.Arm(name) {
			last = append(last, c.Iterates[0][0])
		}
		if err := hist.Histogram(name, last, 40); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(summary, "| %s | %.4f | %.4f |\n", name, analysis.Variance(last), exact)
		// The variance of n normal draws has relative standard error √(2/(n−1)) (0.045 for n = 1000): the
		// interval is ±3.3 of them.
		tol := 3.3 * math.Sqrt(2/float64(len(last)-1))
		claims = append(claims, within(name+"/variance-ratio", fmt.Sprintf("variance of θ_%d over %d seeds, %s, ÷ the "+
			"exact stationary variance hσ²/(2−h)", q.Steps, len(last), name), analysis.Variance(last)/exact, 1-tol, 1+tol))
	}
	hist.Function("exact", analysis.NormalDensity(0, exact))
	return hist, claims, nil
}

// stepClaims measures the step sizes of the d = 1 curves against their closed forms. Backward,
// θ_{n+1} − θ_n = h(1−h)^n (ε_{n+1} − θ_0): the fitted rate exp(slope of log|θ_{n+1} − θ_n| against n) is 1 − h,
// up to the scatter of log|ε_{n+1} − θ_0| (standard error about 1e-3 per seed over 200 steps; the interval is
// ±0.005). Forward, in the stationary regime θ_{n+1} − θ_n = h(ε_{n+1} − θ_n) ~ N(0, 2h²σ²/(2−h)), so
// E|θ_{n+1} − θ_n| = hσ √(2/(2−h)) √(2/π); over the second half of the run and the seeds (≥ 500 nearly
// independent draws, relative standard error ≤ 0.034) the measured mean is within 15% of it.
func (q *Quadratic) stepClaims(curves *experiment.Result) []Claim {
	var rates, floors []float64
	var fwdLate, bwdLate float64
	for _, name := range []string{"forward", "backward"} {
		for _, c := range curves.Arm(name) {
			at, sizes := c.StepSizes()
			xs, logs := floats(at), make([]float64, len(sizes))
			late, n := 0.0, 0
			for i, v := range sizes {
				logs[i] = math.Log(v)
				if at[i] > q.Steps/2 {
					late, n = late+v, n+1
				}
			}
			late /= float64(n)
			if name == "backward" {
				rates = append(rates, math.Exp(analysis.Slope(xs, logs)))
				bwdLate += late / float64(q.CurveSeeds)
			} else {
				floors = append(floors, late)
				fwdLate += late / float64(q.CurveSeeds)
			}
		}
	}
	expected := q.H * q.Sigma * math.Sqrt(2/(2-q.H)) * math.Sqrt(2/math.Pi)
	perSeed := make([]float64, len(floors))
	for i, f := range floors {
		perSeed[i] = f / expected
	}
	return []Claim{
		within("backward/step-decay-rate", fmt.Sprintf("backward step sizes |θ_{n+1} − θ_n| (d = 1): fitted decay rate "+
			"per step (1 − h = %g)", 1-q.H), analysis.Mean(rates), 1-q.H-0.005, 1-q.H+0.005).perSeed(rates),
		within("forward/step-floor-ratio", "forward mean step size over the second half (d = 1) ÷ its stationary "+
			"closed form hσ√(2/(2−h))√(2/π)", fwdLate/expected, 0.85, 1.15).perSeed(perSeed),
		reported("step-size-ratio", "mean step size over the second half, backward ÷ forward (d = 1)", bwdLate/fwdLate),
	}
}
