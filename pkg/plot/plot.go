// Package plot draws revsgd's figures with gonum/plot: panels of per-seed curves, mean ± spread bands, log-scale
// step sizes and histograms against a density, arranged in a grid, written as PNG and SVG files, and shown inline
// in GoNB notebooks as PNG images (which survive saving the notebook).
package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Panel is one set of axes.
type Panel struct {
	p      *gplot.Plot
	logY   bool
	legend map[string]bool
}

// NewPanel returns an empty panel with a title and axis labels.
func NewPanel(title, xLabel, yLabel string) *Panel {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return &Panel{p: p, legend: map[string]bool{}}
}

// LogY switches the y axis to a log scale; non-positive values are left out of the lines drawn.
func (p *Panel) LogY() *Panel {
	p.logY = true
	p.p.Y.Scale = gplot.LogScale{}
	p.p.Y.Tick.Marker = logTicks{}
	return p
}

// LogX switches the x axis to a log scale.
func (p *Panel) LogX() *Panel {
	p.p.X.Scale = gplot.LogScale{}
	p.p.X.Tick.Marker = logTicks{}
	return p
}

// logTicks labels powers of ten compactly ("1e-05") and leaves the minor ticks unlabelled.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	ticks := gplot.LogTicks{Prec: -1}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 1, 64)
		}
	}
	return ticks
}

// SetTitle replaces the panel's title.
func (p *Panel) SetTitle(title string) *Panel {
	p.p.Title.Text = title
	return p
}

// LegendBottom moves the legend to the bottom right, for curves that rise towards the top.
func (p *Panel) LegendBottom() *Panel {
	p.p.Legend.Top = false
	return p
}

// Color returns the colour used for a label: the composition orders have fixed colours (forward red, backward
// blue, intermittent green, switch purple; "exact" and "y = x" black), other labels take gonum's palette by hash.
func Color(label string) color.Color {
	switch {
	case strings.HasPrefix(label, "forward"):
		label = "forward"
	case strings.HasPrefix(label, "intermittent"):
		label = "intermittent"
	case strings.HasPrefix(label, "switch"):
		label = "switch"
	}
	switch label {
	case "forward":
		return color.RGBA{R: 214, G: 39, B: 40, A: 255}
	case "backward":
		return color.RGBA{R: 31, G: 119, B: 180, A: 255}
	case "intermittent":
		return color.RGBA{R: 44, G: 160, B: 44, A: 255}
	case "switch":
		return color.RGBA{R: 148, G: 103, B: 189, A: 255}
	case "exact", "y = x":
		return color.Black
	}
	h := 0
	for _, c := range label {
		h = h*31 + int(c)
	}
	return palette[(h%len(palette)+len(palette))%len(palette)]
}

var palette = []color.Color{
	color.RGBA{R: 255, G: 127, B: 14, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255},
	color.RGBA{R: 227, G: 119, B: 194, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
	color.RGBA{R: 188, G: 189, B: 34, A: 255}, color.RGBA{R: 23, G: 190, B: 207, A: 255},
}

// translucent returns c with the given opacity (0–255).
func translucent(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

// xys builds plot points, dropping non-finite values and, on a log axis, non-positive ones.
func (p *Panel) xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, 0, len(x))
	for i := range x {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) || (p.logY && y[i] <= 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x[i], Y: y[i]})
	}
	return pts
}

// addLegend adds a legend entry for label once.
func (p *Panel) addLegend(label string, thumb gplot.Thumbnailer) {
	if label == "" || p.legend[label] {
		return
	}
	p.legend[label] = true
	p.p.Legend.Add(label, thumb)
}

// Line draws y against x in the label's colour; width is in points (e.g. 0.7 for one of many seeds, 1.5 for a
// mean). The legend shows each label once.
func (p *Panel) Line(label string, x, y []float64, width float64) error {
	_, err := p.line(label, x, y, width)
	return err
}

// Dashed draws y against x as a dashed line, e.g. a reference value.
func (p *Panel) Dashed(label string, x, y []float64) error {
	l, err := p.line(label, x, y, 1.2)
	if err == nil {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	return err
}

func (p *Panel) line(label string, x, y []float64, width float64) (*plotter.Line, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("plot: %d x values and %d y values", len(x), len(y))
	}
	l, err := plotter.NewLine(p.xys(x, y))
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	l.Color = Color(label)
	l.Width = vg.Points(width)
	p.p.Add(l)
	p.addLegend(label, l)
	return l, nil
}

// Band draws mean ± spread as a translucent area with the mean as a line.
func (p *Panel) Band(label string, x, mean, spread []float64) error {
	if len(x) != len(mean) || len(x) != len(spread) {
		return fmt.Errorf("plot: band of %d x values, %d means and %d spreads", len(x), len(mean), len(spread))
	}
	upper, lower := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		upper[i], lower[i] = mean[i]+spread[i], mean[i]-spread[i]
	}
	outline := append(p.xys(x, upper), reverse(p.xys(x, lower))...)
	if len(outline) > 2 {
		poly, err := plotter.NewPolygon(outline)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		poly.Color = translucent(Color(label), 60)
		poly.LineStyle.Width = 0
		p.p.Add(poly)
	}
	return p.Line(label, x, mean, 1.5)
}

func reverse(pts plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[len(pts)-1-i] = pt
	}
	return out
}

// Points draws y against x as small dots, e.g. a quantile–quantile plot or a cloud of limit points.
func (p *Panel) Points(label string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("plot: %d x values and %d y values", len(x), len(y))
	}
	s, err := plotter.NewScatter(p.xys(x, y))
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	s.GlyphStyle.Color = translucent(Color(label), 150)
	s.GlyphStyle.Radius = vg.Points(1.6)
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	p.p.Add(s)
	p.addLegend(label, s)
	return nil
}

// VLine draws a thin dashed grey vertical line at x across the panel's y range, e.g. a reset point.
func (p *Panel) VLine(x float64) {
	p.p.Add(vline{x: x})
}

// vline is a plotter drawing a vertical line over the whole data range.
type vline struct{ x float64 }

func (v vline) Plot(c draw.Canvas, plt *gplot.Plot) {
	trX, _ := plt.Transforms(&c)
	px := trX(v.x)
	c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 140}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}},
		px, c.Min.Y, px, c.Max.Y)
}

// Histogram draws a histogram of values with the given number of bins, normalised to unit area so it compares
// with a density.
func (p *Panel) Histogram(label string, values []float64, bins int) error {
	h, err := plotter.NewHist(plotter.Values(values), bins)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	h.Normalize(1)
	h.FillColor = translucent(Color(label), 80)
	h.LineStyle.Color = Color(label)
	h.LineStyle.Width = vg.Points(0.6)
	p.p.Add(h)
	p.addLegend(label, h)
	return nil
}

// Function draws f over the panel's x range as a line.
func (p *Panel) Function(label string, f func(float64) float64) {
	fn := plotter.NewFunction(f)
	fn.Color = Color(label)
	fn.Width = vg.Points(1.5)
	fn.Samples = 200
	p.p.Add(fn)
	p.addLegend(label, fn)
}

// Gonum returns the underlying gonum plot, for anything this package does not cover.
func (p *Panel) Gonum() *gplot.Plot { return p.p }

// tiles returns the layout of a figure of rows × cols panels.
func tiles(rows, cols int) draw.Tiles {
	return draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
}
