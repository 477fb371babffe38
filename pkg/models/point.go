package models

import (
	"fmt"
	"slices"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/revsgd/revsgd/pkg/rng"
)

// Point is the model of the quadratic problem: its only parameter is a point θ ∈ R^Dim, returned as the
// prediction for every example, so that with the half squared error the per-example loss is ½‖θ − ε_i‖².
type Point struct {
	// Start is θ_0, the same for every seed (the quadratic's randomness is all in the data). Its length is the
	// dimension.
	Start []float64
}

// Name implements Model.
func (p Point) Name() string { return fmt.Sprintf("point-%d", len(p.Start)) }

// Params implements Model.
func (p Point) Params() []Param { return []Param{{Name: "theta", Dims: []int{len(p.Start)}}} }

// Init implements Model: it returns a copy of Start.
func (p Point) Init(*rng.Source) []float64 { return slices.Clone(p.Start) }

// Apply implements Model: θ with shape [R, 1, Dim].
func (p Point) Apply(params []*Node, _ *Node) *Node { return InsertAxes(params[0], 1) }
