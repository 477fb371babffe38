package data

import (
	"slices"
	"testing"
)

func TestShuffledUsesEachExampleOncePerEpoch(t *testing.T) {
	s := Sampler{Examples: 10, BatchSize: 3, Mode: Shuffled} // 3 batches per epoch, one example dropped
	h, err := s.History(5, 6)
	if err != nil {
		t.Fatal(err)
	}
	for epoch := range 2 {
		seen := map[int32]bool{}
		for n := epoch*3 + 1; n <= epoch*3+3; n++ {
			for _, i := range h.Batch(n) {
				if seen[i] {
					t.Fatalf("epoch %d uses example %d twice", epoch, i)
				}
				seen[i] = true
			}
		}
	}
	if slices.Equal(h.Batch(1), h.Batch(4)) {
		t.Error("two epochs start with the same batch: not reshuffled")
	}
}

func TestHistoryIsDeterministicAndSeeded(t *testing.T) {
	for _, mode := range []Sampling{WithReplacement, Shuffled} {
		s := Sampler{Examples: 100, BatchSize: 8, Mode: mode}
		a, _ := s.History(1, 50)
		b, _ := s.History(1, 50)
		c, _ := s.History(2, 50)
		if !slices.Equal(a.Indices, b.Indices) || slices.Equal(a.Indices, c.Indices) {
			t.Errorf("%s: same seed must give the same history and another seed another one", mode)
		}
		if a.Steps() != 50 || len(a.Batch(50)) != 8 {
			t.Errorf("%s: %d steps, last batch of %d", mode, a.Steps(), len(a.Batch(50)))
		}
	}
}

func TestFullBatchIsEverythingEveryStep(t *testing.T) {
	h, err := Sampler{Examples: 5, Mode: FullBatch}.History(9, 3)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		if !slices.Equal(h.Batch(n), []int32{0, 1, 2, 3, 4}) {
			t.Fatalf("batch %d = %v", n, h.Batch(n))
		}
	}
}

func TestSamplerErrors(t *testing.T) {
	for _, s := range []Sampler{
		{Examples: 10, BatchSize: 11, Mode: Shuffled},
		{Examples: 10, BatchSize: 0, Mode: WithReplacement},
		{Examples: 0, BatchSize: 1, Mode: Shuffled},
		{Examples: 10, BatchSize: 3, Mode: FullBatch},
		{Examples: 10, BatchSize: 3, Mode: "random"},
	} {
		if _, err := s.History(1, 5); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestTeacherRegressionIsDeterministic(t *testing.T) {
	c := TeacherRegression{Dim: 4, Hidden: 3, Noise: 0.1, Train: 20, Test: 10, Seed: 1}
	a, _, err := c.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := c.Generate()
	if !a.Targets.Equal(b.Targets) || !a.Inputs.Equal(b.Inputs) {
		t.Error("same seed, different data")
	}
	if a.Len() != 20 || a.Inputs.Shape().Dimensions[1] != 4 {
		t.Errorf("shape %s", a.Inputs.Shape())
	}
}

func TestLinearRegressionGenerator(t *testing.T) {
	c := LinearRegression{Dim: 3, Noise: 0.5, Train: 50, Test: 10, Seed: 4}
	a, at, err := c.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := c.Generate()
	if !a.Targets.Equal(b.Targets) || a.Len() != 50 || at.Len() != 10 {
		t.Error("not deterministic, or wrong sizes")
	}
	if _, te, _ := (LinearRegression{Dim: 2, Train: 5}).Generate(); te != nil {
		t.Error("a test set without Test > 0")
	}
	for _, bad := range []LinearRegression{{Dim: 0, Train: 5}, {Dim: 2, Train: 0}, {Dim: 2, Train: 5, Noise: -1}} {
		if _, _, err := bad.Generate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
