package plot

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFigureWritesPNGAndSVG(t *testing.T) {
	a := NewPanel("curves", "step", "value")
	if err := a.Line("forward", []float64{1, 2, 3}, []float64{1, 0.5, 0.7}, 0.7); err != nil {
		t.Fatal(err)
	}
	if err := a.Band("backward", []float64{1, 2, 3}, []float64{1, 0.6, 0.5}, []float64{0.2, 0.1, 0.05}); err != nil {
		t.Fatal(err)
	}
	b := NewPanel("step sizes", "step", "|Δθ|").LogY()
	if err := b.Line("backward", []float64{1, 2, 3}, []float64{1, 0.1, 0}, 1); err != nil { // the 0 is dropped
		t.Fatal(err)
	}
	c := NewPanel("histogram", "θ", "density")
	if err := c.Histogram("forward", []float64{-1, 0, 0, 0.5, 1}, 4); err != nil {
		t.Fatal(err)
	}
	c.Function("exact", func(x float64) float64 { return x * x })

	dir := t.TempDir()
	pngPath, svgPath, err := NewFigure(2, a, b, c).Save(dir, "fig")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(pngPath)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	// 2 columns × 2 rows of 12 cm × 8 cm at 150 dpi.
	if b := img.Bounds(); b.Dx() < 1400 || b.Dy() < 900 {
		t.Errorf("PNG is %v", b)
	}
	svg, _ := os.ReadFile(svgPath)
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "step sizes") {
		t.Error("SVG lacks the svg element or a panel title")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if err := a.Line("x", []float64{1}, []float64{1, 2}, 1); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestFigureTitle(t *testing.T) {
	p := NewPanel("curves", "step", "value")
	if err := p.Line("forward", []float64{1, 2}, []float64{1, 0.5}, 1); err != nil {
		t.Fatal(err)
	}
	f := NewFigure(1, p)
	_, _, _, plain := f.layout()
	f.Title = "stand-in data: FashionMNIST"
	if _, _, _, h := f.layout(); h <= plain {
		t.Errorf("height %v with a title, %v without", h, plain)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "stand-in data: FashionMNIST") || !strings.Contains(string(svg), "curves") {
		t.Error("SVG lacks the figure title or the panel title")
	}
	if _, err := f.PNG(); err != nil {
		t.Fatal(err)
	}
}

// Every log axis labels at least three ticks, whatever its range, and the labels are the tick values.
func TestLogTicksLabelThree(t *testing.T) {
	for _, r := range [][2]float64{{0.3, 0.9}, {0.05, 2}, {1e-6, 1}, {0.95, 1.2}, {12, 30}} {
		labelled := 0
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if tk.Value < r[0]*(1-1e-9) || tk.Value > r[1]*(1+1e-9) {
				t.Errorf("range %v: tick %g outside it", r, tk.Value)
			}
			if tk.Label != "" {
				labelled++
				if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-9*tk.Value {
					t.Errorf("range %v: tick %g labelled %q", r, tk.Value, tk.Label)
				}
			}
		}
		if labelled < 3 {
			t.Errorf("range %v: %d labelled ticks", r, labelled)
		}
	}
}

// A panel with nothing to draw — a log axis with no positive value, or no points at all — renders with a note
// instead of failing; non-finite values are counted under the title instead of vanishing.
func TestEmptyPanelsAndNaNs(t *testing.T) {
	empty := NewPanel("change", "step", "|ΔL|").LogY()
	if err := empty.Line("forward", []float64{}, []float64{}, 1); err != nil {
		t.Fatal(err)
	}
	zeros := NewPanel("zeros", "step", "loss").LogY()
	if err := zeros.Line("backward", []float64{1, 2}, []float64{0, 0}, 1); err != nil {
		t.Fatal(err)
	}
	nans := NewPanel("diverged", "step", "loss").LogY()
	if err := nans.Line("forward", []float64{1, 2, 3}, []float64{1, math.NaN(), math.Inf(1)}, 1); err != nil {
		t.Fatal(err)
	}
	svg, err := NewFigure(2, empty, zeros, nans).SVG()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(svg), "nothing to draw"); n != 2 {
		t.Errorf("%d panels say they have nothing to draw, want 2", n)
	}
	if !strings.Contains(string(svg), "2 NaN or infinite values not drawn") {
		t.Error("the NaN and Inf values are not reported")
	}
	band := NewPanel("band", "step", "loss")
	if err := band.Band("forward", []float64{1, 2, 3}, []float64{1, math.NaN(), 2}, []float64{0.1, math.NaN(), 0.1}); err != nil {
		t.Fatal(err)
	}
	if band.dropped != 1 {
		t.Errorf("a band's NaN counted %d times, want once", band.dropped)
	}
}

// Labels other than the orders get distinct colours within a panel (weights[0] and biases[0] once shared one).
func TestDistinctColoursInAPanel(t *testing.T) {
	p := NewPanel("quantiles", "x", "y")
	seen := map[color.Color]string{}
	for _, label := range []string{"weights[0]", "weights[1]", "weights[2]", "biases[0]", "forward", "backward"} {
		c := p.color(label)
		if other, ok := seen[c]; ok {
			t.Errorf("%s and %s share a colour", label, other)
		}
		seen[c] = label
	}
}

// Wrap breaks after commas where it can and between words where a piece is too long.
func TestWrapBreaksAtCommasThenWords(t *testing.T) {
	for _, c := range []struct {
		text  string
		width int
		want  string
	}{
		{"aaaa, bbbb, cccc", 11, "aaaa, bbbb,\ncccc"},
		{"late mean change, intermittent-w50 ÷ forward: 0.18, holds (5 of 5 seeds)", 30,
			"late mean change,\nintermittent-w50 ÷ forward:\n0.18, holds (5 of 5 seeds)"},
		{"short", 30, "short"},
	} {
		if got := Wrap(c.text, c.width); got != c.want {
			t.Errorf("Wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
		}
	}
}
