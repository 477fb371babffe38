package figures

import (
	"fmt"
	"strings"

	"github.com/revsgd/revsgd/pkg/order"
)

// Overrides are the settings that can be changed on any figure from outside it (revsgd figure -steps, -every,
// -seeds, -orders): a zero field, or nil Orders, leaves the figure's own. A figure rejects, with an error that
// names it, a field that has no meaning for it (the quadratic figure evaluates every step, so -every does not
// apply), and applies the others to each of its experiments.
type Overrides struct {
	// Steps is the number of update maps N of every run.
	Steps int
	// Every is the evaluation interval.
	Every int
	// Seeds is the number of seeds (of the curves, where a figure also draws histograms over many seeds).
	Seeds int
	// Orders are the composition orders compared.
	Orders []order.Order
}

// check returns an error for a negative field.
func (o Overrides) check() error {
	if o.Steps < 0 || o.Every < 0 || o.Seeds < 0 {
		return fmt.Errorf("figures: overrides must be positive (0 leaves the figure's own): steps %d, every %d, seeds %d",
			o.Steps, o.Every, o.Seeds)
	}
	return nil
}

// notApplicable is the error for the overrides that a figure has no setting for.
func notApplicable(id string, o Overrides, every, orders bool, why string) error {
	var names []string
	if every && o.Every > 0 {
		names = append(names, "the evaluation interval")
	}
	if orders && o.Orders != nil {
		names = append(names, "the composition orders")
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("figures: %s: %s cannot be overridden: %s", id, names[0], why)
}

// set replaces *field by v when v is positive.
func set(field *int, v int) {
	if v > 0 {
		*field = v
	}
}

// everyWithin checks that an evaluation interval leaves a step to evaluate.
func everyWithin(id string, every, steps int) error {
	if every > steps {
		return fmt.Errorf("figures: %s: the evaluation interval %d exceeds the %d steps, so no step would be "+
			"evaluated; lower the interval or raise the steps", id, every, steps)
	}
	return nil
}

// Override implements Figure: every field applies.
func (c *Classification) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	set(&c.Steps, o.Steps)
	set(&c.Every, o.Every)
	set(&c.Seeds, o.Seeds)
	if o.Orders != nil {
		if err := comparedWithForward(c.ID(), o.Orders); err != nil {
			return err
		}
		c.Orders = o.Orders
	}
	if err := everyWithin(c.ID(), c.Every, c.Steps); err != nil {
		return err
	}
	return ordersWithin(c.ID(), c.orders(), c.Steps)
}

// ordersWithin checks that a switch or the first reset of an order falls within the run's N steps: otherwise the
// order is forward SGD under another name, and its claims say nothing.
func ordersWithin(id string, orders []order.Order, steps int) error {
	for _, o := range orders {
		switch v := o.(type) {
		case order.Switch:
			if v.At >= steps {
				return fmt.Errorf("figures: %s: %s switches at step %d, not within N = %d steps: the run would never "+
					"switch; raise the steps or switch earlier", id, v.Name(), v.At, steps)
			}
		case order.Intermittent:
			if len(v.Resets.Resets(steps)) == 0 {
				return fmt.Errorf("figures: %s: %s has no reset within N = %d steps: it would be backward SGD "+
					"throughout; raise the steps or shorten the window", id, v.Name(), steps)
			}
		}
	}
	return nil
}

// comparedWithForward checks that orders hold forward and another order: a figure's claims compare every order
// with forward SGD, so without it they cannot be measured (found before anything is computed, not after).
func comparedWithForward(id string, orders []order.Order) error {
	for _, o := range orders {
		if o != nil && o.Name() == (order.Forward{}).Name() {
			if len(orders) < 2 {
				return fmt.Errorf("figures: %s: forward alone: the figure compares other orders with forward SGD; "+
					"add one, e.g. -orders forward,backward", id)
			}
			return nil
		}
	}
	return fmt.Errorf("figures: %s: the orders %s lack forward: the figure compares each order with forward SGD; "+
		"add it, e.g. -orders forward,%s", id, strings.Join(orderNames(orders), ","), orderNames(orders)[0])
}

// Override implements Figure: every field applies to each part.
func (c *Composite) Override(o Overrides) error {
	for _, p := range c.Parts {
		if err := p.Override(o); err != nil {
			return fmt.Errorf("%s: %w", c.ID(), err)
		}
	}
	return nil
}

// Override implements Figure: steps, interval and seeds; the orders are forward and backward.
func (r *Regression) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := notApplicable(r.ID(), o, false, true, "the figure compares forward and backward"); err != nil {
		return err
	}
	set(&r.Steps, o.Steps)
	set(&r.Every, o.Every)
	set(&r.Seeds, o.Seeds)
	return everyWithin(r.ID(), r.Every, r.Steps)
}

// Override implements Figure: the steps and the seeds of the curves (the histograms keep HistogramSeeds).
func (q *Quadratic) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := notApplicable(q.ID(), o, true, true, "the figure evaluates every step of forward and backward SGD"); err != nil {
		return err
	}
	set(&q.Steps, o.Steps)
	set(&q.CurveSeeds, o.Seeds)
	return nil
}

// Override implements Figure: the steps of both problems and the seeds.
func (s *Stationary) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := notApplicable(s.ID(), o, true, true, "the figure compares the laws of forward and backward θ_N"); err != nil {
		return err
	}
	set(&s.QuadSteps, o.Steps)
	set(&s.LinSteps, o.Steps)
	set(&s.Seeds, o.Seeds)
	return nil
}

// Override implements Figure: the steps, interval and seeds of the three problems; the methods are the
// figure's.
func (b *Baselines) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := notApplicable(b.ID(), o, false, true, "the figure compares its own methods (averages of forward iterates)"); err != nil {
		return err
	}
	set(&b.QuadSteps, o.Steps)
	set(&b.LinSteps, o.Steps)
	set(&b.QuadEvery, o.Every)
	set(&b.LinEvery, o.Every)
	set(&b.QuadSeeds, o.Seeds)
	set(&b.LinSeeds, o.Seeds)
	if err := everyWithin(b.ID(), max(b.QuadEvery, b.LinEvery), min(b.QuadSteps, b.LinSteps)); err != nil {
		return err
	}
	return b.MLP.Override(o)
}

// Override implements Figure: the steps of the sweep and of the trajectory, the trajectory's interval, and the
// seeds; the orders are the bracket's.
func (l *LieBracket) Override(o Overrides) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := notApplicable(l.ID(), o, false, true, "the figure compares backward SGD with forward SGD and its corrections"); err != nil {
		return err
	}
	set(&l.SweepSteps, o.Steps)
	set(&l.TrajSteps, o.Steps)
	set(&l.TrajEvery, o.Every)
	set(&l.Seeds, o.Seeds)
	return everyWithin(l.ID(), l.TrajEvery, l.TrajSteps)
}

// Override implements Figure: every field applies to both of its experiments where they have it.
func (s *Stopping) Override(o Overrides) error {
	if err := notApplicable(s.ID(), o, false, true, "the figure compares forward and backward"); err != nil {
		return err
	}
	if err := s.Regression.Override(o); err != nil {
		return err
	}
	return s.MLP.Override(o)
}
