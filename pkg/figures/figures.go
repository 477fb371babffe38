// Package figures reproduces the entries of the figure catalogue (docs/figures.md): one file per figure holds
// its settings at each scale, the experiments they make (Recipe.Experiments), and the panels and claims it draws
// from their results (Recipe.Draw). Notebooks show those steps; the revsgd command and Reproduce run them in one
// call (ReproduceIn). Nothing about a figure lives anywhere else.
package figures

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
)

// Scale selects the size of a figure's experiments.
type Scale string

const (
	// Quick runs the same code path small enough for CI on two CPU cores with the pure-Go backend.
	Quick Scale = "quick"
	// Paper runs the settings of the paper (or of the catalogue where the paper's are unknown); meant for XLA on
	// a GPU.
	Paper Scale = "paper"
)

// ParseScale returns the scale with the given name.
func ParseScale(name string) (Scale, error) {
	switch s := Scale(strings.TrimSpace(name)); s {
	case Quick, Paper:
		return s, nil
	}
	return "", fmt.Errorf("figures: unknown scale %q; use %q (CI, a few minutes on a CPU) or %q (the paper's settings)",
		name, Quick, Paper)
}

// Figure reproduces one catalogue entry at one scale.
type Figure interface {
	// ID is the catalogue id, also the notebook's name, e.g. "quadratic".
	ID() string
	// Settings describes, in Markdown, what is run at this scale.
	Settings() string
	// Run runs the experiments with runner (devices, run store, shard, progress) and draws the figure.
	Run(ctx context.Context, runner experiment.Runner) (*Outcome, error)
	// Override changes the settings that Overrides names, or says which of them the figure has no setting for.
	Override(Overrides) error
	// Line says the settings in one line (a line per part of a composite figure), drawn under the image's title.
	Line() string
}

// Outcome is what a figure run produced.
type Outcome struct {
	// Figure is the drawn figure.
	Figure *plot.Figure
	// Summary reports the measured numbers next to the values theory predicts, in Markdown.
	Summary string
	// Claims are the numbers behind the figure's claim, each with its prediction where there is one.
	Claims []Claim
	// Cost is what computing it took, where known: ReproduceIn measures it.
	Cost *Cost
}

var registry = map[string]func(Scale) Figure{
	"quadratic":        func(s Scale) Figure { return quadraticSettings(s) },
	"regression-mlp":   func(s Scale) Figure { return regressionSettings(s) },
	"stationary":       func(s Scale) Figure { return stationarySettings(s) },
	"fashion-mlp":      func(s Scale) Figure { return fashionMLPSettings(s) },
	"cifar10-resnet18": func(s Scale) Figure { return cifar10ResNetSettings(s) },
	"cifar10-vgg":      func(s Scale) Figure { return cifar10VGGSettings(s) },
	"cifar100-resnet":  func(s Scale) Figure { return cifar100ResNetSettings(s) },
	"intermittent":     func(s Scale) Figure { return intermittentSettings(s) },
	"late-switch":      func(s Scale) Figure { return lateSwitchSettings(s) },
	"lr-sweep":         func(s Scale) Figure { return lrSweepSettings(s) },
	"adamw":            func(s Scale) Figure { return adamWSettings(s) },
	"lie-bracket":      func(s Scale) Figure { return lieBracketSettings(s) },
	"baselines":        func(s Scale) Figure { return baselinesSettings(s) },
	"stopping":         func(s Scale) Figure { return stoppingSettings(s) },
}

// IDs lists the figures this package reproduces.
func IDs() []string {
	ids := make([]string, 0, len(registry))
	for id := range registry {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// New returns the figure with the given id at the given scale.
func New(id string, scale Scale) (Figure, error) {
	if _, err := ParseScale(string(scale)); err != nil {
		return nil, err
	}
	mk, ok := registry[id]
	if !ok {
		return nil, fmt.Errorf("figures: unknown figure %q; known: %s", id, strings.Join(IDs(), ", "))
	}
	return mk(scale), nil
}

// Recipe is a figure made of experiments, in steps a notebook shows one by one: Experiments builds their Specs
// from the figure's settings, a runner runs them (RunExperiments in a notebook), and Draw makes the figure, its
// summary and its claims from the results. Run is the three in order. Every figure is a Recipe except
// lie-bracket, whose corrections need the backend beyond the runs.
type Recipe interface {
	Figure
	// Experiments returns the figure's experiments, from its settings: most figures have one.
	Experiments() ([]Experiment, error)
	// Draw draws the figure and measures its claims from the results of the experiments, in their order.
	Draw(results []*experiment.Result) (*Outcome, error)
}

// Experiment is one experiment of a figure: what it is for, in a few words, and the Spec that says what runs.
type Experiment struct {
	Name string
	Spec *experiment.Spec
}

// one returns a Recipe's single experiment.
func one(name string, spec *experiment.Spec, err error) ([]Experiment, error) {
	if err != nil {
		return nil, err
	}
	return []Experiment{{name, spec}}, nil
}

// Describe says in Markdown what each experiment runs (experiment.Spec.Describe), under its name.
func Describe(exps []Experiment) string {
	parts := make([]string, len(exps))
	for i, e := range exps {
		parts[i] = fmt.Sprintf("#### %s\n\n%s", e.Name, e.Spec.Describe())
	}
	return strings.Join(parts, "\n\n")
}

// runExperiments runs the experiments with runner, in order (see runTolerant).
func runExperiments(ctx context.Context, runner experiment.Runner, exps []Experiment) ([]*experiment.Result, error) {
	out := make([]*experiment.Result, len(exps))
	for i, e := range exps {
		res, err := runTolerant(ctx, runner, e.Spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		out[i] = res
	}
	return out, nil
}

// runRecipe is Figure.Run for a Recipe. With runner.Shard it computes the shard's runs of every experiment and draws
// nothing.
func runRecipe(ctx context.Context, runner experiment.Runner, r Recipe) (*Outcome, error) {
	exps, err := r.Experiments()
	if err != nil {
		return nil, err
	}
	results, err := runExperiments(ctx, runner, exps)
	if err != nil || runner.Shard != nil {
		return nil, err
	}
	return r.Draw(results)
}

// finite returns the divergence errors of the results' trajectories, joined, or nil when every chain stayed
// finite: figures whose analysis needs every iterate (limits, distributions) stop with it.
func finite(results ...*experiment.Result) error {
	var errs []error
	for _, res := range results {
		for _, c := range res.Trajectories {
			if c.Diverged != nil {
				errs = append(errs, c.Diverged)
			}
		}
	}
	return errors.Join(errs...)
}

// runTolerant runs an experiment of a figure. A chain that diverges does not stop it: the error is printed, and
// the result's trajectory is NaN from the divergence on, which the loss plots mark with crosses and
// divergenceNote reports; figures whose analysis needs every iterate stop in Draw instead (finite).
func runTolerant(ctx context.Context, runner experiment.Runner, spec *experiment.Spec) (*experiment.Result, error) {
	res, err := runner.Run(ctx, spec)
	countRun(ctx, res)
	var div *experiment.DivergenceError
	if err != nil && res != nil && errors.As(err, &div) {
		fmt.Fprintln(os.Stderr, err)
		return res, nil
	}
	return res, err
}

// divergenceNote says in Markdown which chains of a result diverged and where, or "" if none did.
func divergenceNote(res *experiment.Result) string {
	var what []string
	for _, c := range res.Trajectories {
		if c.Diverged != nil {
			what = append(what, c.Diverged.Error())
		}
	}
	if len(what) == 0 {
		return ""
	}
	return "**Diverged.** " + strings.Join(what, " — ") + " Its points from there on are NaN, drawn as crosses."
}
