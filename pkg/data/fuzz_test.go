package data

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for the data readers: any bytes in an idx or CIFAR file give a data set or an error, never a
// panic. Their seeds (below, and the corpus in testdata/fuzz) run with every `go test`; search further with e.g.
//
//	go test -run XXX -fuzz FuzzParseIDX -fuzztime 60s ./pkg/data

// FuzzParseIDX: an accepted idx file holds exactly as many bytes as its dimensions say.
func FuzzParseIDX(f *testing.F) {
	f.Add(writeIDX(make([]byte, 2*3*3), 2, 3, 3))
	f.Add(writeIDX([]byte{1, 2, 3}, 3))
	f.Add(writeIDX(nil, 0, 28, 28))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, magic := range []uint32{0x0803, 0x0801} {
			body, dims, err := parseIDX(raw, magic, "fuzz")
			if err != nil {
				continue
			}
			n := 1.0 // a float64 product cannot wrap around
			for _, d := range dims {
				n *= float64(d)
			}
			if float64(len(body)) != n {
				t.Fatalf("dimensions %v (%g bytes) accepted with %d bytes", dims, n, len(body))
			}
		}
	})
}

// FuzzLoadFashion: FashionMNIST files with any content load as a consistent data set or are refused.
func FuzzLoadFashion(f *testing.F) {
	f.Add(writeIDX(make([]byte, 2*28*28), 2, 28, 28), writeIDX([]byte{3, 9}, 2))
	f.Add(writeIDX(make([]byte, 28*28), 1, 28, 28), writeIDX([]byte{10}, 1))
	f.Add(writeIDX(make([]byte, 2*4), 2, 2, 2), writeIDX([]byte{1, 1}, 2))
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), images, 0o644)
		os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), labels, 0o644)
		d, err := loadFashion("train", []string{dir}, false)
		if err != nil {
			return
		}
		if d.Len() == 0 || d.Inputs.Shape().Dimensions[0] != d.Len() {
			t.Fatalf("inconsistent data set: inputs %s, %d targets", d.Inputs.Shape(), d.Len())
		}
	})
}

// FuzzLoadCIFAR: a CIFAR file with any content, with or without its manifest, loads as whole records with labels
// in range or is refused.
func FuzzLoadCIFAR(f *testing.F) {
	record := append([]byte{3}, bytes.Repeat([]byte{128}, cifarPixels)...)
	f.Add(bytes.Repeat(record, 2), true)
	f.Add(record[:100], false)
	f.Add(append([]byte{200}, record[1:]...), true)
	f.Fuzz(func(t *testing.T, raw []byte, manifest bool) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "test_batch.bin"), raw, 0o644)
		if manifest {
			if err := writeManifest(dir, map[string]string{"test_batch.bin": md5Hex(raw)}); err != nil {
				t.Fatal(err)
			}
		}
		d, err := LoadCIFAR(CIFAR10, dir, "test", false)
		if err != nil {
			return
		}
		if d.Len()*(1+cifarPixels) != len(raw) {
			t.Fatalf("%d records from %d bytes", d.Len(), len(raw))
		}
		labels := d.Targets.Value().([]int32)
		for _, l := range labels {
			if l < 0 || l >= 10 {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}
