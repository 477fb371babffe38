package update

import (
	"reflect"
	"strings"
	"testing"
)

// FromConfig inverts Name and Hyper for every rule, and says what is wrong with a bad configuration.
func TestFromConfigInvertsNameAndHyper(t *testing.T) {
	for _, r := range []Rule{SGD{LearningRate: 0.025}, Momentum{LearningRate: 0.1, Mu: 0.9}, DefaultAdamW(1e-3)} {
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
	} {
		if _, err := FromConfig(bad.name, bad.hyper); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: %v, want an error containing %s", bad.name, bad.hyper, err, bad.want)
		}
	}
}
