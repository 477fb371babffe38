package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/revsgd/revsgd/internal/atomicfile"
	"github.com/revsgd/revsgd/pkg/rng"
)

// Stand-ins for CIFAR: files in the exact binary layout of CIFAR-10 or CIFAR-100, for tests and for machines
// without the real data (which needs a download). LoadCIFAR reads them like the real files.

// StandInKind names what a CIFAR stand-in is made of.
type StandInKind string

const (
	// FashionStandIn is FashionMNIST in the CIFAR layout, written by WriteFashionCIFARStandIn: real images a
	// small network learns, 10 garments (CIFAR-10) or 10 garments × 10 tints (CIFAR-100).
	FashionStandIn StandInKind = "fashion-mnist"
	// GeneratedStandIn is generated images, written by WriteCIFARStandIn with seed StandInSeed: one random colour
	// and stripe orientation per class plus pixel noise. It needs no data at all.
	GeneratedStandIn StandInKind = "generated"
)

// StandInSeed is the seed of the generated stand-in that CIFARStandIn writes when FashionMNIST is absent.
const StandInSeed = 2025

// standInVersion is part of the name of CIFARStandIn's directories: change it whenever the bytes a stand-in
// writer produces change, so that no stale copy is reused.
const standInVersion = 1

// cifarTitle is the usual spelling of a CIFAR data set's name, e.g. "CIFAR-100".
func cifarTitle(name string) string {
	switch name {
	case CIFAR10:
		return "CIFAR-10"
	case CIFAR100:
		return "CIFAR-100"
	}
	return name
}

// Describe says in a few words what a stand-in of this kind for the CIFAR data set name (CIFAR10 or CIFAR100)
// is, for notices and figure titles, e.g. "FashionMNIST in the CIFAR-100 layout, 100 classes = 10 garments ×
// 10 tints".
func (k StandInKind) Describe(name string) string {
	switch {
	case k == FashionStandIn && name == CIFAR100:
		return "FashionMNIST in the CIFAR-100 layout, 100 classes = 10 garments × 10 tints"
	case k == FashionStandIn:
		return "FashionMNIST in the " + cifarTitle(name) + " layout, 10 classes = 10 garments (grey)"
	case k == GeneratedStandIn:
		return fmt.Sprintf("generated striped colour images in the %s layout, %d classes", cifarTitle(name),
			cifarLayouts[name].classes)
	}
	return fmt.Sprintf("%s stand-in for %s", string(k), cifarTitle(name))
}

// fashionTints are the colours a garment is drawn in for the CIFAR-100 stand-in, indexed by tint: the primaries
// and secondaries of RGB and three half-way hues, so that every pair differs in the ratio of its channels (which
// does not depend on how bright a pixel of the garment is).
var fashionTints = [10]struct {
	name string
	rgb  [3]uint8
}{
	{"white", [3]uint8{255, 255, 255}},
	{"red", [3]uint8{255, 0, 0}},
	{"green", [3]uint8{0, 255, 0}},
	{"blue", [3]uint8{0, 0, 255}},
	{"yellow", [3]uint8{255, 255, 0}},
	{"cyan", [3]uint8{0, 255, 255}},
	{"magenta", [3]uint8{255, 0, 255}},
	{"orange", [3]uint8{255, 128, 0}},
	{"violet", [3]uint8{128, 0, 255}},
	{"spring green", [3]uint8{0, 255, 128}},
}

// fashionTint is the tint of the i-th example (counted from 0 within its split) of the CIFAR-100 stand-in.
func fashionTint(i int) int { return i % 10 }

// WriteFashionCIFARStandIn writes FashionMNIST in the exact binary layout of the CIFAR data set name (CIFAR10 or
// CIFAR100) into dir: the files of both splits, then a manifest of their MD5s (as the fetcher writes), which
// LoadCIFAR checks. FashionMNIST is read as LoadFashionMNIST reads it (Dir()/fashion-mnist, else Debian's
// /usr/share/datasets/fashion-mnist; official MD5s checked).
//
// The training files hold the first train images of FashionMNIST's training split, in order, spread over the
// training files as evenly as possible (the first files take one more); the test file the first test images of
// its test split. Each 28×28 grey image is placed at rows and columns 2–29 of a 32×32 image with a black
// border of two pixels:
//
//   - CIFAR-10: the grey image in each of the red, green and blue planes; the label is the garment's (0–9).
//   - CIFAR-100: the garment drawn in one of ten colours, plane c = round(pixel · colour[c] / 255). The tint of
//     the i-th example of a split (i from 0) is i mod 10, in the order white, red, green, blue, yellow, cyan,
//     magenta, orange (255, 128, 0), violet (128, 0, 255), spring green (0, 255, 128). The fine label is
//     10 · garment + tint (0–99), the coarse label fine/5 (0–19), as in WriteCIFARStandIn.
//
// Nothing is random: the same arguments write the same bytes. It needs 1 ≤ test ≤ 10 000 and, for every training
// file to hold a record, 5 (CIFAR-10) or 1 (CIFAR-100) ≤ train ≤ 60 000.
func WriteFashionCIFARStandIn(name, dir string, train, test int) error {
	return writeFashionCIFAR(name, dir, train, test, fashionDirs(), true)
}

// writeFashionCIFAR is WriteFashionCIFARStandIn reading FashionMNIST from the first of dirs that has it; verify
// checks the official MD5s.
func writeFashionCIFAR(name, dir string, train, test int, dirs []string, verify bool) error {
	layout, ok := cifarLayouts[name]
	if !ok {
		return fmt.Errorf("cifar stand-in: unknown data set %q; use %q or %q", name, CIFAR10, CIFAR100)
	}
	trainFiles := layout.splits["train"]
	if train < len(trainFiles) || test < 1 {
		return fmt.Errorf("cifar stand-in: %d training and %d test images requested; %s needs at least %d "+
			"training images (one per training file) and 1 test image", train, test, name, len(trainFiles))
	}
	files := map[string][]byte{}
	for _, split := range []struct {
		name  string
		n     int
		files []string
	}{{"train", train, trainFiles}, {"test", test, layout.splits["test"]}} {
		src, err := readFashion(split.name, dirs, verify)
		if err != nil {
			return fmt.Errorf("cifar stand-in: %w", err)
		}
		if split.n > src.n {
			return fmt.Errorf("cifar stand-in: %d %s images requested, FashionMNIST's %s split has %d",
				split.n, split.name, split.name, src.n)
		}
		i := 0
		for k, f := range split.files {
			n := fileShare(split.n, len(split.files), k)
			rec := make([]byte, 0, n*(layout.labelBytes+cifarPixels))
			for range n {
				rec = appendFashionRecord(rec, name, src.pixels[i*784:(i+1)*784], src.labels[i], fashionTint(i))
				i++
			}
			files[f] = rec
		}
	}
	return writeCIFARFiles(dir, files, FashionStandIn.Describe(name))
}

// appendFashionRecord appends the CIFAR record of one FashionMNIST image (784 bytes) with its label, drawn in
// the given tint for CIFAR-100.
func appendFashionRecord(rec []byte, name string, img []byte, label byte, tint int) []byte {
	colour := fashionTints[0].rgb // CIFAR-10: grey, the same image in every plane
	if name == CIFAR100 {
		fine := 10*int(label) + tint
		rec = append(rec, byte(fine/5), byte(fine))
		colour = fashionTints[tint].rgb
	} else {
		rec = append(rec, label)
	}
	for c := range 3 {
		for row := range 32 {
			for col := range 32 {
				var v byte
				if r, k := row-2, col-2; r >= 0 && r < 28 && k >= 0 && k < 28 {
					v = byte((int(img[r*28+k])*int(colour[c]) + 127) / 255)
				}
				rec = append(rec, v)
			}
		}
	}
	return rec
}

// WriteCIFARStandIn writes generated data in the exact binary layout of a CIFAR data set into dir (the files of
// both splits, train examples spread over the training files, then a manifest of their MD5s), for tests and for
// machines without the real data or FashionMNIST. The images are learnable but synthetic: each class has its
// own random colour and stripe orientation, plus pixel noise; labels are drawn uniformly (for CIFAR-100 the
// coarse label is fine/5). All draws come from rng.New(seed).
func WriteCIFARStandIn(name, dir string, train, test int, seed uint64) error {
	layout, ok := cifarLayouts[name]
	if !ok {
		return fmt.Errorf("cifar: unknown data set %q", name)
	}
	r := rng.New(seed)
	type look struct {
		colour     [3]float64
		horizontal bool
	}
	looks := make([]look, layout.classes)
	for i := range looks {
		looks[i] = look{colour: [3]float64{r.Uniform(40, 215), r.Uniform(40, 215), r.Uniform(40, 215)}, horizontal: r.IntN(2) == 0}
	}
	files := map[string][]byte{}
	generate := func(file string, n int) {
		rec := make([]byte, 0, n*(layout.labelBytes+cifarPixels))
		for range n {
			fine := r.IntN(layout.classes)
			if layout.labelBytes == 2 {
				rec = append(rec, byte(fine/5)) // coarse: five fine classes per superclass
			}
			rec = append(rec, byte(fine))
			lk := looks[fine]
			for c := range 3 {
				for i := range 32 * 32 {
					row, col := i/32, i%32
					stripe := row
					if !lk.horizontal {
						stripe = col
					}
					v := lk.colour[c] + float64(30*float64(stripe%4/2*2-1)) + r.Uniform(-40, 40)
					rec = append(rec, byte(max(0, min(255, v))))
				}
			}
		}
		files[file] = rec
	}
	trainFiles := layout.splits["train"]
	for i, f := range trainFiles {
		generate(f, fileShare(train, len(trainFiles), i))
	}
	generate(layout.splits["test"][0], test)
	return writeCIFARFiles(dir, files, GeneratedStandIn.Describe(name))
}

// fileShare is how many of n records the k-th of a split's files holds: n spread as evenly as possible, the
// first files taking one more.
func fileShare(n, files, k int) int {
	if k < n%files {
		return n/files + 1
	}
	return n / files
}

// writeCIFARFiles writes the files into dir, each atomically, and then the manifest of their MD5s, which marks
// the directory complete and says what stand-in it holds (standInKey → origin): a stale manifest is removed
// first, so that a crash part-way leaves none.
func writeCIFARFiles(dir string, files map[string][]byte, origin string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cifar stand-in: %w", err)
	}
	manifestPath := filepath.Join(dir, manifestName)
	if err := os.Remove(manifestPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cifar stand-in: %w", err)
	}
	manifest := map[string]string{standInKey: origin}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	slices.Sort(names)
	for _, f := range names {
		if err := atomicfile.Write(filepath.Join(dir, f), files[f]); err != nil {
			return fmt.Errorf("cifar stand-in: %w", err)
		}
		manifest[f] = md5Hex(files[f])
	}
	if err := writeManifest(dir, manifest); err != nil {
		return fmt.Errorf("cifar stand-in: %w", err)
	}
	return nil
}

// CIFARStandIn returns a directory that holds a stand-in for the CIFAR data set name with train training and
// test test images, for LoadCIFAR, and what it is made of: FashionMNIST (WriteFashionCIFARStandIn) when
// FashionMNISTDir finds it, else generated images (WriteCIFARStandIn, seed StandInSeed).
//
// The directory is Dir()/stand-in/NAME-KIND-TRAINxTEST-vVERSION, keyed by everything that decides its content,
// so that another size or kind never reuses stale files. A complete copy (a manifest whose MD5s match every
// file of the layout) is reused; anything else is written again. Writers of the same directory write the same
// bytes, each file atomically, so concurrent callers are safe.
func CIFARStandIn(name string, train, test int) (dir string, kind StandInKind, err error) {
	layout, ok := cifarLayouts[name]
	if !ok {
		return "", "", fmt.Errorf("cifar stand-in: unknown data set %q; use %q or %q", name, CIFAR10, CIFAR100)
	}
	kind = GeneratedStandIn
	if _, found := FashionMNISTDir(); found {
		kind = FashionStandIn
	}
	dir = filepath.Join(Dir(), "stand-in", fmt.Sprintf("%s-%s-%dx%d-v%d", name, kind, train, test, standInVersion))
	if standInComplete(layout, dir) {
		return dir, kind, nil
	}
	if kind == FashionStandIn {
		err = WriteFashionCIFARStandIn(name, dir, train, test)
	} else {
		err = WriteCIFARStandIn(name, dir, train, test, StandInSeed)
	}
	if err != nil {
		return "", "", err
	}
	return dir, kind, nil
}

// standInKey is the manifest entry that marks a stand-in and says what it is (StandInKind.Describe): a stand-in
// directory copied where the real data belongs is told apart from the data by it (CIFARStandInOrigin).
const standInKey = "stand-in"

// CIFARStandInOrigin returns what stand-in a CIFAR directory holds, as its manifest says, or "" for data the
// fetcher wrote (or files without a manifest).
func CIFARStandInOrigin(dir string) string {
	manifest, _ := readManifest(dir)
	return manifest[standInKey]
}

// standInComplete reports whether dir has a manifest that marks it a stand-in and lists every file of the layout
// with its MD5.
func standInComplete(layout cifarLayout, dir string) bool {
	manifest, err := readManifest(dir)
	if err != nil || manifest[standInKey] == "" {
		return false
	}
	for _, f := range slices.Concat(layout.splits["train"], layout.splits["test"]) {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || manifest[f] != md5Hex(raw) {
			return false
		}
	}
	return true
}
