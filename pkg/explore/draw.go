package explore

import (
	"encoding/json"
	"fmt"
	"html"
	"image/color"
	"math"
	"strings"

	"github.com/revsgd/revsgd/pkg/display"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/plot"
)

// Figure draws the runs' step sizes, the forward iterates' distance to the backward limit of their seed, and
// the projection pr (trajectories ending in a dot), by order.
func Figure(rs []*experiment.Trajectory, c *Convergence, pr *Projection) (*plot.Figure, error) {
	steps := plot.NewPanel("step sizes between evaluations, per run", "step", "‖θ_{k+1} − θ_k‖").LogY()
	for _, r := range rs {
		at, sizes := r.StepSizes()
		if err := steps.Line(r.Order, asFloats(at), sizes, 0.8); err != nil {
			return nil, err
		}
	}
	dist := plot.NewPanel("distance to the backward limit θ* of the same seed", "step", "‖θ_k − θ*‖").LogY()
	if c != nil {
		for i := range c.Seeds {
			if err := dist.Line("forward", asFloats(c.Steps), c.ForwardToLimit[i], 0.8); err != nil {
				return nil, err
			}
		}
		for _, r := range rs {
			for i, s := range c.Seeds {
				if r.Seed == s && r.Order != "forward" {
					if err := dist.Line(r.Order, asFloats(r.Steps), c.Limits[i].Distances, 0.8); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	proj := plot.NewPanel("the iterates projected on their two principal directions", "first direction",
		"second direction").Note(fmt.Sprintf("steps %d–%d; %.0f%% and %.0f%% of their variance", firstStep(pr),
		lastStep(pr), 100*pr.Explained[0], 100*pr.Explained[1]))
	for i, r := range pr.Runs {
		xs, ys := make([]float64, len(pr.Points[i])), make([]float64, len(pr.Points[i]))
		for k, p := range pr.Points[i] {
			xs[k], ys[k] = p[0], p[1]
		}
		if err := proj.Line(r.Order, xs, ys, 0.6); err != nil {
			return nil, err
		}
		if err := proj.Points(r.Order+" (last)", xs[len(xs)-1:], ys[len(ys)-1:]); err != nil {
			return nil, err
		}
	}
	return plot.NewFigure(2, steps, dist, proj), nil
}

func firstStep(pr *Projection) int {
	first := math.MaxInt
	for _, r := range pr.Runs {
		if len(r.Steps) > 0 {
			first = min(first, r.Steps[0])
		}
	}
	return first
}

func lastStep(pr *Projection) int {
	last := 0
	for _, r := range pr.Runs {
		if len(r.Steps) > 0 {
			last = max(last, r.Steps[len(r.Steps)-1])
		}
	}
	return last
}

func asFloats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// viewRun is one run in the interactive view's data.
type viewRun struct {
	Order  string       `json:"order"`
	Seed   uint64       `json:"seed"`
	Color  string       `json:"color"`
	Steps  []int        `json:"steps"`
	Points [][2]float64 `json:"points"`
}

// Interactive returns a self-contained HTML view of a projection: a slider over the evaluated steps redraws, in
// an SVG, each run's trajectory up to that step and its point there, and says the step. It uses no external
// script or style, so it works offline and in a saved notebook (where JavaScript is trusted).
func Interactive(pr *Projection, id string) (display.HTML, error) {
	var data []viewRun
	maxK := 0
	for i, r := range pr.Runs {
		c := color.RGBAModel.Convert(plot.Color(r.Order)).(color.RGBA)
		data = append(data, viewRun{Order: r.Order, Seed: r.Seed, Color: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B),
			Steps: r.Steps, Points: pr.Points[i]})
		maxK = max(maxK, len(r.Steps)-1)
	}
	js, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	id = "revsgd-view-" + html.EscapeString(id)
	var b strings.Builder
	fmt.Fprintf(&b, `<div id="%[1]s" style="font-family: sans-serif">
<div><input type="range" min="0" max="%[2]d" value="%[2]d" style="width: 420px" aria-label="evaluated step">
<span class="revsgd-step"></span></div>
<svg width="480" height="360" viewBox="0 0 480 360" style="border: 1px solid #ccc; background: #fff"></svg>
<div class="revsgd-legend" style="font-size: 12px"></div>
<script>
(function () {
  var root = document.getElementById(%[3]q), runs = %[4]s;
  var slider = root.querySelector("input"), svg = root.querySelector("svg"), label = root.querySelector(".revsgd-step");
  var xs = [], ys = [];
  runs.forEach(function (r) { r.points.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
  var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
  function sx(x) { return 20 + 440 * (x - x0) / ((x1 - x0) || 1); }
  function sy(y) { return 340 - 320 * (y - y0) / ((y1 - y0) || 1); }
  var seen = {}, legend = "";
  runs.forEach(function (r) { if (!seen[r.order]) { seen[r.order] = 1; legend += '<span style="color:' + r.color + '">&#9679; ' + r.order + '</span> '; } });
  root.querySelector(".revsgd-legend").innerHTML = legend + " — trajectories on the two principal directions; drag the slider";
  function draw() {
    var k = +slider.value, out = "", step = null;
    runs.forEach(function (r) {
      var n = Math.min(k, r.points.length - 1), d = "";
      for (var i = 0; i <= n; i++) { d += (i ? "L" : "M") + sx(r.points[i][0]).toFixed(1) + "," + sy(r.points[i][1]).toFixed(1); }
      out += '<path d="' + d + '" fill="none" stroke="' + r.color + '" stroke-opacity="0.45" stroke-width="1"/>';
      out += '<circle cx="' + sx(r.points[n][0]).toFixed(1) + '" cy="' + sy(r.points[n][1]).toFixed(1) + '" r="4" fill="' + r.color + '"/>';
      step = r.steps[n];
    });
    svg.innerHTML = out;
    label.textContent = "step " + step;
    root.setAttribute("data-step", step);
  }
  slider.addEventListener("input", draw);
  draw();
})();
</script></div>`, id, maxK, id, js)
	return display.HTML(b.String()), nil
}
