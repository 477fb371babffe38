package problem

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/models"
)

// Every synthetic problem is rebuilt from its Source with the same data, bit for bit, and the same model.
func TestSourceRebuildsTheProblem(t *testing.T) {
	builders := []func() (*Problem, error){
		Quadratic{Dim: 3, Sigma: 0.5, Start: 2, Examples: 64, Seed: 7}.New,
		Regression{Data: data.TeacherRegression{Dim: 3, Hidden: 4, Noise: 0.1, Train: 32, Test: 8, Seed: 5},
			Hidden: []int{6}, Activation: models.TanhActivation}.New,
		Linear{Data: data.LinearRegression{Dim: 2, Noise: 0.5, Train: 40, Seed: 3}}.New,
	}
	for _, build := range builders {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		if p.Source == nil {
			t.Fatalf("%s has no source", p.Name)
		}
		q, err := p.Source.Rebuild()
		if err != nil {
			t.Fatal(err)
		}
		if q.Name != p.Name || q.Model.Name() != p.Model.Name() {
			t.Errorf("%s rebuilt as %s with model %s", p.Name, q.Name, q.Model.Name())
		}
		for _, pair := range [][2]*data.Dataset{{p.Train, q.Train}, {p.Test, q.Test}} {
			if (pair[0] == nil) != (pair[1] == nil) {
				t.Fatalf("%s: a data set is missing after rebuilding", p.Name)
			}
			if pair[0] == nil {
				continue
			}
			for _, ts := range [][2]*tensors.Tensor{{pair[0].Inputs, pair[1].Inputs}, {pair[0].Targets, pair[1].Targets}} {
				if (ts[0] == nil) != (ts[1] == nil) {
					t.Fatalf("%s: a tensor is missing after rebuilding", p.Name)
				}
				if ts[0] != nil && !reflect.DeepEqual(ts[0].Value(), ts[1].Value()) {
					t.Errorf("%s: rebuilt data differ", p.Name)
				}
			}
		}
	}
	if _, err := (&Source{Kind: "cifar10"}).Rebuild(); err == nil || !strings.Contains(err.Error(), "quadratic") {
		t.Errorf("unknown kind: %v", err)
	}
}
