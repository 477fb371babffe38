package display

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/plot"
)

// Outside a notebook Show prints the Markdown, skips HTML and figures, and refuses what it cannot show.
func TestShowOutsideANotebookPrintsTheText(t *testing.T) {
	var buf bytes.Buffer
	defer func(w io.Writer) { Out = w }(Out)
	Out = &buf
	if err := Show("**claim** holds", HTML("<div>view</div>"), plot.NewFigure(1)); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "**claim** holds\n" {
		t.Errorf("printed %q", got)
	}
	if err := Show(42); err == nil || !strings.Contains(err.Error(), "cannot show a int") {
		t.Errorf("showing an int: %v", err)
	}
}
