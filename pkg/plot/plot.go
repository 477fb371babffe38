// Package plot draws revsgd's figures with gonum/plot: panels of per-seed curves, mean ± spread bands, log-scale
// step sizes and histograms against a density, arranged in a grid, written as PNG and SVG files, and shown inline
// in GoNB notebooks as PNG images (which survive saving the notebook).
package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"
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
	// colors are the palette colours given to this panel's other labels, in order of first use, so that no two
	// of them share a colour (up to the palette's size).
	colors map[string]color.Color
	// notes are lines added under the title; dropped counts the non-finite values left out of the lines.
	notes   []string
	title   string
	dropped int
	// drawn counts the points, bars and functions added; a panel with none is drawn empty, with a note.
	drawn int
	// prepared is set once prepare has adjusted the axes (a figure is drawn more than once: PNG, SVG).
	prepared bool
	// noLegend leaves the legend out (NoLegend).
	noLegend bool
}

// prepare readies a panel for drawing: one with nothing to draw gets linear axes (a log axis needs positive
// values) and says so, instead of failing.
func (p *Panel) prepare() {
	if p.prepared {
		return
	}
	p.prepared = true
	// A log axis over a single value (one point) would be widened by gonum to [v − 1, v + 1]: widen it by a factor.
	for _, a := range []*gplot.Axis{&p.p.X, &p.p.Y} {
		if _, log := a.Scale.(gplot.LogScale); log && a.Min == a.Max && a.Min > 0 {
			a.Min, a.Max = a.Min/2, a.Max*2
		}
	}
	if p.drawn > 0 {
		p.makeRoomForLegend()
		return
	}
	p.p.X.Scale, p.p.Y.Scale = gplot.LinearScale{}, gplot.LinearScale{}
	p.p.X.Tick.Marker, p.p.Y.Tick.Marker = gplot.DefaultTicks{}, gplot.DefaultTicks{}
	p.p.X.Min, p.p.X.Max, p.p.Y.Min, p.p.Y.Max = 0, 1, 0, 1
	p.Note("nothing to draw: too few points (e.g. fewer than two evaluations)")
}

// NewPanel returns an empty panel with a title and axis labels.
func NewPanel(title, xLabel, yLabel string) *Panel {
	p := gplot.New()
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	panel := &Panel{p: p, legend: map[string]bool{}, colors: map[string]color.Color{}, title: title}
	panel.retitle()
	return panel
}

// makeRoomForLegend extends the y axis past the data, on the legend's side (top, or bottom after LegendBottom),
// by about the legend's height, so that the legend does not cover the data.
func (p *Panel) makeRoomForLegend() {
	if len(p.legend) == 0 {
		return
	}
	f := min(0.5, 0.02+0.065*float64(len(p.legend))) // share of the panel's height the legend takes
	y := &p.p.Y
	if _, log := y.Scale.(gplot.LogScale); log && y.Min > 0 && y.Max > y.Min {
		lo, hi := math.Log(y.Min), math.Log(y.Max)
		if p.p.Legend.Top {
			y.Max = math.Exp(lo + (hi-lo)/(1-f))
		} else {
			y.Min = math.Exp(hi - (hi-lo)/(1-f))
		}
		return
	}
	if _, lin := y.Scale.(gplot.LinearScale); lin && y.Max > y.Min {
		if p.p.Legend.Top {
			y.Max = y.Min + (y.Max-y.Min)/(1-f)
		} else {
			y.Min = y.Max - (y.Max-y.Min)/(1-f)
		}
	}
}

// Note adds a line under the panel's title, e.g. a fitted slope or a p-value.
func (p *Panel) Note(text string) *Panel {
	p.notes = append(p.notes, text)
	p.retitle()
	return p
}

// titleWidth is the most characters a line of a panel's title holds in a figure of two columns.
const titleWidth = 64

// retitle writes the title, its notes, and how many non-finite values were not drawn, wrapped to the panel.
func (p *Panel) retitle() {
	lines := append([]string{p.title}, p.notes...)
	if p.dropped > 0 {
		lines = append(lines, fmt.Sprintf("%d NaN or infinite values not drawn", p.dropped))
	}
	p.p.Title.Text = Wrap(strings.Join(lines, "\n"), titleWidth)
}

// Wrap breaks each line of text so that no line is longer than width characters: after a comma (or the
// semicolon before a space) where it can, so that items such as "h = 0.025" stay whole, else between words.
func Wrap(text string, width int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		cur := ""
		for _, item := range strings.SplitAfter(strings.ReplaceAll(line, ", ", ",\x00"), "\x00") {
			item = strings.ReplaceAll(item, "\x00", " ")
			for _, word := range breakWords(item, width) {
				if cur != "" && len([]rune(strings.TrimSpace(cur+word))) > width {
					out = append(out, strings.TrimSpace(cur))
					cur = ""
				}
				cur += word
			}
		}
		out = append(out, strings.TrimSpace(cur))
	}
	return strings.Join(out, "\n")
}

// breakWords returns an item whole when it fits width, else its words (each with its following space).
func breakWords(item string, width int) []string {
	if len([]rune(strings.TrimSpace(item))) <= width {
		return []string{item}
	}
	return strings.SplitAfter(item, " ")
}

// color is the colour of a label in this panel: Color's fixed colours for the orders and references, else the
// next unused palette colour.
func (p *Panel) color(label string) color.Color {
	if c, ok := fixedColor(label); ok {
		return c
	}
	if c, ok := p.colors[label]; ok {
		return c
	}
	// Start from the label's colour by hash (so a label keeps its colour across panels) and take the next one
	// not yet used in this panel.
	start := paletteIndex(label)
	c := palette[start]
	for k := range palette {
		c = palette[(start+k)%len(palette)]
		used := false
		for _, u := range p.colors {
			used = used || u == c
		}
		if !used {
			break
		}
	}
	p.colors[label] = c
	return c
}

// paletteIndex is the palette colour of a label by hash.
func paletteIndex(label string) int {
	h := 0
	for _, c := range label {
		h = h*31 + int(c)
	}
	return (h%len(palette) + len(palette)) % len(palette)
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

// logTicks labels at least three ticks on a log axis: the powers of ten when the range spans three of them, else
// also 2 and 5 times them, else every integer multiple (the other multiples are unlabelled minor ticks); a range
// too narrow even for that (within one step between multiples) gets evenly spaced ticks.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return gplot.LogTicks{Prec: -1}.Ticks(lo, hi)
	}
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	// Over many decades, label every step-th power of ten (about seven labels) and leave out the minor ticks.
	step, minor := max(1, (last-first+6)/7), last-first <= 6
	for _, labelled := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var ticks []gplot.Tick
		count := 0
		for e := first; e <= last; e++ {
			for m := 1; m <= 9; m++ {
				if m == 1 && e%step != 0 || m > 1 && !minor {
					continue
				}
				v := float64(m) * math.Pow(10, float64(e))
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				t := gplot.Tick{Value: v}
				if slices.Contains(labelled, m) {
					t.Label = strconv.FormatFloat(v, 'g', 2, 64)
					count++
				}
				ticks = append(ticks, t)
			}
		}
		if count >= 3 {
			return ticks
		}
	}
	return gplot.DefaultTicks{}.Ticks(lo, hi)
}

// SetTitle replaces the panel's title (its notes stay).
func (p *Panel) SetTitle(title string) *Panel {
	p.title = title
	p.retitle()
	return p
}

// NoLegend leaves the panel's legend out, for a figure whose panels share one legend (shown by one of them).
func (p *Panel) NoLegend() *Panel {
	p.noLegend = true
	p.legend = map[string]bool{}
	top := p.p.Legend.Top
	p.p.Legend = gplot.NewLegend()
	p.p.Legend.Top = top
	return p
}

// LegendBottom moves the legend to the bottom right, for curves that rise towards the top.
func (p *Panel) LegendBottom() *Panel {
	p.p.Legend.Top = false
	return p
}

// Color returns the colour used for a label: the composition orders have fixed colours (forward red, backward
// blue, intermittent green, switch purple; "exact" and "y = x" black), other labels take the palette by hash —
// within a panel, the next colour not yet used there when two labels collide.
func Color(label string) color.Color {
	if c, ok := fixedColor(label); ok {
		return c
	}
	return palette[paletteIndex(label)]
}

// fixedColor is the colour of an order or a reference line, and whether label is one.
func fixedColor(label string) (color.Color, bool) {
	switch {
	case strings.HasPrefix(label, "forward"):
		label = "forward"
	case strings.HasPrefix(label, "backward"):
		label = "backward"
	case strings.HasPrefix(label, "intermittent"):
		label = "intermittent"
	case strings.HasPrefix(label, "switch"):
		label = "switch"
	}
	switch label {
	case "forward":
		return color.RGBA{R: 214, G: 39, B: 40, A: 255}, true
	case "backward":
		return color.RGBA{R: 31, G: 119, B: 180, A: 255}, true
	case "intermittent":
		return color.RGBA{R: 44, G: 160, B: 44, A: 255}, true
	case "switch":
		return color.RGBA{R: 148, G: 103, B: 189, A: 255}, true
	case "exact", "y = x":
		return color.Black, true
	}
	return nil, false
}

// palette holds the colours of other labels, far from the orders' red, blue, green and purple and from each other.
var palette = []color.Color{
	color.RGBA{R: 255, G: 127, B: 14, A: 255}, color.RGBA{R: 23, G: 190, B: 207, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255}, color.RGBA{R: 227, G: 119, B: 194, A: 255},
	color.RGBA{R: 188, G: 189, B: 34, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

// translucent returns c with the given opacity (0–255).
func translucent(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

// xys builds plot points, leaving out non-finite values — counted under the title and marked by a cross at the
// top of the panel, at their x, in the label's colour — and, on a log axis, non-positive ones.
func (p *Panel) xys(x, y []float64, label string) plotter.XYs {
	pts, bad := p.finite(x, y)
	if len(bad) > 0 {
		p.dropped += len(bad)
		p.retitle()
		p.p.Add(nonFinite{xs: bad, color: p.color(label)})
	}
	return pts
}

// finite returns the points with a finite y (and, on a log axis, a positive one), and the x of the non-finite.
func (p *Panel) finite(x, y []float64) (pts plotter.XYs, bad []float64) {
	pts = make(plotter.XYs, 0, len(x))
	for i := range x {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			bad = append(bad, x[i])
			continue
		}
		if p.logY && y[i] <= 0 {
			continue
		}
		pts = append(pts, plotter.XY{X: x[i], Y: y[i]})
	}
	return pts, bad
}

// nonFinite marks the x positions of NaN or infinite values with crosses along the top of the data area.
type nonFinite struct {
	xs    []float64
	color color.Color
}

func (n nonFinite) Plot(c draw.Canvas, plt *gplot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := draw.GlyphStyle{Color: n.color, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
	for _, x := range n.xs {
		c.DrawGlyph(sty, vg.Point{X: trX(x), Y: c.Max.Y - vg.Points(4)})
	}
}

// DataRange implements plot.DataRanger: the crosses' x positions belong to the x range; they add no y range.
func (n nonFinite) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, x := range n.xs {
		xmin, xmax = min(xmin, x), max(xmax, x)
	}
	return xmin, xmax, math.Inf(1), math.Inf(-1)
}

// addLegend adds a legend entry for label once.
func (p *Panel) addLegend(label string, thumb gplot.Thumbnailer) {
	if label == "" || p.legend[label] || p.noLegend {
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

// sparse is the number of points up to which a line also marks its points.
const sparse = 12

func (p *Panel) line(label string, x, y []float64, width float64) (*plotter.Line, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("plot: %d x values and %d y values", len(x), len(y))
	}
	pts := p.xys(x, y, label)
	l := &plotter.Line{XYs: pts, LineStyle: plotter.DefaultLineStyle}
	l.Color = p.color(label)
	l.Width = vg.Points(width)
	if len(pts) > 0 {
		p.p.Add(l)
		p.drawn += len(pts)
	}
	if len(pts) > 0 && len(pts) <= sparse {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: l.Color, Radius: vg.Points(1.2 + width), Shape: draw.CircleGlyph{}}
		p.p.Add(s)
	}
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
	up, _ := p.finite(x, upper)
	down, _ := p.finite(x, lower)
	outline := append(up, reverse(down)...) // the mean's line below reports non-finite values once
	if len(outline) > 2 {
		poly, err := plotter.NewPolygon(outline)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		poly.Color = translucent(p.color(label), 60)
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
	s, err := plotter.NewScatter(p.xys(x, y, label))
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	s.GlyphStyle.Color = translucent(p.color(label), 150)
	s.GlyphStyle.Radius = vg.Points(1.6)
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	p.p.Add(s)
	p.drawn += len(s.XYs)
	p.addLegend(label, s)
	return nil
}

// Marks draws a thin dashed grey vertical line at each x across the panel's y range, e.g. the reset points of
// an order, with one legend entry, label.
func (p *Panel) Marks(label string, xs ...float64) {
	for _, x := range xs {
		p.p.Add(vline{x: x})
	}
	if len(xs) > 0 {
		p.addLegend(label, vline{})
	}
}

// vline is a plotter drawing a vertical line over the whole data range.
type vline struct{ x float64 }

// markStyle is how Marks draws.
var markStyle = draw.LineStyle{Color: color.Gray{Y: 140}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}}

func (v vline) Plot(c draw.Canvas, plt *gplot.Plot) {
	trX, _ := plt.Transforms(&c)
	px := trX(v.x)
	c.StrokeLine2(markStyle, px, c.Min.Y, px, c.Max.Y)
}

// Thumbnail draws the legend's sample of a mark: a short dashed grey line.
func (vline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(markStyle, c.Min.X, y, c.Max.X, y)
}

// Histogram draws a histogram of values with the given number of bins, normalised to unit area so it compares
// with a density.
func (p *Panel) Histogram(label string, values []float64, bins int) error {
	h, err := plotter.NewHist(plotter.Values(values), bins)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	h.Normalize(1)
	h.FillColor = translucent(p.color(label), 80)
	h.LineStyle.Color = p.color(label)
	h.LineStyle.Width = vg.Points(0.6)
	p.p.Add(h)
	p.drawn += len(values)
	p.addLegend(label, h)
	return nil
}

// Function draws f over the panel's x range as a line.
func (p *Panel) Function(label string, f func(float64) float64) {
	fn := plotter.NewFunction(f)
	fn.Color = p.color(label)
	fn.Width = vg.Points(1.5)
	fn.Samples = 200
	p.p.Add(fn)
	p.drawn++
	p.addLegend(label, fn)
}

// Gonum returns the underlying gonum plot, for anything this package does not cover.
func (p *Panel) Gonum() *gplot.Plot { return p.p }

// tiles returns the layout of a figure of rows × cols panels.
func tiles(rows, cols int) draw.Tiles {
	return draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
}
