package rng

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The first outputs of SplitMix64 seeded with 0, as published with the reference implementation
// (Vigna's splitmix64.c) and reproduced by every port.
func TestSplitMix64ReferenceValues(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec}
	s := New(0)
	for i, w := range want {
		if got := s.Uint64(); got != w {
			t.Fatalf("output %d: got %#x, want %#x", i, got, w)
		}
	}
}

func TestIntNIsInRangeAndUniform(t *testing.T) {
	s := New(7)
	const n, draws = 10, 100000
	var counts [n]int
	for range draws {
		k := s.IntN(n)
		if k < 0 || k >= n {
			t.Fatalf("IntN(%d) = %d", n, k)
		}
		counts[k]++
	}
	// Chi-square with 9 degrees of freedom: the 0.999 quantile is 27.88.
	chi2 := 0.0
	for _, c := range counts {
		e := float64(draws) / n
		chi2 += (float64(c) - e) * (float64(c) - e) / e
	}
	if chi2 > 27.88 {
		t.Errorf("chi-square %.2f exceeds the 0.999 quantile 27.88: counts %v", chi2, counts)
	}
}

func TestNormalMoments(t *testing.T) {
	s := New(3)
	const n = 200000
	var sum, sum2, sum4 float64
	for range n {
		x := s.Normal()
		sum += x
		sum2 += x * x
		sum4 += x * x * x * x
	}
	mean, m2, m4 := sum/n, sum2/n, sum4/n
	// Standard errors: mean 1/sqrt(n) = 0.0022, second moment sqrt(2/n) = 0.0032, fourth sqrt(96/n) = 0.022.
	// Five standard errors each.
	if math.Abs(mean) > 0.011 || math.Abs(m2-1) > 0.016 || math.Abs(m4-3) > 0.11 {
		t.Errorf("moments of Normal: mean %.4f (want 0), E[x²] %.4f (want 1), E[x⁴] %.4f (want 3)", mean, m2, m4)
	}
}

func TestPermIsAPermutation(t *testing.T) {
	p := New(11).Perm(1000)
	seen := make([]bool, len(p))
	for _, v := range p {
		if seen[v] {
			t.Fatalf("value %d appears twice", v)
		}
		seen[v] = true
	}
	if q := New(11).Perm(1000); q[0] != p[0] || q[999] != p[999] {
		t.Error("the same seed gave a different permutation")
	}
}

func TestDeriveSeparatesStreams(t *testing.T) {
	a, b := Derive(1, "init"), Derive(1, "batches")
	if a == b || a == Derive(2, "init") {
		t.Errorf("derived seeds collide: %#x %#x %#x", a, b, Derive(2, "init"))
	}
	if a != Derive(1, "init") {
		t.Error("Derive is not deterministic")
	}
}

// Normal and Uniform give, bit for bit, the draws of testdata/reference.py, a Python transcription: the numbers
// of a seed are the same in another language and on another machine.
func TestDrawsMatchThePythonReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	sources := map[uint64]*Source{}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		seed, err1 := strconv.ParseUint(f[0], 10, 64)
		want, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		if sources[seed] == nil {
			sources[seed] = New(seed)
		}
		var got float64
		switch f[1] {
		case "normal":
			got = sources[seed].Normal()
		case "uniform":
			got = sources[seed].Uniform(-0.3, 0.7)
		default:
			t.Fatalf("bad kind in %q", line)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("seed %d draw %d (%s): got %v, Python %v", seed, n, f[1], got, want)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d reference draws", n)
	}
}
