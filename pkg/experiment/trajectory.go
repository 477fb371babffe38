package experiment

import (
	"math"

	"github.com/revsgd/revsgd/pkg/analysis"
	"github.com/revsgd/revsgd/pkg/models"
)

// Trajectory is one run — one composition order and one seed — at its evaluated steps: its iterates and its
// metrics. Run returns one per order and seed (Result.Trajectories); explore.Load reads one back from a run
// store; the measures of package analysis and the figures take them.
type Trajectory struct {
	// Arm is the name of the experiment's arm (Arm.Label); Order the name of its composition order.
	Arm, Order string
	// Seed is the run seed.
	Seed uint64
	// N is the run's number of steps; Steps are the evaluated steps, increasing (those completed, for a run
	// read from a store part-way).
	N     int
	Steps []int
	// Iterates[k] is the flat parameter vector θ at Steps[k], when Spec.KeepIterates is set.
	Iterates [][]float64
	// TrainLoss[k] and TestLoss[k] are the mean losses at Steps[k], when Spec.Metrics is set (TestLoss only for
	// problems with test data).
	TrainLoss, TestLoss []float64
	// TrainAccuracy and TestAccuracy are the accuracies, for classification problems.
	TrainAccuracy, TestAccuracy []float64
	// Dir is the run's directory in the run store, when there is one.
	Dir string
	// Diverged, when set, says where the chain reached a non-finite value and stopped; its metrics and iterates
	// are NaN at the evaluated steps it did not reach finitely.
	Diverged *DivergenceError
}

// metric returns the series of a metric of the run store's naming ("train_loss", "test_accuracy", …), or nil.
func (c *Trajectory) metric(name string) *[]float64 {
	switch name {
	case "train_loss":
		return &c.TrainLoss
	case "test_loss":
		return &c.TestLoss
	case "train_accuracy":
		return &c.TrainAccuracy
	case "test_accuracy":
		return &c.TestAccuracy
	}
	return nil
}

// fillNaN gives a diverged trajectory a NaN entry at every evaluated step it lacks (θ too if iterates are kept), so
// that it has the length of the others; plots mark NaN points.
func (c *Trajectory) fillNaN(evaluated []int, metrics []string, iterates bool, m models.Model) {
	have := map[int]bool{}
	for _, s := range c.Steps {
		have[s] = true
	}
	nan := math.NaN()
	for _, s := range evaluated {
		if have[s] {
			continue
		}
		c.Steps = append(c.Steps, s)
		for _, name := range metrics {
			if xs := c.metric(name); xs != nil {
				*xs = append(*xs, nan)
			}
		}
		if iterates {
			theta := make([]float64, models.NumParams(m))
			for i := range theta {
				theta[i] = nan
			}
			c.Iterates = append(c.Iterates, theta)
		}
	}
}

// Coordinate returns coordinate i of the iterates, one value per evaluated step.
func (c *Trajectory) Coordinate(i int) []float64 {
	out := make([]float64, len(c.Iterates))
	for k, theta := range c.Iterates {
		out[k] = theta[i]
	}
	return out
}

// StepSizes returns ‖θ_{s_{k+1}} − θ_{s_k}‖ between consecutive evaluated steps s_k (so ‖θ_{n+1} − θ_n‖ when
// every step is evaluated), with the step s_{k+1} each belongs to.
func (c *Trajectory) StepSizes() (steps []int, sizes []float64) {
	if len(c.Steps) < 2 || len(c.Iterates) != len(c.Steps) {
		return nil, nil
	}
	return c.Steps[1:], analysis.StepSizes(c.Iterates)
}

// Late returns the trajectory restricted to its evaluated steps after the given fraction of N (e.g. 0.5: the
// second half), where runs have left θ_0 behind and settle. Iterates and metrics are kept where present.
func (c *Trajectory) Late(frac float64) *Trajectory {
	late := &Trajectory{Arm: c.Arm, Order: c.Order, Seed: c.Seed, N: c.N, Dir: c.Dir, Diverged: c.Diverged}
	for k, n := range c.Steps {
		if float64(n) <= frac*float64(c.N) {
			continue
		}
		late.Steps = append(late.Steps, n)
		if k < len(c.Iterates) {
			late.Iterates = append(late.Iterates, c.Iterates[k])
		}
		for _, name := range []string{"train_loss", "test_loss", "train_accuracy", "test_accuracy"} {
			if from := *c.metric(name); k < len(from) {
				to := late.metric(name)
				*to = append(*to, from[k])
			}
		}
	}
	return late
}

// Limit estimates the point the run converges to and its distance from every evaluated iterate
// (analysis.BackwardLimit: meaningful for a backward-type order, whose step sizes decay).
func (c *Trajectory) Limit() (analysis.Limit, error) {
	return analysis.BackwardLimit(c.Steps, c.Iterates)
}

// Result holds the trajectories of an experiment.
type Result struct {
	// Spec is the experiment that produced the curves.
	Spec *Spec
	// Trajectories holds one trajectory per order and seed, orders in the spec's order, seeds in the spec's order.
	Trajectories []*Trajectory
	// Stats counts the work done.
	Stats Stats
	// Backend names the backend the runs belong to (backend.Identity: a run's identity includes it).
	Backend string
	// WarmUp, for a spec with a warm-up, holds the warm-up runs, one per seed in the spec's order: their last
	// iterate is θ_0, their metrics (with Spec.Metrics) say where the experiment starts.
	WarmUp []*Trajectory
}

// Stats counts the work of a Run.
type Stats struct {
	// Applied is the number of update maps this Run computed (work reused from the run store is not counted).
	Applied int
	// Stored counts the runs (an order and a seed) that were complete in the run store when the Run started: read
	// back, nothing computed. Zero means the Run computed every run of the spec, from scratch or from a
	// checkpoint.
	Stored int
}

// add accumulates the work of another part of a Run.
func (s *Stats) add(o Stats) {
	s.Applied += o.Applied
	s.Stored += o.Stored
}

// Trajectory returns the trajectory of an arm and seed, or nil.
func (r *Result) Trajectory(arm string, seed uint64) *Trajectory {
	for _, c := range r.Trajectories {
		if c.Arm == arm && c.Seed == seed {
			return c
		}
	}
	return nil
}

// Arm returns the trajectories of one arm, in seed order.
func (r *Result) Arm(arm string) []*Trajectory {
	var cs []*Trajectory
	for _, c := range r.Trajectories {
		if c.Arm == arm {
			cs = append(cs, c)
		}
	}
	return cs
}
