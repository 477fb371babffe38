package data

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
)

// writeFashionIDX writes uncompressed idx files of one FashionMNIST split with the given labels and pixels
// pixel(i, k) = (7i + 3k) mod 256, k the pixel's index in the image, and returns the pixels.
func writeFashionIDX(t *testing.T, dir, split string, labels []byte) []byte {
	t.Helper()
	n := len(labels)
	pixels := make([]byte, n*784)
	for i := range n {
		for k := range 784 {
			pixels[i*784+k] = byte(7*i + 3*k)
		}
	}
	files := fashionFiles[split]
	for i, content := range [][]byte{writeIDX(pixels, n, 28, 28), writeIDX(labels, n)} {
		if err := os.WriteFile(filepath.Join(dir, files[i].name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pixels
}

// readRecords returns the raw records of a split of a CIFAR directory, in order.
func readRecords(t *testing.T, name, dir, split string) [][]byte {
	t.Helper()
	layout := cifarLayouts[name]
	size := layout.labelBytes + cifarPixels
	var recs [][]byte
	for _, f := range layout.splits[split] {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(raw); off += size {
			recs = append(recs, raw[off:off+size])
		}
	}
	return recs
}

// checkPlacement checks every pixel of a stand-in record against its FashionMNIST source image: zero on the
// two-pixel border, round(source · tint colour / 255) inside.
func checkPlacement(t *testing.T, name string, rec, src []byte, tint int) {
	t.Helper()
	px := rec[cifarLayouts[name].labelBytes:]
	colour := [3]int{255, 255, 255}
	if name == CIFAR100 {
		c := fashionTints[tint].rgb
		colour = [3]int{int(c[0]), int(c[1]), int(c[2])}
	}
	for c := range 3 {
		for row := range 32 {
			for col := range 32 {
				want := 0
				if row >= 2 && row < 30 && col >= 2 && col < 30 {
					want = int(math.Round(float64(src[(row-2)*28+col-2]) * float64(colour[c]) / 255))
				}
				if got := int(px[c*1024+row*32+col]); got != want {
					t.Fatalf("%s: plane %d, row %d, column %d: %d, want %d", name, c, row, col, got, want)
				}
			}
		}
	}
}

// The stand-in of generated FashionMNIST files: the first images of each split, in order, spread over the
// training files; every pixel where documented; labels as documented; LoadCIFAR reads it.
func TestFashionCIFARStandInLayout(t *testing.T) {
	src := t.TempDir()
	trainLabels, testLabels := make([]byte, 130), make([]byte, 40)
	for i := range trainLabels {
		trainLabels[i] = byte((i / 10) % 10) // with tint i mod 10: every fine class in the first 100
	}
	for i := range testLabels {
		testLabels[i] = byte((3 * i) % 10)
	}
	srcPixels := map[string][]byte{
		"train": writeFashionIDX(t, src, "train", trainLabels),
		"test":  writeFashionIDX(t, src, "test", testLabels),
	}
	srcLabels := map[string][]byte{"train": trainLabels, "test": testLabels}
	for _, name := range []string{CIFAR10, CIFAR100} {
		dir := t.TempDir()
		if err := writeFashionCIFAR(name, dir, 103, 17, []string{filepath.Join(src, "nowhere"), src}, false); err != nil {
			t.Fatal(err)
		}
		for split, n := range map[string]int{"train": 103, "test": 17} {
			recs := readRecords(t, name, dir, split)
			if len(recs) != n {
				t.Fatalf("%s/%s: %d records, want %d", name, split, len(recs), n)
			}
			for i, rec := range recs {
				label := srcLabels[split][i]
				if name == CIFAR10 && rec[0] != label {
					t.Fatalf("%s/%s %d: label %d, want %d", name, split, i, rec[0], label)
				}
				if fine := 10*int(label) + i%10; name == CIFAR100 && (int(rec[1]) != fine || int(rec[0]) != fine/5) {
					t.Fatalf("%s/%s %d: labels %d, %d, want coarse %d, fine %d", name, split, i, rec[0], rec[1], fine/5, fine)
				}
				checkPlacement(t, name, rec, srcPixels[split][i*784:(i+1)*784], i%10)
			}
			d, err := LoadCIFAR(name, dir, split, false)
			if err != nil {
				t.Fatal(err)
			}
			if s := d.Inputs.Shape().Dimensions; !slices.Equal(s, []int{n, 32, 32, 3}) || d.Len() != n {
				t.Fatalf("%s/%s: inputs %v, %d labels", name, split, s, d.Len())
			}
			// LoadCIFAR's pixel (row 2 + 5, column 2 + 7, red) of example 3: source pixel 5·28 + 7, normalised.
			x := tensors.MustCopyFlatData[float32](d.Inputs)
			v := float64(srcPixels[split][3*784+5*28+7])
			if name == CIFAR100 {
				v = math.Round(v * float64(fashionTints[3].rgb[0]) / 255)
			}
			layout := cifarLayouts[name]
			want := (v/255 - layout.mean[0]) / layout.std[0]
			if got := float64(x[3*3072+((2+5)*32+2+7)*3]); math.Abs(got-want) > 1e-6 {
				t.Errorf("%s/%s: loaded pixel %g, want %g", name, split, got, want)
			}
		}
		// The first training file takes one record more than the others (103 = 5·20 + 3 for CIFAR-10).
		if name == CIFAR10 {
			st, _ := os.Stat(filepath.Join(dir, "data_batch_1.bin"))
			st5, _ := os.Stat(filepath.Join(dir, "data_batch_5.bin"))
			if st.Size() != 21*3073 || st5.Size() != 20*3073 {
				t.Errorf("training files of %d and %d bytes", st.Size(), st5.Size())
			}
		}
	}
}

func TestFashionCIFARStandInErrors(t *testing.T) {
	src := t.TempDir()
	writeFashionIDX(t, src, "train", make([]byte, 20))
	writeFashionIDX(t, src, "test", make([]byte, 5))
	dirs := []string{src}
	for _, c := range []struct {
		name        string
		train, test int
		dirs        []string
		want        string
	}{
		{"cifar1000", 10, 2, dirs, "unknown data set"},
		{CIFAR10, 4, 2, dirs, "at least 5 training images"},
		{CIFAR100, 10, 0, dirs, "1 test image"},
		{CIFAR100, 21, 2, dirs, "21 train images requested, FashionMNIST's train split has 20"},
		{CIFAR100, 10, 6, dirs, "6 test images requested"},
		{CIFAR10, 10, 2, []string{filepath.Join(src, "nowhere")}, "not found"},
	} {
		err := writeFashionCIFAR(c.name, t.TempDir(), c.train, c.test, c.dirs, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %d/%d: %v, want an error with %q", c.name, c.train, c.test, err, c.want)
		}
	}
	// The generated files do not have the official checksums.
	if err := writeFashionCIFAR(CIFAR10, t.TempDir(), 10, 2, dirs, true); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("unverified FashionMNIST: %v", err)
	}
}

// requireFashion fails the test unless the real FashionMNIST is installed.
func requireFashion(t *testing.T) {
	t.Helper()
	if _, ok := FashionMNISTDir(); !ok {
		t.Fatalf("FashionMNIST is missing from %v: run scripts/setup.sh (it installs Debian's dataset-fashion-mnist)",
			fashionDirs())
	}
}

// On the real FashionMNIST: labels and pixels follow the source, CIFAR-100's fine labels cover all 100 classes
// with coarse = fine/5, and writing twice gives the same bytes.
func TestRealFashionCIFARStandIn(t *testing.T) {
	requireFashion(t)
	const nTrain, nTest = 2000, 1000
	src := map[string]*fashionRaw{}
	for _, split := range []string{"train", "test"} {
		raw, err := readFashion(split, fashionDirs(), true)
		if err != nil {
			t.Fatal(err)
		}
		src[split] = raw
	}
	for _, name := range []string{CIFAR10, CIFAR100} {
		dir, again := t.TempDir(), t.TempDir()
		for _, d := range []string{dir, again} {
			if err := WriteFashionCIFARStandIn(name, d, nTrain, nTest); err != nil {
				t.Fatal(err)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			a, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			b, err := os.ReadFile(filepath.Join(again, e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs between two writes (%v)", name, e.Name(), err)
			}
		}
		for split, n := range map[string]int{"train": nTrain, "test": nTest} {
			d, err := LoadCIFAR(name, dir, split, false)
			if err != nil {
				t.Fatal(err)
			}
			if s := d.Inputs.Shape().Dimensions; !slices.Equal(s, []int{n, 32, 32, 3}) {
				t.Fatalf("%s/%s: inputs %v", name, split, s)
			}
			y := tensors.MustCopyFlatData[int32](d.Targets)
			seen := map[int32]bool{}
			for i, label := range y {
				garment := int32(src[split].labels[i])
				if name == CIFAR10 && label != garment || name == CIFAR100 && label != 10*garment+int32(i%10) {
					t.Fatalf("%s/%s %d: label %d for garment %d", name, split, i, label, garment)
				}
				seen[label] = true
			}
			if classes := cifarLayouts[name].classes; split == "train" && len(seen) != classes {
				t.Errorf("%s/%s: %d of %d classes present", name, split, len(seen), classes)
			}
			if name == CIFAR100 {
				coarse, err := LoadCIFAR(name, dir, split, true)
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range tensors.MustCopyFlatData[int32](coarse.Targets) {
					if c != y[i]/5 {
						t.Fatalf("%s/%s %d: coarse %d, fine %d", name, split, i, c, y[i])
					}
				}
			}
			recs := readRecords(t, name, dir, split)
			for _, i := range []int{0, 1, 7, 13, n - 1} {
				checkPlacement(t, name, recs[i], src[split].pixels[i*784:(i+1)*784], i%10)
			}
		}
	}
}

// CIFARStandIn keys its directory by data set, kind and sizes, reuses a complete copy, rewrites a damaged one,
// and falls back to generated images without FashionMNIST.
func TestCIFARStandInCache(t *testing.T) {
	requireFashion(t)
	root := t.TempDir()
	t.Setenv(DirEnvVar, root)
	dir, kind, err := CIFARStandIn(CIFAR100, 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	if kind != FashionStandIn || dir != filepath.Join(root, "stand-in", "cifar100-fashion-mnist-200x100-v1") {
		t.Fatalf("kind %q in %s", kind, dir)
	}
	train := filepath.Join(dir, "train.bin")
	old := time.Unix(1, 0)
	if err := os.Chtimes(train, old, old); err != nil {
		t.Fatal(err)
	}
	if again, _, err := CIFARStandIn(CIFAR100, 200, 100); err != nil || again != dir {
		t.Fatalf("second call: %s, %v", again, err)
	}
	if st, _ := os.Stat(train); !st.ModTime().Equal(old) {
		t.Error("a complete stand-in was written again")
	}
	raw, _ := os.ReadFile(train)
	os.WriteFile(train, raw[:len(raw)-100], 0o644)
	if _, _, err := CIFARStandIn(CIFAR100, 200, 100); err != nil {
		t.Fatal(err)
	}
	if d, err := LoadCIFAR(CIFAR100, dir, "train", false); err != nil || d.Len() != 200 {
		t.Fatalf("after repairing a truncated file: %v", err)
	}
	if other, _, err := CIFARStandIn(CIFAR100, 300, 100); err != nil || other == dir {
		t.Errorf("another size: %s, %v", other, err)
	}

	saved := fashionDirs
	defer func() { fashionDirs = saved }()
	fashionDirs = func() []string { return []string{filepath.Join(root, "no-fashion")} }
	dir, kind, err = CIFARStandIn(CIFAR10, 20, 10)
	if err != nil || kind != GeneratedStandIn || filepath.Base(dir) != "cifar10-generated-20x10-v1" {
		t.Fatalf("without FashionMNIST: %q in %s, %v", kind, dir, err)
	}
	if d, err := LoadCIFAR(CIFAR10, dir, "test", false); err != nil || d.Len() != 10 {
		t.Fatalf("generated stand-in: %v", err)
	}
	if !strings.Contains(GeneratedStandIn.Describe(CIFAR10), "generated") ||
		!strings.Contains(FashionStandIn.Describe(CIFAR100), "10 garments × 10 tints") {
		t.Error("descriptions")
	}
}
