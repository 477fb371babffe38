package figures

import (
	"fmt"
	"strings"
	"testing"
)

func TestScalesAndIDs(t *testing.T) {
	if _, err := ParseScale("huge"); err == nil || !strings.Contains(err.Error(), `"quick"`) {
		t.Errorf("unknown scale: %v", err)
	}
	if _, err := New("quadratic", "huge"); err == nil {
		t.Error("figure at an unknown scale accepted")
	}
	if _, err := New("nope", Quick); err == nil || !strings.Contains(err.Error(), "quadratic") {
		t.Errorf("unknown figure: %v", err)
	}
	for _, id := range IDs() {
		for _, s := range []Scale{Quick, Paper} {
			f, err := New(id, s)
			if err != nil || f.ID() != id || !strings.Contains(f.Settings(), string(s)) {
				t.Errorf("%s at %s: %v", id, s, err)
			}
		}
	}
}

func TestScaleFromEnv(t *testing.T) {
	t.Setenv(ScaleEnvVar, "paper")
	if ScaleFromEnv(Quick) != Paper {
		t.Error("REVSGD_SCALE=paper ignored")
	}
	t.Setenv(ScaleEnvVar, "")
	if ScaleFromEnv(Quick) != Quick {
		t.Error("empty REVSGD_SCALE should mean the default")
	}
	t.Setenv(ScaleEnvVar, "bogus")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "bogus") {
			t.Errorf("bad REVSGD_SCALE: recovered %v", r)
		}
	}()
	ScaleFromEnv(Quick)
}

// Defaults gives each figure as its concrete type for a settings cell, and panics naming the type otherwise.
func TestDefaults(t *testing.T) {
	c := Defaults[*Classification]("fashion-mlp", Quick)
	c.H = 0.5
	if Defaults[*Classification]("fashion-mlp", Quick).H == 0.5 {
		t.Error("Defaults returned a shared value: an edit leaked into the next call")
	}
	if q := Defaults[*Quadratic]("quadratic", Paper); q.HistogramSeeds <= Defaults[*Quadratic]("quadratic", Quick).HistogramSeeds {
		t.Error("the paper scale's quadratic has no more seeds than the quick one")
	}
	for _, bad := range []func(){
		func() { Defaults[*Quadratic]("fashion-mlp", Quick) },
		func() { Defaults[*Quadratic]("nope", Quick) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "figures:") {
					t.Errorf("recovered %v, want a figures: error", r)
				}
			}()
			bad()
		}()
	}
}
