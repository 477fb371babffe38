package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"github.com/revsgd/revsgd/internal/atomicfile"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is a grid of panels, filled row by row, drawn and saved together.
type Figure struct {
	// Cols is the number of panels per row (1 if zero).
	Cols int
	// Panels are the panels in reading order.
	Panels []*Panel
	// PanelWidth and PanelHeight are each panel's size; zero means 12 cm × 8 cm.
	PanelWidth, PanelHeight vg.Length
	// Title, when set, is drawn centred above the panels (lines split at "\n"), in a strip added to the
	// figure's height.
	Title string
}

// NewFigure returns a figure of panels laid out in cols columns.
func NewFigure(cols int, panels ...*Panel) *Figure { return &Figure{Cols: cols, Panels: panels} }

func (f *Figure) layout() (rows, cols int, w, h vg.Length) {
	cols = max(f.Cols, 1)
	rows = (len(f.Panels) + cols - 1) / cols
	pw, ph := f.PanelWidth, f.PanelHeight
	if pw == 0 {
		pw = 12 * vg.Centimeter
	}
	if ph == 0 {
		ph = 8 * vg.Centimeter
	}
	return rows, cols, pw * vg.Length(cols), ph*vg.Length(rows) + f.titleHeight()
}

// titlePadding is the space above and below the figure's title.
const titlePadding = 2 * vg.Millimeter

// titleStyle is the figure title's text style: a point larger than the panels' titles.
func titleStyle() draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: font.From(gplot.DefaultFont, 13), XAlign: draw.XCenter,
		YAlign: draw.YTop, Handler: gplot.DefaultTextHandler}
}

// titleHeight is the height of the strip the title takes, zero without one.
func (f *Figure) titleHeight() vg.Length {
	if f.Title == "" {
		return 0
	}
	return titleStyle().Rectangle(f.Title).Size().Y + 2*titlePadding
}

func (f *Figure) draw(c draw.Canvas) {
	if h := f.titleHeight(); h > 0 {
		strip := vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: c.Max.Y - h}, Max: c.Max}
		c.SetColor(color.White)
		c.Fill(strip.Path())
		c.FillText(titleStyle(), vg.Point{X: c.Center().X, Y: c.Max.Y - titlePadding}, f.Title)
		c.Max.Y -= h
	}
	for _, p := range f.Panels {
		p.prepare()
	}
	rows, cols, _, _ := f.layout()
	grid := make([][]*gplot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*gplot.Plot, cols)
		for k := range cols {
			if i := r*cols + k; i < len(f.Panels) {
				grid[r][k] = f.Panels[i].p
			}
		}
	}
	canvases := gplot.Align(grid, tiles(rows, cols), c)
	for r := range grid {
		for k := range grid[r] {
			if grid[r][k] != nil {
				grid[r][k].Draw(canvases[r][k])
			}
		}
	}
}

// PNG renders the figure at 150 dpi.
func (f *Figure) PNG() ([]byte, error) {
	if len(f.Panels) == 0 {
		return nil, fmt.Errorf("plot: the figure has no panels")
	}
	_, _, w, h := f.layout()
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
	f.draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot: rendering PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG renders the figure as SVG.
func (f *Figure) SVG() ([]byte, error) {
	if len(f.Panels) == 0 {
		return nil, fmt.Errorf("plot: the figure has no panels")
	}
	_, _, w, h := f.layout()
	c := vgsvg.New(w, h)
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot: rendering SVG: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes dir/name.png and dir/name.svg, creating dir, and returns the two paths.
func (f *Figure) Save(dir, name string) (pngPath, svgPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("plot: %w", err)
	}
	png, err := f.PNG()
	if err != nil {
		return "", "", err
	}
	svg, err := f.SVG()
	if err != nil {
		return "", "", err
	}
	pngPath, svgPath = filepath.Join(dir, name+".png"), filepath.Join(dir, name+".svg")
	if err := atomicfile.Write(pngPath, png); err != nil {
		return "", "", fmt.Errorf("plot: %w", err)
	}
	if err := atomicfile.Write(svgPath, svg); err != nil {
		return "", "", fmt.Errorf("plot: %w", err)
	}
	return pngPath, svgPath, nil
}
