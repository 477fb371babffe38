package figures

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/revsgd/revsgd/pkg/backend"
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

// Reproduce runs a figure the way a notebook does: it chooses the backend (one line says which), shows the
// settings, runs with progress lines, writes ResultsDir()/figures/ID.png and .svg, and shows the figure and the
// summary of measured numbers inline (in GoNB) or on standard output.
func Reproduce(id string, scale Scale) (*Outcome, error) {
	f, err := New(id, scale)
	if err != nil {
		return nil, err
	}
	choice, err := backend.New()
	if err != nil {
		return nil, err
	}
	show(f.Settings())
	o, err := f.Run(context.Background(), choice.Backend, os.Stdout)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(ResultsDir(), "figures")
	pngPath, _, err := o.Figure.Save(dir, id)
	if err != nil {
		return nil, err
	}
	if err := o.Figure.Show(); err != nil {
		return nil, err
	}
	show(o.Summary)
	fmt.Printf("figure written to %s (and .svg)\n", pngPath)
	return o, nil
}

// show displays Markdown inline in GoNB, or prints it elsewhere.
func show(markdown string) {
	if gonbui.IsNotebook {
		gonbui.DisplayMarkdown(markdown)
		return
	}
	fmt.Println(markdown)
}
