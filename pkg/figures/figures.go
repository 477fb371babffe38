// Package figures reproduces the entries of the figure catalogue (docs/figures.md): one file per figure holds
// its settings at each scale, the experiments it runs and the panels it draws. Notebooks and the revsgd command
// call New and Run; nothing about a figure lives anywhere else.
package figures

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/runs"
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
	// Run runs the experiments in env and draws the figure.
	Run(ctx context.Context, env Env) (*Outcome, error)
	// Override changes the settings that Overrides names, or says which of them the figure has no setting for.
	Override(Overrides) error
}

// Env is what a figure runs with.
type Env struct {
	// Backend runs the graphs.
	Backend compute.Backend
	// Store, when set, keeps every run, so that a figure is re-plotted, or an interrupted one resumed, without
	// recomputing what is stored.
	Store *runs.Store
	// Progress receives progress snapshots of long runs; nil is silent.
	Progress func(experiment.Progress)
	// Replicas, when positive, is the lockstep group size; DeviceMemory, when positive (bytes) and Replicas is 0,
	// sizes the groups for that much device memory (see experiment.Spec).
	Replicas     int
	DeviceMemory int64
	// Devices, when set, are the devices the runs are spread over (experiment.RunOn); nil means every device of
	// Backend.
	Devices []experiment.Device
	// Shard, when set, makes this process one shard of the figure's runs (experiment.Shard): it returns once every
	// run of the figure is in Store, computed by it or by the other shards.
	Shard *experiment.Shard
}

// spec completes an experiment spec with the environment.
func (env Env) spec(s *experiment.Spec) *experiment.Spec {
	s.Store, s.Progress = env.Store, env.Progress
	s.Replicas, s.DeviceMemory, s.Shard = env.Replicas, env.DeviceMemory, env.Shard
	return s
}

// run runs one experiment of a figure in env: on env's devices, as env's shard.
func (env Env) run(ctx context.Context, s *experiment.Spec) (*experiment.Result, error) {
	devices := env.Devices
	if devices == nil {
		devices = experiment.Devices(env.Backend)
	}
	return experiment.RunOn(ctx, devices, env.spec(s))
}

// Outcome is what a figure run produced.
type Outcome struct {
	// Figure is the drawn figure.
	Figure *plot.Figure
	// Summary reports the measured numbers next to the values theory predicts, in Markdown.
	Summary string
	// Claims are the numbers behind the figure's claim, each with its prediction where there is one.
	Claims []Claim
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

// runLosses runs the experiment of a figure that plots losses. A chain that diverges does not stop such a figure:
// its curve is NaN from the divergence on, which the plots mark with crosses, and the note (Markdown) says which
// chains diverged where. Figures whose analysis needs every iterate (limits, distributions) call experiment.Run
// and stop with the divergence error instead.
func runLosses(ctx context.Context, env Env, spec *experiment.Spec) (*experiment.Result, string, error) {
	res, err := env.run(ctx, spec)
	var div *experiment.DivergenceError
	if err != nil && res != nil && errors.As(err, &div) {
		fmt.Fprintln(os.Stderr, err)
		return res, "**Diverged.** " + strings.ReplaceAll(err.Error(), "\n", " — ") +
			" Its points from there on are NaN, drawn as crosses.", nil
	}
	return res, "", err
}
