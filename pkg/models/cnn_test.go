package models

import (
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
)

// Parameter counts of the pytorch-cifar reference networks at width 1.
func TestParameterCounts(t *testing.T) {
	cases := []struct {
		m    Model
		want int
	}{
		{ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1}, 11_173_962},
		{ResNet{Depth: 18, Channels: 3, Classes: 100, Width: 1}, 11_220_132},
		{ResNet{Depth: 50, Channels: 3, Classes: 10, Width: 1}, 23_520_842},
		{ResNet{Depth: 50, Channels: 3, Classes: 100, Width: 1}, 23_705_252},
		{VGG{Depth: 11, Channels: 3, Classes: 10, Width: 1}, 9_231_114},
		{VGG{Depth: 16, Channels: 3, Classes: 10, Width: 1}, 14_728_266},
		{MLP{Widths: []int{784, 128, 10}, Activation: ReLUActivation}, 101_770},
	}
	for _, c := range cases {
		if got := NumParams(c.m); got != c.want {
			t.Errorf("%s: %d parameters, want %d", c.m.Name(), got, c.want)
		}
	}
}

// An MLP's forward values per example lie between the sum of its widths (each layer's output, and the input) and a
// few times that (pre-activations, reshapes); a convnet's outnumber its inputs many times over.
func TestForwardScalarsCountsValuesPerExample(t *testing.T) {
	b := backendtest.Default(t)
	mlp := MLP{Widths: []int{784, 256, 256, 10}, Activation: ReLUActivation}
	n, err := ForwardScalars(b, mlp, []int{28, 28, 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum := int64(784 + 256 + 256 + 10); n < sum || n > 4*sum {
		t.Errorf("MLP: %d forward values per example, want %d to %d", n, sum, 4*sum)
	}
	r, err := ForwardScalars(b, ResNet{Depth: 18, Channels: 3, Classes: 10, Width: 1.0 / 16}, []int{32, 32, 3})
	if err != nil {
		t.Fatal(err)
	}
	if r < 100*32*32*3 {
		t.Errorf("ResNet-18 at width 1/16: %d forward values per example, want over 100 times its 3 072 inputs", r)
	}
	if n, err := ForwardScalars(b, mlp, nil); n != 0 || err != nil {
		t.Errorf("without inputs: %d, %v", n, err)
	}
}
