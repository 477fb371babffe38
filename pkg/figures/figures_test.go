package figures

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revsgd/revsgd"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
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

// A loss figure whose chains partly diverge is still drawn: the finite part, crosses for the rest, a note that
// names each diverged chain, and claims whose JSON holds no bare NaN (it printed "NaN ± NaN" and then panicked
// in the plot: "Values must be greater than 0 for a log scale").
func TestDivergingLossFigureIsDrawn(t *testing.T) {
	r := regressionSettings(Quick)
	r.H, r.Steps, r.Every, r.Seeds = 2.5, 200, 10, 2
	o, err := r.Run(context.Background(), experiment.Runner{Backend: backendtest.Default(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.Summary, "**Diverged.**") || !strings.Contains(o.Summary, "diverged:") {
		t.Fatalf("the summary does not say what diverged:\n%s", o.Summary)
	}
	t.Log(strings.SplitN(o.Summary, "\n", 2)[0])
	if _, err := o.Figure.PNG(); err != nil {
		t.Fatal(err)
	}
	path, err := NewClaimsFile(r, Quick, "go", o).Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("the claims file is not JSON: %v", err)
	}
}

// A reproduction's claims file says where its numbers come from: the library's version, the image written with
// it (its hash), and what the run cost — every run computed the first time, every run read back from the store
// the second.
func TestClaimsFileRecordsItsRun(t *testing.T) {
	r := regressionSettings(Quick)
	r.Steps, r.Every, r.Seeds = 20, 10, 2
	runner := experiment.Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: t.TempDir()}}
	dir := t.TempDir()
	for i, wantStored := range []int{0, 4} {
		if _, err := ReproduceIn(context.Background(), r, Quick, runner, dir); err != nil {
			t.Fatal(err)
		}
		f, err := ReadClaimsFile(dir, r.ID())
		if err != nil {
			t.Fatal(err)
		}
		png, err := os.ReadFile(filepath.Join(dir, r.ID()+".png"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(png)
		if f.Image != hex.EncodeToString(sum[:]) || f.Version != revsgd.Version {
			t.Errorf("run %d: image hash %q (the PNG's is %x), version %q (want %q)", i+1, f.Image, sum, f.Version, revsgd.Version)
		}
		c := f.Cost
		if c == nil || c.Runs != 4 || c.Stored != wantStored || (c.Maps == 0) != (wantStored == 4) || c.Seconds <= 0 || c.Cores < 1 {
			t.Errorf("run %d: cost %+v, want 4 runs of which %d stored", i+1, c, wantStored)
		}
	}
}
