package explore

import (
	"gonum.org/v1/gonum/floats"

	"fmt"
	"math"

	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/rng"
)

// maxProjected caps the iterates the principal directions are fitted on (evenly thinned beyond it): each power
// iteration costs two passes over them.
const maxProjected = 400

// Projection holds the runs' iterates in the plane of their two principal directions (of all iterates of all
// runs, centred on their mean).
type Projection struct {
	// Runs are the projected runs; Points[i][k] the coordinates of Runs[i].Iterates[k].
	Runs   []*experiment.Trajectory
	Points [][][2]float64
	// Explained is the share of the iterates' total variance along each direction.
	Explained [2]float64
}

// Project finds the two principal directions of the runs' iterates by power iteration with deflation (from a
// fixed start, so the result is deterministic; each direction's sign makes its largest coordinate positive) and
// projects every iterate on them.
func Project(rs []*experiment.Trajectory) (*Projection, error) { return ProjectOn(rs, rs) }

// ProjectOn is Project with the mean and the principal directions taken from the iterates of the runs fit
// alone (e.g. forward SGD's cloud), and the iterates of rs projected on them; Explained is the share of fit's
// variance.
func ProjectOn(fit, rs []*experiment.Trajectory) (*Projection, error) {
	var all [][]float64
	for _, r := range fit {
		all = append(all, r.Iterates...)
	}
	if len(all) < 3 {
		return nil, fmt.Errorf("explore: %d iterates: too few to project", len(all))
	}
	d := len(all[0])
	mean := make([]float64, d)
	for _, p := range all {
		for i, v := range p {
			mean[i] += v / float64(len(all))
		}
	}
	sample := all
	if len(sample) > maxProjected {
		sample = make([][]float64, maxProjected)
		for k := range sample {
			sample[k] = all[k*len(all)/maxProjected]
		}
	}
	centred := func(p []float64, i int) float64 { return p[i] - mean[i] }
	total := 0.0
	for _, p := range sample {
		for i := range p {
			total += centred(p, i) * centred(p, i)
		}
	}
	var dirs [2][]float64
	var explained [2]float64
	src := rng.New(1)
	for c := range 2 {
		v := make([]float64, d)
		for i := range v {
			v[i] = src.Normal()
		}
		lambda := 0.0
		for range 100 {
			// w = Σ_p (p−μ)·((p−μ)·v), minus the part along the directions found before.
			w := make([]float64, d)
			for _, p := range sample {
				s := 0.0
				for i := range p {
					s += centred(p, i) * v[i]
				}
				for i := range p {
					w[i] += s * centred(p, i)
				}
			}
			for _, u := range dirs[:c] {
				s := floats.Dot(w, u)
				for i := range w {
					w[i] -= s * u[i]
				}
			}
			n := math.Sqrt(floats.Dot(w, w))
			if n == 0 {
				break
			}
			lambda = n
			for i := range w {
				w[i] /= n
			}
			v = w
		}
		big := 0
		for i := range v {
			if math.Abs(v[i]) > math.Abs(v[big]) {
				big = i
			}
		}
		if v[big] < 0 {
			for i := range v {
				v[i] = -v[i]
			}
		}
		dirs[c] = v
		if total > 0 {
			explained[c] = lambda / total
		}
	}
	pr := &Projection{Runs: rs, Explained: explained}
	for _, r := range rs {
		pts := make([][2]float64, len(r.Iterates))
		for k, p := range r.Iterates {
			for c := range 2 {
				s := 0.0
				for i := range p {
					s += centred(p, i) * dirs[c][i]
				}
				pts[k][c] = s
			}
		}
		pr.Points = append(pr.Points, pts)
	}
	return pr, nil
}
