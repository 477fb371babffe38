package experiment

import (
	"reflect"
	"testing"
)

// Late keeps the evaluated steps after the fraction of N, with their iterates and metrics, and nothing else.
func TestTrajectoryLateKeepsTheLaterSteps(t *testing.T) {
	tr := &Trajectory{Order: "backward", Seed: 3, N: 40, Steps: []int{10, 20, 30, 40},
		Iterates: [][]float64{{1}, {2}, {3}, {4}}, TrainLoss: []float64{0.4, 0.3, 0.2, 0.1},
		TestAccuracy: []float64{0.5, 0.6, 0.7, 0.8}}
	late := tr.Late(0.5)
	want := &Trajectory{Order: "backward", Seed: 3, N: 40, Steps: []int{30, 40}, Iterates: [][]float64{{3}, {4}},
		TrainLoss: []float64{0.2, 0.1}, TestAccuracy: []float64{0.7, 0.8}}
	if !reflect.DeepEqual(late, want) {
		t.Errorf("Late(0.5) = %+v, want %+v", late, want)
	}
	if got := tr.Late(1); len(got.Steps) != 0 || len(got.Iterates) != 0 {
		t.Errorf("Late(1) kept %v", got.Steps)
	}
}
