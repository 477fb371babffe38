package main

import (
	"io"
	"strings"
	"testing"
)

// FuzzFigureCommand reads any arguments of `revsgd figure` (split at spaces): they are accepted or refused with
// an error, never a panic, and nothing is computed or written. Accepted ones build figures whose settings are
// described (Settings, Line) without a panic either.
func FuzzFigureCommand(f *testing.F) {
	for _, seed := range []string{
		"fashion-mlp", "-steps 20 -every 10 -seeds 1 -orders backward fashion-mlp", "-steps 40 intermittent",
		"-orders forward,switch-s100000 -steps 20 -every 10 fashion-mlp", "-device-memory NaN quadratic",
		"-shard 2/4 -runs x cifar10-resnet18", "-shard 0/0 quadratic", "-scale paper lr-sweep adamw",
		"-orders forward,intermittent-w0 late-switch", "-seeds 999999999 stationary", "-every 7 -steps 3 baselines",
		"-h", "-orders , lie-bracket", "-steps 50 late-switch", "-devices -1 stopping", "-parts mlp adamw",
		"-parts mlp fashion-mlp", "-parts ,resnet18 -scale paper adamw",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseFigureCommand(strings.Fields(line), io.Discard)
		if err != nil {
			return
		}
		for _, fig := range c.figs {
			_ = fig.Settings()
			_ = fig.Line()
		}
	})
}
