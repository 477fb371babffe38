package data

import (
	"fmt"

	"github.com/revsgd/revsgd/pkg/rng"
)

// Sampling is how a sampler draws the examples of each batch.
type Sampling string

const (
	// WithReplacement draws every index of every batch independently and uniformly from the data set, so the
	// update maps T_1, T_2, … are independent and identically distributed, as the paper's theory assumes.
	WithReplacement Sampling = "with-replacement"
	// Shuffled is random reshuffling, the usual deep-learning loader: each epoch is a fresh random permutation of
	// the data set cut into consecutive batches; the last incomplete batch of an epoch is dropped.
	Shuffled Sampling = "shuffled"
	// FullBatch makes every batch the whole data set in order: every update map is the same full-gradient step,
	// so forward and backward compositions coincide.
	FullBatch Sampling = "full-batch"
)

// Sampler decides the examples of each batch. Together with a seed it determines the whole batch history, which
// is all a replay needs to re-apply any update map: batches are stored as indices plus this seed, never as
// gradients.
type Sampler struct {
	// Examples is the size M of the data set sampled from.
	Examples int
	// BatchSize is the number of examples per batch. For FullBatch it must be 0 or Examples.
	BatchSize int
	// Mode is how batches are drawn.
	Mode Sampling
}

// Validate checks the sampler and says how to fix what is wrong.
func (s Sampler) Validate() error {
	if s.Examples <= 0 {
		return fmt.Errorf("sampler: the data set has %d examples; it needs at least one", s.Examples)
	}
	switch s.Mode {
	case WithReplacement, Shuffled:
		if s.BatchSize <= 0 {
			return fmt.Errorf("sampler: batch size must be positive, got %d", s.BatchSize)
		}
		if s.BatchSize > s.Examples {
			return fmt.Errorf("sampler: batch size %d is larger than the data set (%d examples): lower the batch "+
				"size or use more data", s.BatchSize, s.Examples)
		}
	case FullBatch:
		if s.BatchSize != 0 && s.BatchSize != s.Examples {
			return fmt.Errorf("sampler: full-batch sampling uses all %d examples, but batch size %d was asked: "+
				"set it to 0 or %d", s.Examples, s.BatchSize, s.Examples)
		}
	default:
		return fmt.Errorf("sampler: unknown sampling %q; use %q, %q or %q", s.Mode, WithReplacement, Shuffled, FullBatch)
	}
	return nil
}

// Batch returns the number of examples per batch (Examples for FullBatch).
func (s Sampler) Batch() int {
	if s.Mode == FullBatch {
		return s.Examples
	}
	return s.BatchSize
}

// History draws the batches of steps 1..steps for the given seed.
//
// The draw, with r an rng.Source seeded with seed: WithReplacement takes r.IntN(Examples) for each index of each
// batch in order; Shuffled takes p = r.Perm(Examples) at the start of every epoch and cuts it into consecutive
// batches; FullBatch uses 0..Examples−1 every step and draws nothing.
func (s Sampler) History(seed uint64, steps int) (*History, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if steps <= 0 {
		return nil, fmt.Errorf("sampler: the number of steps must be positive, got %d", steps)
	}
	b := s.Batch()
	h := &History{Sampler: s, Seed: seed, Indices: make([]int32, steps*b)}
	r := rng.New(seed)
	switch s.Mode {
	case WithReplacement:
		for i := range h.Indices {
			h.Indices[i] = int32(r.IntN(s.Examples))
		}
	case Shuffled:
		perBatch := s.Examples / b
		var perm []int
		for step := range steps {
			k := step % perBatch
			if k == 0 {
				perm = r.Perm(s.Examples)
			}
			for j := range b {
				h.Indices[step*b+j] = int32(perm[k*b+j])
			}
		}
	case FullBatch:
		for step := range steps {
			for j := range b {
				h.Indices[step*b+j] = int32(j)
			}
		}
	}
	return h, nil
}

// History is the batch history of one seed: the example indices of batches B_1 … B_n.
type History struct {
	// Sampler is the sampler that drew it.
	Sampler Sampler
	// Seed is the sampler seed.
	Seed uint64
	// Indices holds the batches one after the other: batch n (1-based) is Indices[(n−1)·b : n·b].
	Indices []int32
}

// Steps returns the number of batches n.
func (h *History) Steps() int { return len(h.Indices) / h.Sampler.Batch() }

// Batch returns the example indices of batch B_n, 1 ≤ n ≤ Steps().
func (h *History) Batch(n int) []int32 {
	b := h.Sampler.Batch()
	return h.Indices[(n-1)*b : n*b]
}
