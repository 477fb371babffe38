package figures

import (
	"fmt"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/data"
)

// Without CIFAR in the data directory, the CIFAR figures load the FashionMNIST stand-in at both scales, and the
// notice, the title and the settings say what it is.
func TestCIFARFiguresUseFashionStandIn(t *testing.T) {
	if _, ok := data.FashionMNISTDir(); !ok {
		t.Fatal("FashionMNIST is missing: run scripts/setup.sh (it installs Debian's dataset-fashion-mnist)")
	}
	t.Setenv(data.DirEnvVar, t.TempDir())
	c := cifar100ResNetSettings(Quick)
	train, test, notice, title, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != c.StandIn[0] || test.Len() != c.StandIn[1] {
		t.Errorf("%d training and %d test images, want %v", train.Len(), test.Len(), c.StandIn)
	}
	for _, text := range []string{notice, title} {
		if !strings.Contains(text, "FashionMNIST in the CIFAR-100 layout, 100 classes = 10 garments × 10 tints") {
			t.Errorf("does not name the stand-in: %q", text)
		}
	}
	if !strings.Contains(notice, fmt.Sprintf("cifar100-fashion-mnist-%dx%d-v1", c.StandIn[0], c.StandIn[1])) || !strings.Contains(notice, "fetch cifar100") {
		t.Errorf("notice: %q", notice)
	}
	if !strings.Contains(c.Settings(), "10 garments × 10 tints") {
		t.Errorf("settings: %q", c.Settings())
	}
	p := cifar10ResNetSettings(Paper)
	if p.StandIn != [2]int{50000, 10000} || !strings.Contains(p.Settings(), "FashionMNIST in the CIFAR-10 layout") {
		t.Errorf("paper scale: stand-in %v, settings %q", p.StandIn, p.Settings())
	}
}
