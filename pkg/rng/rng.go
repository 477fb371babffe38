// Package rng is the one source of randomness in revsgd: a small, fully specified generator, so that a seed means
// the same numbers on every machine, in every Go version, and in any other language that reimplements it. Every
// method below is portable in that sense, bit for bit: the integer ones by construction, Float64 and Uniform as
// single IEEE operations, Normal through internal/portable's ln and cos. testdata/reference.txt holds draws
// computed by a Python transcription (testdata/reference.py), and a test compares them bit for bit.
//
// The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
// 2014): the state advances by the constant 0x9e3779b97f4a7c15 and each output is the state passed through the
// finaliser
//
//	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
//	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//	z =  z ^ (z >> 31)
//
// Derived values are written down next to each method: uniform floats take the top 53 bits, bounded integers use
// rejection sampling, normals use the Box–Muller transform, and permutations use the Fisher–Yates shuffle.
// Independent streams for different purposes come from Derive, which hashes a parent seed with a label.
package rng

import (
	"hash/fnv"
	"math"

	"github.com/revsgd/revsgd/internal/portable"
)

const golden = 0x9e3779b97f4a7c15

// Source is a SplitMix64 generator. The zero value is a valid generator with seed 0. It is not safe for
// concurrent use.
type Source struct {
	state uint64
}

// New returns a generator seeded with seed.
func New(seed uint64) *Source {
	return &Source{state: seed}
}

// mix is the SplitMix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64 returns the next 64 random bits.
func (s *Source) Uint64() uint64 {
	s.state += golden
	return mix(s.state)
}

// Float64 returns a uniform value in [0, 1): the top 53 bits of Uint64 divided by 2^53.
func (s *Source) Float64() float64 {
	return float64(s.Uint64()>>11) / (1 << 53)
}

// IntN returns a uniform integer in [0, n) by rejection: draws below 2^64 mod n are discarded, and the accepted
// draw is reduced modulo n. It panics if n <= 0.
func (s *Source) IntN(n int) int {
	if n <= 0 {
		panic("rng: IntN needs n > 0")
	}
	un := uint64(n)
	threshold := -un % un // = 2^64 mod n
	for {
		x := s.Uint64()
		if x >= threshold {
			return int(x % un)
		}
	}
}

// Normal returns a standard normal value by the Box–Muller transform: with u1 = 1 − Float64() in (0, 1] and
// u2 = Float64(), it returns sqrt(−2 ln u1) · cos(2π u2), ln and cos computed by internal/portable (IEEE basic
// operations only, so the value has the same bits everywhere; the square root is IEEE's, correctly rounded).
// Each call consumes two draws.
func (s *Source) Normal() float64 {
	u1 := 1 - s.Float64()
	u2 := s.Float64()
	return math.Sqrt(-2*portable.Log(u1)) * portable.CosTurns(u2)
}

// Uniform returns a value uniform in [lo, hi): lo + (hi − lo) · Float64(), the product rounded before the sum.
func (s *Source) Uniform(lo, hi float64) float64 {
	return lo + float64((hi-lo)*s.Float64())
}

// Perm returns a uniformly random permutation of 0..n−1 by the Fisher–Yates shuffle: starting from the identity,
// for i from n−1 down to 1 it swaps element i with element IntN(i+1).
func (s *Source) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := s.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Derive returns the seed of an independent stream for the given purpose: the first output of a generator seeded
// with seed XOR the 64-bit FNV-1a hash of label. Use it to split one user-facing seed into streams that do not
// overlap, e.g. Derive(seed, "init") for initial parameters and Derive(seed, "batches") for the sampler.
func Derive(seed uint64, label string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(label))
	return New(seed ^ h.Sum64()).Uint64()
}
