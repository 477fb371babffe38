package portable

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// ulps is the distance between a and b in units in the last place of b.
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
}

// Each function is within a few ulps of Go's math package over its range (Go's are within 1 ulp of the truth).
func TestAccuracy(t *testing.T) {
	worst := map[string]float64{}
	for i := 0; i < 200000; i++ {
		u := (float64(i) + 0.5) / 200000
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"Log", Log(u), math.Log(u)},
			{"Log large", Log(u * 1e300), math.Log(u * 1e300)},
			{"CosTurns", CosTurns(u), math.Cos(2 * math.Pi * u)},
			{"Exp", Exp(80*u - 40), math.Exp(80*u - 40)},
			{"Tanh", Tanh(10*u - 5), math.Tanh(10*u - 5)},
		} {
			// Near a zero of cos the relative error is meaningless: measure it against 1.
			if c.name == "CosTurns" {
				worst[c.name] = max(worst[c.name], math.Abs(c.got-c.want)/(math.Nextafter(1, 2)-1))
				continue
			}
			worst[c.name] = max(worst[c.name], ulps(c.got, c.want))
		}
	}
	limits := map[string]float64{"Log": 4, "Log large": 4, "CosTurns": 8, "Exp": 4, "Tanh": 8}
	for name, w := range worst {
		t.Logf("%s: worst %.3g ulps", name, w)
		if w > limits[name] {
			t.Errorf("%s: %.3g ulps from math, more than %g", name, w, limits[name])
		}
	}
	for _, c := range []struct {
		got, want float64
	}{{Log(1), 0}, {CosTurns(0), 1}, {CosTurns(0.5), -1}, {Exp(0), 1}, {Tanh(0), 0}, {Tanh(30), 1}, {Tanh(-30), -1}} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	if !math.IsInf(Log(0), -1) || !math.IsNaN(Log(-1)) || !math.IsInf(Exp(1000), 1) || Exp(-1000) != 0 {
		t.Error("special values")
	}
}

// The bits agree with testdata/reference.txt, computed by testdata/reference.py (Python floats, the same steps):
// the functions are portable across languages and machines.
func TestReferenceValues(t *testing.T) {
	f, err := os.Open("testdata/reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fns := map[string]func(float64) float64{"log": Log, "costurns": CosTurns, "exp": Exp, "tanh": Tanh}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		x, err1 := strconv.ParseFloat(fields[1], 64)
		want, err2 := strconv.ParseFloat(fields[2], 64)
		fn, ok := fns[fields[0]]
		if err1 != nil || err2 != nil || !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		if got := fn(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("%s(%s) = %s, the reference says %s", fields[0], fields[1], fmt.Sprint(got), fields[2])
		}
		n++
	}
	if n < 100 {
		t.Errorf("only %d reference values", n)
	}
}
