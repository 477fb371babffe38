// Package problem defines a training problem: data, a model and a per-batch loss. A problem is what an update
// map is built from: T_i(θ) = θ − h ∇L_{B_i}(θ), with L_{B_i} the problem's loss averaged over batch B_i.
package problem

import (
	"fmt"

	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
)

// Problem is a model fitted to data by minimising a loss.
type Problem struct {
	// Name identifies the problem in configurations and plots, e.g. "quadratic-1d".
	Name string
	// Model is the parametric model.
	Model models.Model
	// Loss is the per-example loss, averaged over each batch.
	Loss Loss
	// Train is the data batches are drawn from.
	Train *data.Dataset
	// Test is held-out data for test metrics; it may be nil.
	Test *data.Dataset
	// Source, when set, says how to build the problem again (synthetic problems); runs store it.
	Source *Source
}

// Validate checks that the problem is complete and its parts agree.
func (p *Problem) Validate() error {
	if p == nil {
		return fmt.Errorf("problem is nil")
	}
	if p.Model == nil || p.Loss == nil {
		return fmt.Errorf("problem %q needs a model and a loss", p.Name)
	}
	if v, ok := p.Model.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("problem %q: %w", p.Name, err)
		}
	}
	if err := p.Train.Validate(); err != nil {
		return fmt.Errorf("problem %q, training data: %w", p.Name, err)
	}
	if p.Test != nil {
		if err := p.Test.Validate(); err != nil {
			return fmt.Errorf("problem %q, test data: %w", p.Name, err)
		}
	}
	return nil
}
