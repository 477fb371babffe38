package analysis

import (
	"math"
	"testing"
)

func TestMeanStd(t *testing.T) {
	mean, std, err := MeanStd([][]float64{{1, 2}, {3, 2}, {5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if mean[0] != 3 || mean[1] != 2 || std[0] != 2 || std[1] != 0 {
		t.Errorf("mean %v std %v", mean, std)
	}
	if _, _, err := MeanStd([][]float64{{1}, {1, 2}}); err == nil {
		t.Error("ragged runs accepted")
	}
}

func TestNormalDensityIntegratesToOne(t *testing.T) {
	f := NormalDensity(0.5, 0.2)
	sum, dx := 0.0, 1e-3
	for x := -5.0; x < 6; x += dx {
		sum += f(x) * dx
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("integral %.8f", sum)
	}
	if v := QuadraticStationaryVariance(0.1, 2); math.Abs(v-0.4/1.9) > 1e-15 {
		t.Errorf("stationary variance %g", v)
	}
}
