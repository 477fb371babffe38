package figures

import (
	"fmt"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/plot"
)

// Every figure takes the overrides that have a meaning for it, and they change what it runs (its settings say
// so); the others are refused with an error that names the figure and the setting.
func TestOverridesApplyToEveryFigure(t *testing.T) {
	evaluatesEveryStep := map[string]bool{"quadratic": true, "stationary": true}
	comparesOrders := map[string]bool{"fashion-mlp": true, "cifar10-resnet18": true, "cifar10-vgg": true,
		"cifar100-resnet": true, "late-switch": true, "adamw": true}
	// Resets every 50 steps: fewer than 150 leave no window after the first two to measure; a switch at step 100
	// leaves fewer steps nothing to switch.
	needsWindows := map[string]string{"intermittent": "intermittent: N = 37 steps with resets every",
		"late-switch": "late-switch: switch-s100 switches at step 100, not within N = 37 steps"}
	for _, id := range IDs() {
		t.Run(id, func(t *testing.T) {
			f, err := New(id, Quick)
			if err != nil {
				t.Fatal(err)
			}
			before := f.Settings()
			steps := 37
			if want, ok := needsWindows[id]; ok {
				err := f.Override(Overrides{Steps: steps})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("steps 37: %v, want an error saying %q", err, want)
				}
				steps = 370
			}
			if err := f.Override(Overrides{Steps: steps, Seeds: 3}); err != nil {
				t.Fatalf("steps and seeds: %v", err)
			}
			if f.Settings() == before || !strings.Contains(f.Settings(), fmt.Sprint(steps)) {
				t.Errorf("steps %d and seeds 3 left the settings as they were, or do not show the steps:\n%s", steps, f.Settings())
			}
			err = f.Override(Overrides{Every: 5})
			switch {
			case evaluatesEveryStep[id] && (err == nil || !strings.Contains(err.Error(), id+": the evaluation interval cannot be overridden")):
				t.Errorf("every 5: %v, want an error naming %s and the interval", err, id)
			case !evaluatesEveryStep[id] && err != nil:
				t.Errorf("every 5: %v", err)
			}
			err = f.Override(Overrides{Orders: []order.Order{order.Forward{}, order.Backward{}}})
			switch {
			case comparesOrders[id] && err != nil:
				t.Errorf("orders: %v", err)
			case !comparesOrders[id] && (err == nil || !strings.Contains(err.Error(), id+": the composition orders cannot be overridden")):
				t.Errorf("orders: %v, want an error naming %s and the orders", err, id)
			}
			if err := f.Override(Overrides{Steps: -1}); err == nil {
				t.Error("steps −1 accepted")
			}
		})
	}
}

// Every figure says its settings in a line, and the line wraps to the image's width.
func TestSettingsLines(t *testing.T) {
	for _, id := range IDs() {
		f, err := New(id, Quick)
		if err != nil {
			t.Fatal(err)
		}
		line := f.Line()
		if !strings.Contains(line, "scale quick") {
			t.Errorf("%s: the settings line does not name the scale: %q", id, line)
		}
		for _, l := range strings.Split(plot.Wrap(line+"; backend xla/cpu/lammps-jax-pjrt-cpu==0.11.2", 120), "\n") {
			if n := len([]rune(l)); n > 120 {
				t.Errorf("%s: a wrapped line of %d characters: %q", id, n, l)
			}
		}
	}
	if got := plot.Wrap("aaaa, bbbb, cccc", 11); got != "aaaa, bbbb,\ncccc" {
		t.Errorf("wrap: %q", got)
	}
}

// Orders without forward (or forward alone) leave the claims nothing to compare: refused when given, before
// anything is computed.
func TestOrdersWithoutForwardAreRefused(t *testing.T) {
	for _, os := range [][]order.Order{{order.Backward{}}, {order.Forward{}}, {order.Backward{}, order.Switch{At: 50}}} {
		f, err := New("fashion-mlp", Quick)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Override(Overrides{Orders: os}); err == nil || !strings.Contains(err.Error(), "forward") {
			t.Errorf("orders %v: %v, want an error asking for forward", orderNames(os), err)
		}
	}
}
