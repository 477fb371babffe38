package plot

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
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
