package figures

import (
	"fmt"
	"os"
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

// A stand-in copied where CIFAR belongs, with its own manifest (whose MD5s it matches), is refused with what it
// is and what to do; it was taken for CIFAR and its numbers published as CIFAR's. The stand-in in its own place is
// still used, and named.
func TestStandInUnderCIFARNameIsRefused(t *testing.T) {
	t.Setenv(data.DirEnvVar, t.TempDir())
	c := cifar10ResNetSettings(Quick)
	c.StandIn = [2]int{20, 10}
	dir, _, _, err := c.source() // makes the stand-in in its own directory
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, data.CIFARDir(data.CIFAR10)); err != nil {
		t.Fatal(err)
	}
	_, _, _, _, err = c.load()
	if err == nil || !strings.Contains(err.Error(), "holds a stand-in") || !strings.Contains(err.Error(), "fetch cifar10") {
		t.Fatalf("a stand-in under CIFAR-10's name: %v, want it refused as a stand-in", err)
	}
	if err := os.RemoveAll(data.CIFARDir(data.CIFAR10)); err != nil {
		t.Fatal(err)
	}
	if _, _, notice, _, err := c.load(); err != nil || !strings.Contains(notice, "Stand-in data") {
		t.Errorf("the stand-in in its own place: %v, notice %q", err, notice)
	}
}
