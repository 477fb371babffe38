package problem

import (
	"encoding/json"
	"fmt"
)

// Source says where a problem comes from, enough to build it again from a run's directory alone: the kind of
// generator and its settings, as JSON (the fields of Quadratic, Regression or Linear). Problems on data read from
// files (FashionMNIST, CIFAR) have none; their runs identify the data by its SHA-256 instead.
type Source struct {
	// Kind is "quadratic", "teacher-regression" or "linear-regression".
	Kind string `json:"kind"`
	// Settings are the generator's fields.
	Settings json.RawMessage `json:"settings"`
}

func sourceOf(kind string, settings any) *Source {
	b, err := json.Marshal(settings)
	if err != nil {
		panic(fmt.Errorf("problem: the settings of %s do not encode: %w", kind, err)) // plain structs: cannot fail
	}
	return &Source{Kind: kind, Settings: b}
}

// Rebuild builds the problem the source describes: the same data, model and loss, bit for bit.
func (s *Source) Rebuild() (*Problem, error) {
	decode := func(v any) error {
		if err := json.Unmarshal(s.Settings, v); err != nil {
			return fmt.Errorf("problem: the %s settings %s do not decode: %w", s.Kind, s.Settings, err)
		}
		return nil
	}
	switch s.Kind {
	case "quadratic":
		var q Quadratic
		if err := decode(&q); err != nil {
			return nil, err
		}
		return q.New()
	case "teacher-regression":
		var r Regression
		if err := decode(&r); err != nil {
			return nil, err
		}
		return r.New()
	case "linear-regression":
		var l Linear
		if err := decode(&l); err != nil {
			return nil, err
		}
		return l.New()
	}
	return nil, fmt.Errorf("problem: unknown source kind %q; known: quadratic, teacher-regression, linear-regression", s.Kind)
}
