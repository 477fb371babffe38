package experiment

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
)

// Describe says in Markdown what the experiment runs: the problem, one table row per arm (its rule with its
// hyper-parameters, its order with its settings, and the update maps one run of it costs), then seeds, steps,
// batching, the evaluation plan and what is measured. Notebooks show it beside the settings it was built from.
func (s *Spec) Describe() string {
	if err := s.Validate(); err != nil {
		return "invalid experiment: " + err.Error()
	}
	var b strings.Builder
	p := s.Problem
	fmt.Fprintf(&b, "**Problem** %s: model %s (%d parameters), loss %s, %d training examples", p.Name,
		p.Model.Name(), models.NumParams(p.Model), p.Loss.Name(), p.Train.Len())
	if p.Test != nil {
		fmt.Fprintf(&b, ", %d test examples", p.Test.Len())
	}
	evaluated, _ := s.evaluated()
	b.WriteString(".\n\n| arm | update rule | composition order | update maps per run |\n|---|---|---|---|\n")
	for _, a := range s.Arms {
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", a.Label(), describeHyper(a.Rule.Name(), a.Rule.Hyper()),
			describeOrder(a.Order), order.Cost(a.Order.Plan(evaluated)))
	}
	plan := s.Evaluated
	if plan == nil {
		plan = evaluation.Every(1)
	}
	fmt.Fprintf(&b, "\n**Seeds** %s; **N** = %d steps; batches of %d (%s); evaluated %s (%d steps); %s.",
		describeSeeds(s.Seeds), s.Steps, s.sampler().Batch(), s.sampler().Mode, plan, len(evaluated),
		strings.ToLower(s.dtype().String()))
	if w := s.WarmUp; w != nil {
		fmt.Fprintf(&b, " **Warm start**: θ_0 of each seed is the end of a forward warm-up run, %d update maps of %s "+
			"from the initialisation (its own seed and batches; %d maps per seed, once for all arms).", w.Steps,
			describeHyper(w.Rule.Name(), w.Rule.Hyper()), w.Steps)
	}
	var measured []string
	if s.Metrics {
		m := strings.Join(s.metricNames(), ", ")
		if s.EvalLimit > 0 {
			m += fmt.Sprintf(" (on the first %d examples of each set)", s.EvalLimit)
		}
		measured = append(measured, m)
	}
	if s.KeepIterates {
		measured = append(measured, "θ kept at every evaluated step")
	}
	if len(measured) > 0 {
		fmt.Fprintf(&b, " **Measured**: %s.", strings.Join(measured, "; "))
	}
	return b.String()
}

// describeHyper writes a rule as its name and sorted hyper-parameters, e.g. "sgd (learning_rate 0.025)".
func describeHyper(name string, hyper map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(hyper)) {
		parts = append(parts, fmt.Sprintf("%s %g", k, hyper[k]))
	}
	return fmt.Sprintf("%s (%s)", name, strings.Join(parts, ", "))
}

// describeOrder writes an order as its name and settings, if any.
func describeOrder(o order.Order) string {
	st, ok := o.(interface{ Settings() map[string]any })
	if !ok {
		return o.Name()
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(st.Settings())) {
		parts = append(parts, fmt.Sprintf("%s %v", k, st.Settings()[k]))
	}
	return fmt.Sprintf("%s (%s)", o.Name(), strings.Join(parts, ", "))
}

// describeSeeds writes seeds 1…n as a range, others as a list.
func describeSeeds(seeds []uint64) string {
	if slices.Equal(seeds, SeedRange(len(seeds))) && len(seeds) > 2 {
		return fmt.Sprintf("1–%d", len(seeds))
	}
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, ", ")
}
