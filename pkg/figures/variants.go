package figures

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
	"github.com/revsgd/revsgd/pkg/update"
)

// The figures of the practical variants (issue-level catalogue entries intermittent, late-switch and adamw) are
// classification figures with other orders or another optimizer.

// lateSwitchSettings: FashionMNIST MLP, forward against forward-then-backward with the switch half-way.
func lateSwitchSettings(s Scale) *Classification {
	c := fashionVariantSettings(s)
	c.Name, c.Paper = "late-switch", "Fig. 11"
	c.Every = 10
	if s == Quick {
		c.Every = 5
	}
	at := c.Steps / 2 // 1000 at paper scale, the paper's switch point
	c.Orders = []order.Order{order.Forward{}, order.Switch{At: at}}
	c.Marks = []int{at}
	return c
}

// Composite runs several classification figures and shows the test loss and its change of each, side by side.
type Composite struct {
	Scale Scale
	// Name is the catalogue id; Paper where it is in the paper.
	Name, Paper string
	// Parts are the experiments, each labelled.
	Parts []*Classification
	// Labels name the parts in panel titles; Keys prefix the IDs of their claims.
	Labels, Keys []string
}

func adamWSettings(s Scale) *Composite {
	mlp := fashionVariantSettings(s)
	resnet := cifar10ResNetSettings(s)
	for _, c := range []*Classification{mlp, resnet} {
		c.Name, c.Paper = "adamw", "App. A.5"
		c.Rule = update.DefaultAdamW(1e-3)
	}
	return &Composite{Scale: s, Name: "adamw", Paper: "App. A.5", Parts: []*Classification{mlp, resnet},
		Labels: []string{"MLP, FashionMNIST", "ResNet-18, CIFAR-10"}, Keys: []string{"mlp", "resnet18"}}
}

// ID implements Figure.
func (c *Composite) ID() string { return c.Name }

// Only keeps the parts named by their keys (adamw: "mlp", "resnet18"), in the figure's order: e.g. the parts
// whose paper scale fits a CPU. Its claims file lists the parts it ran (ClaimsFile.Parts).
func (c *Composite) Only(keys ...string) error {
	if len(keys) == 0 {
		return fmt.Errorf("figures: %s: name at least one of its parts (%s)", c.ID(), strings.Join(c.Keys, ", "))
	}
	var parts []*Classification
	var labels, kept []string
	for i, k := range c.Keys {
		if slices.Contains(keys, k) {
			parts, labels, kept = append(parts, c.Parts[i]), append(labels, c.Labels[i]), append(kept, k)
		}
	}
	for _, k := range keys {
		if !slices.Contains(c.Keys, k) {
			return fmt.Errorf("figures: %s has no part %q; its parts are %s", c.ID(), k, strings.Join(c.Keys, ", "))
		}
	}
	c.Parts, c.Labels, c.Keys = parts, labels, kept
	return nil
}

// Settings implements Figure.
func (c *Composite) Settings() string {
	parts := make([]string, len(c.Parts))
	for i, p := range c.Parts {
		parts[i] = fmt.Sprintf("- %s: %s", c.Labels[i], p.Settings())
	}
	return fmt.Sprintf("**%s** (%s): the forward/backward comparison with an adaptive optimizer.\n\n%s", c.Name, c.Paper,
		strings.Join(parts, "\n"))
}

// Experiments implements Recipe: each part's experiment.
func (c *Composite) Experiments() ([]Experiment, error) {
	out := make([]Experiment, len(c.Parts))
	for i, p := range c.Parts {
		spec, err := p.experiment()
		if err != nil {
			return nil, err
		}
		out[i] = Experiment{c.Labels[i], spec}
	}
	return out, nil
}

// Draw implements Recipe: each part's test loss and its change, side by side, a row per part.
func (c *Composite) Draw(results []*experiment.Result) (*Outcome, error) {
	var panels []*plot.Panel
	var summary strings.Builder
	var titles []string
	var claims []Claim
	for i, p := range c.Parts {
		got, s, err := p.draw(results[i])
		if err != nil {
			return nil, err
		}
		label := c.Labels[i]
		if got.title != "" { // a stand-in: say so in the panels and the figure's title
			label += " (stand-in)"
			titles = append(titles, got.title)
		}
		panels = append(panels, got.testLoss.SetTitle(label+": test loss, per seed"),
			got.change.SetTitle(label+": change of the test loss"))
		fmt.Fprintf(&summary, "**%s**\n\n%s\n", label, s)
		claims = append(claims, prefixed(c.Keys[i], c.Labels[i], got.claims)...)
	}
	fig := plot.NewFigure(2, panels...)
	fig.Title = strings.Join(titles, "; ")
	return &Outcome{Figure: fig, Summary: summary.String(), Claims: claims}, nil
}

// Run implements Figure.
func (c *Composite) Run(ctx context.Context, runner experiment.Runner) (*Outcome, error) {
	return runRecipe(ctx, runner, c)
}
