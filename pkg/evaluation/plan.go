// Package evaluation decides at which steps a run's metrics are computed: its evaluation plan. Evaluating a
// backward curve at step n costs a replay of n update maps, so a curve to N evaluated everywhere costs N(N+1)/2
// maps; a plan keeps that in hand. (Learning-rate schedules are update rules: see package update.)
package evaluation

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Plan chooses the evaluated steps of a run of n steps.
type Plan interface {
	// Steps returns the evaluated steps: sorted, distinct, each in [1, n].
	Steps(n int) ([]int, error)
	// String describes the plan, e.g. "every 10".
	String() string
}

// Every evaluates every K-th step, and the last step n.
type Every int

// Steps implements Plan.
func (e Every) Steps(n int) ([]int, error) {
	if e <= 0 {
		return nil, fmt.Errorf("evaluation: every %d steps: the interval must be positive", int(e))
	}
	if n <= 0 {
		return nil, fmt.Errorf("evaluation: a run of %d steps has nothing to evaluate", n)
	}
	var s []int
	for k := int(e); k <= n; k += int(e) {
		s = append(s, k)
	}
	if len(s) == 0 || s[len(s)-1] != n {
		s = append(s, n)
	}
	return s, nil
}

func (e Every) String() string { return fmt.Sprintf("every %d", int(e)) }

// LogSpaced evaluates about Count steps spaced evenly in log scale from 1 to n (rounded, duplicates removed).
type LogSpaced int

// Steps implements Plan.
func (l LogSpaced) Steps(n int) ([]int, error) {
	if l < 2 {
		return nil, fmt.Errorf("evaluation: log-spaced needs at least 2 points, got %d", int(l))
	}
	if n <= 0 {
		return nil, fmt.Errorf("evaluation: a run of %d steps has nothing to evaluate", n)
	}
	var s []int
	for i := range int(l) {
		k := int(math.Round(math.Pow(float64(n), float64(i)/float64(l-1))))
		if len(s) == 0 || k > s[len(s)-1] {
			s = append(s, k)
		}
	}
	return s, nil
}

func (l LogSpaced) String() string { return fmt.Sprintf("%d log-spaced", int(l)) }

// List evaluates exactly the listed steps.
type List []int

// Steps implements Plan: the list sorted; an error names any step outside [1, n] or repeated.
func (l List) Steps(n int) ([]int, error) {
	if len(l) == 0 {
		return nil, fmt.Errorf("evaluation: the list of steps is empty")
	}
	s := slices.Clone(l)
	slices.Sort(s)
	for i, k := range s {
		if k < 1 || k > n {
			return nil, fmt.Errorf("evaluation: step %d is outside [1, %d], the steps of this run", k, n)
		}
		if i > 0 && s[i-1] == k {
			return nil, fmt.Errorf("evaluation: step %d is listed twice", k)
		}
	}
	return s, nil
}

func (l List) String() string {
	parts := make([]string, len(l))
	for i, k := range l {
		parts[i] = fmt.Sprint(k)
	}
	return "steps " + strings.Join(parts, ",")
}
