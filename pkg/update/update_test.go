package update

import (
	"reflect"
	"strings"
	"testing"
)

// FromConfig inverts Name and Hyper for every rule, and says what is wrong with a bad configuration.
func TestFromConfigInvertsNameAndHyper(t *testing.T) {
	sgd := SGD{LearningRate: 0.025}
	for _, r := range []Rule{sgd, Momentum{LearningRate: 0.1, Mu: 0.9}, DefaultAdamW(1e-3),
		SGD{LearningRate: 0.025, Schedule: Cosine{Horizon: 600}},
		AdamW{LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Schedule: StepDecay{Horizon: 9}},
		Momentum{LearningRate: 0.1, Mu: 0.5, Schedule: StepDecay{Horizon: 9}},
		Averaged{Rule: sgd, EMA: 0.99}, Averaged{Rule: sgd, TailStart: 300},
		Averaged{Rule: SGD{LearningRate: 0.025, Schedule: Cosine{Horizon: 600}}, EMA: 0.9}} {
		got, err := FromConfig(r.Name(), r.Hyper())
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("%s: got %#v, %v", r.Name(), got, err)
		}
	}
	for _, bad := range []struct {
		name  string
		hyper map[string]float64
		want  string
	}{
		{"rmsprop", map[string]float64{"learning_rate": 1}, "unknown rule"},
		{"sgd", map[string]float64{"lr": 1}, `"learning_rate"`},
		{"momentum", map[string]float64{"learning_rate": 1}, "takes the hyper-parameters"},
		{"sgd+linear", map[string]float64{"learning_rate": 1}, "cosine, step, ema or tail"},
		{"sgd+cosine", map[string]float64{"learning_rate": 1}, `"decay_horizon"`},
		{"sgd+cosine", map[string]float64{"learning_rate": 1, "decay_horizon": 2.5}, "whole number"},
		{"sgd+tail", map[string]float64{"learning_rate": 1, "tail_start": 0}, "EMA decay"},
		{"sgd+ema", map[string]float64{"learning_rate": 1, "ema_decay": 1}, "(0, 1)"},
		{"sgd+ema+cosine", map[string]float64{"learning_rate": 1, "ema_decay": 0.9, "decay_horizon": 5}, "no constant learning rate"},
		{"sgd+cosine+step", map[string]float64{"learning_rate": 1, "decay_horizon": 5}, `"decay_horizon"`},
		{"sgd+ema+ema", map[string]float64{"learning_rate": 1, "ema_decay": 0.9}, `"ema_decay"`},
	} {
		if _, err := FromConfig(bad.name, bad.hyper); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: %v, want an error containing %s", bad.name, bad.hyper, err, bad.want)
		}
	}
}
