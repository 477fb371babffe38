package models

import "testing"

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
