package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/replay"
	"github.com/revsgd/revsgd/pkg/runs"
)

// metricNames lists the metrics a spec evaluates: subset_loss and, for classifiers, subset_accuracy, for the
// training data and (where there is some) the test data.
func (s *Spec) metricNames() []string {
	if !s.Metrics {
		return nil
	}
	var names []string
	for _, sub := range s.subsets() {
		names = append(names, string(sub)+"_loss")
		if _, ok := s.Problem.Loss.(problem.Classifier); ok {
			names = append(names, string(sub)+"_accuracy")
		}
	}
	return names
}

// subsets lists the data the metrics are evaluated on: the training data and, where there is some, the test data.
func (s *Spec) subsets() []replay.Subset {
	if s.Problem.Test == nil {
		return []replay.Subset{replay.TrainData}
	}
	return []replay.Subset{replay.TrainData, replay.TestData}
}

// runConfig returns the run configuration of an order and seed.
func (s *job) runConfig(b compute.Backend, width int, o order.Order, seed uint64, evaluated []int, dataHashes [2]string) runs.Config {
	p := s.Problem
	cfg := runs.Config{
		Library: revsgd.Version,
		Problem: runs.ProblemConfig{Name: p.Name, Model: p.Model.Name(), Loss: p.Loss.Name(),
			TrainSHA256: dataHashes[0], TestSHA256: dataHashes[1]},
		Order:      runs.OrderConfig{Name: o.Name()},
		Rule:       runs.RuleConfig{Name: s.rule.Name(), Hyper: s.rule.Hyper()},
		Seed:       seed,
		Steps:      s.Steps,
		BatchSize:  s.sampler().Batch(),
		Sampling:   string(s.sampler().Mode),
		Evaluated:  slices.Clone(evaluated),
		DType:      strings.ToLower(s.dtype().String()),
		Backend:    backend.Identity(b),
		GroupWidth: width,
		Metrics:    s.metricNames(),
		EvalLimit:  s.EvalLimit,
		Iterates:   s.KeepIterates,
	}
	if st, ok := o.(interface{ Settings() map[string]any }); ok {
		cfg.Order.Settings = st.Settings()
	}
	if s.warm != nil {
		cfg.WarmUp = s.warm.config(&s.Spec, seed)
	}
	if p.Source != nil {
		cfg.Problem.Source, _ = json.Marshal(p.Source) // a kind and raw JSON: cannot fail
	}
	for _, prm := range p.Model.Params() {
		cfg.Problem.Params = append(cfg.Problem.Params, runs.ParamConfig{Name: prm.Name, Dims: prm.Dims})
	}
	return cfg
}

// dataHashes returns the SHA-256 of the training and test data (inputs, then targets, with their shapes).
func dataHashes(tr, te *data.Dataset) ([2]string, error) {
	var out [2]string
	for i, d := range []*data.Dataset{tr, te} {
		if d == nil {
			continue
		}
		h := sha256.New()
		for _, t := range []*tensors.Tensor{d.Inputs, d.Targets} {
			if t == nil {
				continue
			}
			h.Write([]byte(t.Shape().String()))
			if err := t.ConstBytes(func(b []byte) { h.Write(b) }); err != nil {
				return out, fmt.Errorf("experiment: hashing data set %q: %w", d.Name, err)
			}
		}
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}
