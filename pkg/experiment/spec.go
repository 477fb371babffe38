// Package experiment runs the arms of an experiment side by side — each an update rule under a composition
// order — on the same draws: for each seed it draws θ_0 and the batch history, asks each arm's order for its plan
// of replays, runs all replays as replicas in lockstep on a replay.Engine (one per rule), and returns one
// trajectory per arm and seed, evaluated at the steps of its evaluation plan.
package experiment

import (
	"encoding/json"
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/rng"
	"github.com/revsgd/revsgd/pkg/update"
)

// Spec is everything that determines the results of an experiment: what is run, not how (Runner says how).
type Spec struct {
	// Problem is the data, model and loss.
	Problem *problem.Problem
	// Arms are what is compared: each an update rule under a composition order, run for every seed on the same
	// θ_0 and batches. Orders(rule, orders...) gives the paper's comparison, one rule under several orders.
	Arms []Arm
	// Seeds are the run seeds. Seed s draws θ_0 from rng.Derive(s, "init") (or takes it from its warm-up run,
	// see WarmUp) and the batch history from rng.Derive(s, "batches").
	Seeds []uint64
	// WarmUp, when set, starts every run of seed s at the last iterate of a forward warm-up run instead of the
	// model's initialisation: θ_0 near a minimum, where the paper's contraction argument applies, without the
	// cost of replaying the early descent.
	WarmUp *WarmUp
	// Steps is the number of update maps n of each run.
	Steps int
	// BatchSize is the number of examples per batch (ignored for full-batch sampling).
	BatchSize int
	// Sampling is how batches are drawn; empty means data.Shuffled.
	Sampling data.Sampling
	// Evaluated is the evaluation plan: the steps at which each run's metrics are computed (evaluation.Every(10),
	// a list, log-spaced steps); nil means every step.
	Evaluated evaluation.Plan
	// DType is dtypes.Float32 (the default when zero) or dtypes.Float64.
	DType dtypes.DType

	// KeepIterates keeps θ at every evaluated step in the curves.
	KeepIterates bool
	// Metrics evaluates, at every evaluated step, the mean loss on the training data (and on the test data where
	// the problem has some), and the accuracy too for classification losses.
	Metrics bool
	// EvalLimit, when positive, evaluates metrics on the first EvalLimit examples of each data set only.
	EvalLimit int
}

// Arm is one thing an experiment compares: an update rule (whose read-out is θ, or for an update.Averaged rule
// the average of its iterates) under a composition order, with a name.
type Arm struct {
	// Name labels the arm's trajectories (Trajectory.Arm, Result.Arm); empty means the order's name.
	Name string
	// Rule is the optimizer step of each update map.
	Rule update.Rule
	// Order is the composition order of the maps.
	Order order.Order
}

// WarmUp is a forward run that makes θ_0: seed s's runs start where the forward run of seed rng.Derive(s,
// "warm-up") ends after Steps update maps of Rule, on the same problem, batching and dtype. The warm-up is a run
// like any other (stored, resumed, shared by every arm and by every experiment with the same warm-up); its batches
// come from its own seed, so the experiment's runs do not see its batches again in the same order.
type WarmUp struct {
	// Rule is the optimizer step of the warm-up's maps.
	Rule update.Rule
	// Steps is the number of forward update maps.
	Steps int
}

// Seed returns the run seed of seed s's warm-up run.
func (w *WarmUp) Seed(s uint64) uint64 { return rng.Derive(s, "warm-up") }

// Label returns the arm's name: Name, or the order's name when Name is empty.
func (a Arm) Label() string {
	if a.Name == "" && order.Validate(a.Order) == nil {
		return a.Order.Name()
	}
	return a.Name
}

// Orders returns one arm per order, all with the same rule, each named by its order: composition orders
// compared under one rule, as the paper's figures do.
func Orders(rule update.Rule, orders ...order.Order) []Arm {
	out := make([]Arm, len(orders))
	for i, o := range orders {
		out[i] = Arm{Rule: rule, Order: o}
	}
	return out
}

// ruleKey identifies a rule by its name and hyper-parameters, as a run's configuration does.
func ruleKey(r update.Rule) string {
	h, _ := json.Marshal(r.Hyper()) // a map of numbers: cannot fail (sorted keys)
	return r.Name() + string(h)
}

// sampler returns the batch sampler of the spec.
func (s *Spec) sampler() data.Sampler {
	mode := s.Sampling
	if mode == "" {
		mode = data.Shuffled
	}
	return data.Sampler{Examples: s.Problem.Train.Len(), BatchSize: s.BatchSize, Mode: mode}
}

// dtype returns the dtype, defaulting to float32.
func (s *Spec) dtype() dtypes.DType {
	if s.DType == dtypes.InvalidDType {
		return dtypes.Float32
	}
	return s.DType
}

// Validate checks the spec and says what is wrong and how to fix it.
func (s *Spec) Validate() error {
	if s.Problem == nil {
		return fmt.Errorf("experiment: no problem given")
	}
	if err := s.Problem.Validate(); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	if len(s.Arms) == 0 {
		return fmt.Errorf("experiment: no arms given (e.g. Arms: experiment.Orders(update.SGD{LearningRate: 0.1}, " +
			"order.Forward{}, order.Backward{}))")
	}
	names, runs := map[string]bool{}, map[string]string{}
	for i, a := range s.Arms {
		if err := a.validate(); err != nil {
			if a.Label() == "" {
				return fmt.Errorf("experiment: arm %d: %w", i+1, err)
			}
			return fmt.Errorf("experiment: arm %d (%s): %w", i+1, a.Label(), err)
		}
		if names[a.Label()] {
			return fmt.Errorf("experiment: two arms are named %q; give each arm its own Name", a.Label())
		}
		names[a.Label()] = true
		key := ruleKey(a.Rule) + " " + a.Order.Name()
		if other, ok := runs[key]; ok {
			return fmt.Errorf("experiment: arms %q and %q run the same rule %s under the same order %s: they are "+
				"the same runs; keep one", other, a.Label(), a.Rule.Name(), a.Order.Name())
		}
		runs[key] = a.Label()
	}
	if len(s.Seeds) == 0 {
		return fmt.Errorf("experiment: no seeds given")
	}
	seeds := map[uint64]bool{}
	for _, seed := range s.Seeds {
		if seeds[seed] {
			return fmt.Errorf("experiment: seed %d is listed twice: each seed is one run (use SeedRange(n) for n seeds)", seed)
		}
		seeds[seed] = true
	}
	if s.Steps <= 0 {
		return fmt.Errorf("experiment: the number of steps must be positive, got %d", s.Steps)
	}
	if w := s.WarmUp; w != nil {
		if w.Rule == nil {
			return fmt.Errorf("experiment: the warm-up has no update rule (e.g. WarmUp{Rule: update.SGD{LearningRate: 0.025}, Steps: 1000})")
		}
		if err := w.Rule.Validate(); err != nil {
			return fmt.Errorf("experiment: warm-up: %w", err)
		}
		if w.Steps <= 0 {
			return fmt.Errorf("experiment: the warm-up's number of steps must be positive, got %d (or leave WarmUp nil "+
				"to start at the model's initialisation)", w.Steps)
		}
	}
	if err := s.sampler().Validate(); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	if dt := s.dtype(); dt != dtypes.Float32 && dt != dtypes.Float64 {
		return fmt.Errorf("experiment: dtype must be float32 or float64, got %s", dt)
	}
	if s.EvalLimit < 0 {
		return fmt.Errorf("experiment: EvalLimit must be 0 (all examples) or a positive number of examples, got %d", s.EvalLimit)
	}
	// Before the evaluated steps are listed: there may be too many to list.
	if err := s.checkHostMemory(); err != nil {
		return err
	}
	if _, err := s.evaluated(); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

// validate checks one arm.
func (a Arm) validate() error {
	if a.Rule == nil {
		return fmt.Errorf("no update rule given (e.g. update.SGD{LearningRate: 0.1})")
	}
	if err := a.Rule.Validate(); err != nil {
		return err
	}
	if err := order.Validate(a.Order); err != nil {
		return err
	}
	if _, forward := a.Order.(order.Forward); update.Averages(a.Rule) && !forward {
		return fmt.Errorf("the rule %s reports an average of the iterates along its chain, a baseline of "+
			"forward SGD; run it with order.Forward only, not %q", a.Rule.Name(), a.Order.Name())
	}
	return nil
}

// evaluated returns the evaluated steps.
func (s *Spec) evaluated() ([]int, error) {
	plan := s.Evaluated
	if plan == nil {
		plan = evaluation.Every(1)
	}
	return plan.Steps(s.Steps)
}

// SeedRange returns the run seeds 1, …, n: the seeds of a figure or benchmark with n seeds.
func SeedRange(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// Draw returns what a run of the spec draws for a seed: θ_0 and the batch history B_1 … B_Steps. Code that works
// beside Run on the same runs (e.g. lie.Expansion) starts from these. A spec with a warm-up has no θ_0 to draw
// (its warm-up run makes it; Runner.Run computes it and stores it as each run's theta0.npy): Draw refuses it.
func (s *Spec) Draw(seed uint64) (theta0 []float64, batches *data.History, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if s.WarmUp != nil {
		return nil, nil, fmt.Errorf("experiment: θ_0 of a warm-started spec is the end of its warm-up run, not a " +
			"draw: run the spec (each stored run keeps its θ_0 in theta0.npy)")
	}
	return s.draw(seed)
}

// draw is Draw for a validated spec.
func (s *Spec) draw(seed uint64) ([]float64, *data.History, error) {
	h, err := s.sampler().History(seedBatches(seed), s.Steps)
	if err != nil {
		return nil, nil, fmt.Errorf("experiment: %w", err)
	}
	return s.Problem.Model.Init(rng.New(seedInit(seed))), h, nil
}

// seedInit and seedBatches derive the two streams of a run seed.
func seedInit(seed uint64) uint64    { return rng.Derive(seed, "init") }
func seedBatches(seed uint64) uint64 { return rng.Derive(seed, "batches") }
