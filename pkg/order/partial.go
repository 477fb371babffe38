package order

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// ResetPolicy decides where an intermittent order restarts its backward compositions. Policies here are fixed in
// advance; a rule that reacts to the run (e.g. "reset when the loss plateaus") is a ResetPolicy computed from a
// previous run's curve, or a new policy type.
type ResetPolicy interface {
	// Resets returns reset points 0 < t_1 < t_2 < … < n for a run of n steps (0 is always a reset).
	Resets(n int) []int
	// String describes the policy, e.g. "w100" (part of the order's name).
	String() string
}

// EveryW resets every W steps: t_k = k·W.
type EveryW int

// Resets implements ResetPolicy.
func (w EveryW) Resets(n int) []int {
	var r []int
	if w <= 0 {
		return nil // not a window (Validate refuses it)
	}
	for t := int(w); t < n; t += int(w) {
		r = append(r, t)
	}
	return r
}

func (w EveryW) String() string { return "w" + strconv.Itoa(int(w)) }

// ResetAt resets at the listed steps.
type ResetAt []int

// Resets implements ResetPolicy: the listed steps in (0, n), sorted.
func (a ResetAt) Resets(n int) []int {
	var r []int
	for _, t := range a {
		if t > 0 && t < n {
			r = append(r, t)
		}
	}
	slices.Sort(r)
	return slices.Compact(r)
}

func (a ResetAt) String() string {
	parts := make([]string, len(a))
	for i, t := range a {
		parts[i] = strconv.Itoa(t)
	}
	return "at" + strings.Join(parts, "_")
}

// Intermittent is windowed backward SGD: with reset points 0 = t_0 < t_1 < …, the iterate after the reset at t_k
// is the backward composition of the batches since that reset, started from the iterate at the reset:
//
//	θ_n = T_{t_k+1} ∘ … ∘ T_n(θ_{t_k}),  t_k < n ≤ t_{k+1}.
//
// An evaluated step costs n − t_k maps, at most the window length, whatever n. With no reset before n it is
// backward SGD; with a reset at every step it is forward SGD. Every replay starts with fresh optimizer state.
type Intermittent struct {
	// Resets is the reset policy.
	Resets ResetPolicy
}

// Name implements Order: "intermittent-" and the policy, e.g. "intermittent-w100".
func (o Intermittent) Name() string { return "intermittent-" + o.Resets.String() }

// Settings returns the order's settings, part of a stored run's identity.
func (o Intermittent) Settings() map[string]any { return map[string]any{"resets": o.Resets.String()} }

// Plan implements Order: for each window, one replay per evaluated step in it, and one for the window's end (the
// next window's start).
func (o Intermittent) Plan(evaluated []int) []Replay {
	if len(evaluated) == 0 {
		return nil
	}
	n := slices.Max(evaluated)
	resets := o.Resets.Resets(n)
	isReset := map[int]bool{}
	for _, t := range resets {
		isReset[t] = true
	}
	want := append(slices.Clone(evaluated), resets...) // every evaluated step, and every reset point as a start
	slices.Sort(want)
	want = slices.Compact(want)
	var plan []Replay
	from := 0
	for _, m := range want {
		plan = append(plan, Replay{From: from, Steps: descending(m, from+1), Reports: []Report{{After: m - from, Step: m}}})
		if isReset[m] {
			from = m
		}
	}
	return plan
}

// Switch is forward SGD up to step At, then backward composition of the batches after At, started from θ_At:
// θ_n = T_{At+1} ∘ … ∘ T_n(θ_At) for n > At — the intermittent rule with a single reset. At = 0 is backward SGD;
// At ≥ n is forward SGD. The forward part carries its optimizer state; the backward replays start from θ_At with
// fresh state.
type Switch struct {
	// At is the switch step s.
	At int
}

// Name implements Order, e.g. "switch-s1000".
func (o Switch) Name() string { return "switch-s" + strconv.Itoa(o.At) }

// Settings returns the order's settings.
func (o Switch) Settings() map[string]any { return map[string]any{"at": o.At} }

// Plan implements Order: one forward chain to s reporting as it goes (and at s, where the backward replays start),
// then one replay per evaluated step after s.
func (o Switch) Plan(evaluated []int) []Replay {
	var before, after []int
	for _, n := range evaluated {
		if n <= o.At {
			before = append(before, n)
		} else {
			after = append(after, n)
		}
	}
	if o.At == 0 {
		return Backward{}.Plan(evaluated)
	}
	if len(after) > 0 && !slices.Contains(before, o.At) {
		before = append(before, o.At)
	}
	plan := Forward{}.Plan(before)
	for _, n := range after {
		plan = append(plan, Replay{From: o.At, Steps: descending(n, o.At+1), Reports: []Report{{After: n - o.At, Step: n}}})
	}
	return plan
}

// parseOrder reads the names Intermittent and Switch produce: ok says the name has one of their forms, err what
// is wrong with its number.
func parseOrder(name string) (o Order, ok bool, err error) {
	if rest, ok := strings.CutPrefix(name, "intermittent-w"); ok {
		w, err := strconv.Atoi(rest)
		if err != nil || w <= 0 {
			return nil, true, fmt.Errorf("order: %q: the window W of intermittent-wW must be a positive number of "+
				"steps, e.g. intermittent-w100", name)
		}
		return Intermittent{Resets: EveryW(w)}, true, nil
	}
	if rest, ok := strings.CutPrefix(name, "switch-s"); ok {
		s, err := strconv.Atoi(rest)
		if err != nil || s < 0 {
			return nil, true, fmt.Errorf("order: %q: the switch step S of switch-sS must be 0 or a later step, "+
				"e.g. switch-s1000", name)
		}
		return Switch{At: s}, true, nil
	}
	return nil, false, nil
}

// Validate checks an order's settings: an order must be given (not nil), and Intermittent and Switch, given as
// values or as pointers, need a positive window and a switch step of 0 or later.
func Validate(o Order) error {
	switch v := o.(type) {
	case nil:
		return fmt.Errorf("order: nil order; give one such as order.Forward{} or order.Backward{}")
	case *Intermittent:
		if v == nil {
			return fmt.Errorf("order: nil *order.Intermittent")
		}
		return Validate(*v)
	case *Switch:
		if v == nil {
			return fmt.Errorf("order: nil *order.Switch")
		}
		return Validate(*v)
	case Intermittent:
		if v.Resets == nil {
			return fmt.Errorf("order: intermittent needs a reset policy, e.g. order.EveryW(100)")
		}
		if w, ok := v.Resets.(EveryW); ok && w <= 0 {
			return fmt.Errorf("order: intermittent resets every %d steps: the window must be positive", int(w))
		}
	case Switch:
		if v.At < 0 {
			return fmt.Errorf("order: switch at step %d: it must be 0 or later", v.At)
		}
	}
	if rv := reflect.ValueOf(o); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("order: nil %T", o)
	}
	return nil
}
