package figures

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/display"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/runs"
)

// ScaleEnvVar overrides the scale a notebook runs at (scripts/reproduce.sh sets it).
const ScaleEnvVar = "REVSGD_SCALE"

// ResultsEnvVar is the directory figures are written under (scripts/reproduce.sh and scripts/test.sh set it).
const ResultsEnvVar = "REVSGD_RESULTS"

// ScaleFromEnv returns the scale named by $REVSGD_SCALE, or def when it is unset. An unknown name panics with the
// list of scales: it is meant for the first cell of a notebook, where a panic is the cell's error message.
func ScaleFromEnv(def Scale) Scale {
	name, ok := os.LookupEnv(ScaleEnvVar)
	if !ok || name == "" {
		return def
	}
	s, err := ParseScale(name)
	if err != nil {
		panic(fmt.Errorf("$%s: %w", ScaleEnvVar, err))
	}
	return s
}

// ResultsDir returns where figure files go: $REVSGD_RESULTS, else results/ at the repository root when running in
// a notebook under notebooks/ (GoNB sets $GONB_DIR to the notebook's directory), else ./results.
func ResultsDir() string {
	if dir := os.Getenv(ResultsEnvVar); dir != "" {
		return dir
	}
	if dir := os.Getenv("GONB_DIR"); dir != "" {
		return filepath.Join(dir, "..", "results")
	}
	return "results"
}

// Defaults returns figure id at the given scale as its concrete type F — *Classification, *Intermittent, *LRSweep, *Composite,
// *Quadratic, *Regression, *Stationary or *LieBracket — for a notebook's settings cell to edit before running it
// with Reproduce. It panics with the figure's type when id is unknown or not an F: it is meant for a notebook cell,
// where a panic is the cell's error message.
func Defaults[F Figure](id string, scale Scale) F {
	f, err := New(id, scale)
	if err != nil {
		panic(err)
	}
	typed, ok := f.(F)
	if !ok {
		panic(fmt.Errorf("figures: %s is a %T, not a %T", id, f, typed))
	}
	return typed
}

// ShowSettings displays what f will run, in Markdown: inline in GoNB, else on standard output.
func ShowSettings(f Figure) { _ = display.Show(f.Settings()) }

// Reproduce runs figure f, labelled with scale, the way a notebook does: it chooses the backend (one line says
// which), runs with progress and the run store ResultsDir()/runs (so a second run re-plots from the store, and an
// interrupted one resumes), and writes and shows what ReproduceIn does, into ResultsDir()/figures. The settings
// are f's fields: New gives the scale's, which a notebook may edit first.
func Reproduce(f Figure, scale Scale) (*Outcome, error) {
	runner, err := NotebookRunner()
	if err != nil {
		return nil, err
	}
	return ReproduceIn(context.Background(), f, scale, runner, filepath.Join(ResultsDir(), "figures"))
}

// ReproduceIn runs figure f, labelled with scale, with runner, and writes into dir ID.png and ID.svg (the figure),
// ID.md (its settings, the summary of measured numbers and what the seeds say, Reading) and ID.json (the numbers
// of its claims, ClaimsFile); it shows the figure, the summary and the reading inline in GoNB, or prints them. It is the one way figures are
// reproduced: Reproduce (notebooks) and `revsgd figure` call it. With runner.Shard set it computes the shard's
// runs into runner.Store and writes nothing: drawing the figure needs every shard's runs, so one run without a
// shard, on the same store, draws it.
func ReproduceIn(ctx context.Context, f Figure, scale Scale, runner experiment.Runner, dir string) (*Outcome, error) {
	ctx, meter := withCostMeter(ctx)
	start := time.Now()
	o, err := f.Run(ctx, runner)
	if err != nil || runner.Shard != nil {
		return o, err
	}
	o.Cost = meter.total(time.Since(start))
	return o, PublishIn(f, scale, backend.Identity(runner.Backend), o, dir)
}

// Publish writes and shows an outcome of figure f, computed at scale on the backend backendID names (Result.Backend),
// as Reproduce does, into ResultsDir()/figures: for a notebook that builds, runs and draws a figure's experiment
// step by step (Recipe).
func Publish(f Figure, scale Scale, backendID string, o *Outcome) error {
	return PublishIn(f, scale, backendID, o, filepath.Join(ResultsDir(), "figures"))
}

// PublishIn is Publish into dir: ID.png and ID.svg (the figure, the settings line under its title), ID.md (the
// settings, the summary and Reading) and ID.json (ClaimsFile); it shows the figure, summary and reading inline in
// GoNB, or prints them.
func PublishIn(f Figure, scale Scale, backendID string, o *Outcome, dir string) error {
	claims := NewClaimsFile(f, scale, backendID, o) // the title without the settings line
	o.Figure.Title = strings.TrimPrefix(o.Figure.Title+"\n"+plot.Wrap(f.Line()+"; backend "+backendID, 120), "\n")
	pngPath, svgPath, err := o.Figure.Save(dir, f.ID())
	if err != nil {
		return err
	}
	if claims.Image, err = fileSHA256(pngPath); err != nil {
		return err
	}
	reading := Reading(o.Claims)
	mdPath := filepath.Join(dir, f.ID()+".md")
	if err := os.WriteFile(mdPath, []byte(f.Settings()+"\n\n"+o.Summary+"\n"+reading), 0o644); err != nil {
		return err
	}
	jsonPath, err := claims.Write(dir)
	if err != nil {
		return err
	}
	shown := []any{o.Figure, o.Summary}
	if reading != "" {
		shown = append(shown, reading)
	}
	if err := display.Show(shown...); err != nil {
		return err
	}
	fmt.Printf("%s: wrote %s, %s, %s and %s\n", f.ID(), pngPath, svgPath, mdPath, jsonPath)
	return nil
}

// NotebookRunner returns the runner a notebook runs experiments with: the backend revsgd chooses (one line says
// which), the run store ResultsDir()/runs (so a second run reads back what is stored, and an interrupted one
// resumes) and progress updated in place.
func NotebookRunner() (experiment.Runner, error) {
	choice, err := backend.New()
	if err != nil {
		return experiment.Runner{}, err
	}
	return experiment.Runner{Backend: choice.Backend, Store: &runs.Store{Root: filepath.Join(ResultsDir(), "runs")},
		Progress: display.Progress()}, nil
}

// RunExperiments runs a figure's experiments (Recipe.Experiments) with NotebookRunner, as a notebook does, and
// returns their results in order. A chain that diverges does not stop it: the result holds NaN from there on
// (Trajectory.Diverged says where; Recipe.Draw notes it, or refuses where it needs every iterate) and the
// divergence is printed.
func RunExperiments(exps []Experiment) ([]*experiment.Result, error) {
	runner, err := NotebookRunner()
	if err != nil {
		return nil, err
	}
	return runExperiments(context.Background(), runner, exps)
}

// Compute makes sure the runs of figure id at scale are in the run store ResultsDir()/runs, computing what is
// missing (with progress) and showing nothing else: for notebooks that analyse a figure's runs.
func Compute(id string, scale Scale) error {
	f, err := New(id, scale)
	if err != nil {
		return err
	}
	runner, err := NotebookRunner()
	if err != nil {
		return err
	}
	_, err = f.Run(context.Background(), runner)
	return err
}

// fileSHA256 returns the hex SHA-256 of a file's content.
func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
