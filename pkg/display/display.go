// Package display shows results in a GoNB notebook — Markdown, HTML views, figures and a progress line updated in
// place — and prints their text elsewhere (a terminal, go test): the one place revsgd talks to the notebook.
package display

import (
	"fmt"
	"html"
	"io"
	"os"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
)

// HTML is an HTML fragment shown as it is, e.g. an interactive view (explore.Interactive); outside a notebook it
// is skipped.
type HTML string

// Out is where text goes outside a notebook (standard output unless a test redirects it).
var Out io.Writer = os.Stdout

// Show displays each item inline in GoNB, in order: a string as Markdown, an HTML as HTML, a *plot.Figure as a
// PNG image (kept when the notebook is saved). Elsewhere it prints the strings and skips the rest. Any other item
// is an error.
func Show(items ...any) error {
	for _, it := range items {
		switch v := it.(type) {
		case string:
			if gonbui.IsNotebook {
				gonbui.DisplayMarkdown(v)
			} else {
				fmt.Fprintln(Out, v)
			}
		case HTML:
			if gonbui.IsNotebook {
				gonbui.DisplayHTML(string(v))
			}
		case *plot.Figure:
			if !gonbui.IsNotebook {
				continue
			}
			png, err := v.PNG()
			if err != nil {
				return err
			}
			gonbui.DisplayPNG(png)
		default:
			return fmt.Errorf("display: cannot show a %T (show a string, a display.HTML or a *plot.Figure)", it)
		}
	}
	if gonbui.IsNotebook {
		gonbui.Sync() // displayed before the cell's program can exit (otherwise the last displays may be lost)
	}
	return nil
}

// Progress returns a sink for an experiment's progress (experiment.Runner.Progress): in GoNB one line updated in
// place (replaced by a final line when done), elsewhere a line every ten seconds on Out.
func Progress() func(experiment.Progress) {
	if !gonbui.IsNotebook {
		return experiment.PrintProgress(Out, 10*time.Second)
	}
	id := "revsgd-progress-" + gonbui.UniqueID()
	return func(p experiment.Progress) {
		line := "<pre>" + html.EscapeString(p.String()) + "</pre>"
		if p.Final {
			gonbui.UpdateHTML(id, "")
			gonbui.DisplayHTML(line)
			gonbui.Sync()
			return
		}
		gonbui.UpdateHTML(id, line)
	}
}
