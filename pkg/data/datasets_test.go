package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// writeFashion writes generated idx files of one split, gzipped or not, and returns the raw pixels and labels.
func writeFashion(t *testing.T, dir, split string, n int, gz bool) ([]byte, []byte) {
	t.Helper()
	pixels := make([]byte, n*28*28)
	labels := make([]byte, n)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	files := fashionFiles[split]
	for i, content := range [][]byte{writeIDX(pixels, n, 28, 28), writeIDX(labels, n)} {
		name := filepath.Join(dir, files[i].name)
		if gz {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(content)
			w.Close()
			content, name = b.Bytes(), name+".gz"
		}
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pixels, labels
}

func TestFashionMNISTReader(t *testing.T) {
	for _, gz := range []bool{true, false} {
		dir := t.TempDir()
		pixels, labels := writeFashion(t, dir, "test", 12, gz)
		d, err := loadFashion("test", []string{filepath.Join(dir, "nowhere"), dir}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Inputs.Shape().Dimensions; len(got) != 4 || got[0] != 12 || got[1] != 28 || got[3] != 1 {
			t.Fatalf("inputs %s", d.Inputs.Shape())
		}
		x := tensors.MustCopyFlatData[float32](d.Inputs)
		y := tensors.MustCopyFlatData[int32](d.Targets)
		for _, i := range []int{0, 5, 9407} {
			want := (float64(pixels[i])/255 - 0.2860) / 0.3530
			if math.Abs(float64(x[i])-want) > 1e-6 {
				t.Errorf("pixel %d: %g, want %g", i, x[i], want)
			}
		}
		if y[11] != int32(labels[11]) {
			t.Errorf("label %d, want %d", y[11], labels[11])
		}
	}
}

func TestFashionMNISTErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadFashion("test", []string{dir}, true); err == nil || !strings.Contains(err.Error(), "revsgd fetch fashion-mnist") {
		t.Errorf("missing files: %v", err)
	}
	writeFashion(t, dir, "test", 3, true)
	// Generated content cannot have the official MD5.
	if _, err := loadFashion("test", []string{dir}, true); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte.gz") || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("wrong checksum: %v", err)
	}
	path := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, raw[:len(raw)/2], 0o644)
	if _, err := loadFashion("test", []string{dir}, false); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: %v", err)
	}
	if _, err := loadFashion("validation", []string{dir}, false); err == nil {
		t.Error("unknown split accepted")
	}
}

// The real FashionMNIST, as Debian's dataset-fashion-mnist installs it (scripts/setup.sh does), with its
// official checksums.
func TestRealFashionMNIST(t *testing.T) {
	if _, err := os.Stat(DebianFashionMNISTDir); err != nil {
		t.Fatalf("%s is missing: run scripts/setup.sh (it installs Debian's dataset-fashion-mnist)", DebianFashionMNISTDir)
	}
	d, err := loadFashion("test", []string{DebianFashionMNISTDir}, true)
	if err != nil {
		t.Fatal(err)
	}
	y := tensors.MustCopyFlatData[int32](d.Targets)
	counts := make([]int, 10)
	for _, c := range y {
		counts[c]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Errorf("class %d has %d test images, want 1000", c, n)
		}
	}
	x := tensors.MustCopyFlatData[float32](d.Inputs)
	mean := 0.0
	for _, v := range x {
		mean += float64(v) / float64(len(x))
	}
	if math.Abs(mean) > 0.02 { // standardised with the training mean; the test set's mean is within 0.02
		t.Errorf("mean of normalised test pixels %.4f", mean)
	}
}

func TestCIFARReaderOnStandInFiles(t *testing.T) {
	for _, name := range []string{CIFAR10, CIFAR100} {
		dir := t.TempDir()
		if err := WriteCIFARStandIn(name, dir, 23, 7, 1); err != nil {
			t.Fatal(err)
		}
		train, err := LoadCIFAR(name, dir, "train", false)
		if err != nil {
			t.Fatal(err)
		}
		test, err := LoadCIFAR(name, dir, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		if s := train.Inputs.Shape().Dimensions; s[0] != 23 || s[1] != 32 || s[2] != 32 || s[3] != 3 || test.Len() != 7 {
			t.Fatalf("%s: train %s, %d test", name, train.Inputs.Shape(), test.Len())
		}
		// Pixel (row 1, column 2, green) of the first test image, from the raw record.
		layout := cifarLayouts[name]
		raw, _ := os.ReadFile(filepath.Join(dir, layout.splits["test"][0]))
		g := raw[layout.labelBytes+1024+1*32+2]
		want := (float64(g)/255 - layout.mean[1]) / layout.std[1]
		x := tensors.MustCopyFlatData[float32](test.Inputs)
		if got := float64(x[(1*32+2)*3+1]); math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: pixel %g, want %g", name, got, want)
		}
		y := tensors.MustCopyFlatData[int32](test.Targets)
		if y[0] != int32(raw[layout.labelBytes-1]) {
			t.Errorf("%s: label %d, raw %d", name, y[0], raw[layout.labelBytes-1])
		}
		if name == CIFAR100 {
			coarse, err := LoadCIFAR(name, dir, "test", true)
			if err != nil {
				t.Fatal(err)
			}
			yc := tensors.MustCopyFlatData[int32](coarse.Targets)
			if yc[0] != int32(raw[0]) || yc[0] != y[0]/5 {
				t.Errorf("coarse label %d, raw %d, fine %d", yc[0], raw[0], y[0])
			}
		} else if _, err := LoadCIFAR(name, dir, "test", true); err == nil {
			t.Error("coarse labels of CIFAR-10 accepted")
		}
	}
}

func TestCIFARErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCIFAR(CIFAR10, dir, "test", false); err == nil || !strings.Contains(err.Error(), "revsgd fetch cifar10") {
		t.Errorf("missing data: %v", err)
	}
	WriteCIFARStandIn(CIFAR10, dir, 5, 3, 2)
	path := filepath.Join(dir, "test_batch.bin")
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, raw[:len(raw)-10], 0o644)
	if _, err := LoadCIFAR(CIFAR10, dir, "test", false); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: %v", err)
	}
	os.WriteFile(path, raw, 0o644)
	os.WriteFile(filepath.Join(dir, manifestName), []byte(`{"test_batch.bin": "00000000000000000000000000000000"}`), 0o644)
	if _, err := LoadCIFAR(CIFAR10, dir, "test", false); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("wrong checksum: %v", err)
	}
}

// A CIFAR directory without the fetcher's manifest (files put there by hand) was used unchecked, whatever it
// held. Now it must have the official number of records, and CIFARChecked says it is unchecked.
func TestCIFARWithoutManifest(t *testing.T) {
	dir := t.TempDir()
	if err := WriteCIFARStandIn(CIFAR10, dir, 5, 3, 2); err != nil {
		t.Fatal(err)
	}
	if !CIFARChecked(dir) {
		t.Fatal("a directory with a manifest is reported unchecked")
	}
	os.Remove(filepath.Join(dir, manifestName))
	if CIFARChecked(dir) {
		t.Error("a directory without a manifest is reported checked")
	}
	_, err := LoadCIFAR(CIFAR10, dir, "test", false)
	if err == nil || !strings.Contains(err.Error(), "has 3 records, not the 10000 of CIFAR-10") {
		t.Errorf("3 test records without a manifest: %v", err)
	}
	// The official number of test records (10 000 of 3 073 bytes) is accepted.
	one := make([]byte, 1+cifarPixels)
	if err := os.WriteFile(filepath.Join(dir, "test_batch.bin"), bytes.Repeat(one, 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := LoadCIFAR(CIFAR10, dir, "test", false); err != nil || d.Len() != 10000 {
		t.Errorf("10 000 records without a manifest: %v", err)
	}
}

// tarGz builds an archive; entries with an empty body and a link name are symlinks.
func tarGz(t *testing.T, entries []tar.Header, bodies map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	w := tar.NewWriter(z)
	for _, h := range entries {
		body := bodies[h.Name]
		h.Size = int64(len(body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		h.Mode = 0o644
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	w.Close()
	z.Close()
	return b.Bytes()
}

// Fetching CIFAR from a (local) server: the archive's MD5 is checked, only the expected files are extracted, and
// the extracted data loads.
func TestFetchCIFARExtractsOnlyExpectedFiles(t *testing.T) {
	src := t.TempDir()
	WriteCIFARStandIn(CIFAR10, src, 10, 4, 3)
	bodies := map[string][]byte{}
	var entries []tar.Header
	for _, f := range append(cifarLayouts[CIFAR10].splits["train"], "test_batch.bin", "batches.meta.txt") {
		raw, _ := os.ReadFile(filepath.Join(src, f))
		if f == "batches.meta.txt" {
			raw = []byte("airplane\n")
		}
		name := "cifar-10-batches-bin/" + f
		bodies[name] = raw
		entries = append(entries, tar.Header{Name: name})
	}
	bodies["cifar-10-batches-bin/../../evil.bin"] = []byte("x")
	bodies["cifar-10-batches-bin/readme.html"] = []byte("x")
	entries = append(entries, tar.Header{Name: "cifar-10-batches-bin/../../evil.bin"},
		tar.Header{Name: "cifar-10-batches-bin/readme.html"},
		tar.Header{Name: "cifar-10-batches-bin/link.bin", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	archive := tarGz(t, entries, bodies)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(archive) }))
	defer srv.Close()

	saved := cifarSource[CIFAR10]
	defer func() { cifarSource[CIFAR10] = saved }()
	sum := md5.Sum(archive)
	cifarSource[CIFAR10] = download{url: srv.URL + "/cifar-10-binary.tar.gz", md5: "0123456789abcdef0123456789abcdef"}
	root := filepath.Join(t.TempDir(), "data")
	if err := Fetch(context.Background(), CIFAR10, root, io.Discard); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Fatalf("wrong archive checksum: %v", err)
	}
	cifarSource[CIFAR10] = download{url: srv.URL + "/cifar-10-binary.tar.gz", md5: hex.EncodeToString(sum[:])}
	if err := Fetch(context.Background(), CIFAR10, root, io.Discard); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "cifar-10-batches-bin")
	entriesOut, _ := os.ReadDir(out)
	var names []string
	for _, e := range entriesOut {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "batches.meta.txt,data_batch_1.bin,data_batch_2.bin,data_batch_3.bin,data_batch_4.bin,data_batch_5.bin,revsgd-manifest.json,test_batch.bin" {
		t.Errorf("extracted %v", names)
	}
	if _, err := os.Stat(filepath.Join(root, "..", "evil.bin")); err == nil {
		t.Error("a path outside the folder was written")
	}
	d, err := LoadCIFAR(CIFAR10, out, "train", false)
	if err != nil || d.Len() != 10 {
		t.Fatalf("loading the fetched data: %v", err)
	}
	// A second fetch finds the data in place and downloads nothing.
	srv.Close()
	if err := Fetch(context.Background(), CIFAR10, root, io.Discard); err != nil {
		t.Errorf("second fetch: %v", err)
	}
}

func TestFetchFashionMNISTChecksContent(t *testing.T) {
	src := t.TempDir()
	writeFashion(t, src, "train", 4, true)
	writeFashion(t, src, "test", 2, true)
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	savedBase, savedFiles := fashionBase, fashionFiles
	defer func() { fashionBase, fashionFiles = savedBase, savedFiles }()
	fashionBase = srv.URL + "/"
	root := t.TempDir()
	// With the official checksums, generated files are refused.
	if err := Fetch(context.Background(), FashionMNIST, root, io.Discard); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Fatalf("wrong content: %v", err)
	}
	fashionFiles = map[string][2]idxFile{}
	for split, files := range savedFiles {
		var fs [2]idxFile
		for i, f := range files {
			raw, err := readMaybeGzip(filepath.Join(src, f.name+".gz"))
			if err != nil {
				t.Fatal(err)
			}
			fs[i] = idxFile{f.name, md5Hex(raw)}
		}
		fashionFiles[split] = fs
	}
	if err := Fetch(context.Background(), FashionMNIST, root, io.Discard); err != nil {
		t.Fatal(err)
	}
	d, err := loadFashion("train", []string{filepath.Join(root, FashionMNIST)}, true)
	if err != nil || d.Len() != 4 {
		t.Fatalf("loading fetched data: %v", err)
	}
	// Fetched files are readable by all, like the data files of the CIFAR archives (they were 0600).
	fetched, _ := filepath.Glob(filepath.Join(root, FashionMNIST, "*"))
	for _, p := range fetched {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r--", p, st.Mode())
		}
	}
}

// A small gzip file that inflates beyond FashionMNIST's largest file (a decompression bomb) is refused once that
// many bytes are read, not inflated whole; a CIFAR archive entry larger than CIFAR's largest file is refused
// before any of it is written.
func TestDecompressionBombsStopEarly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := gzip.NewWriter(f)
	zeros := make([]byte, 1<<20)
	for range maxIDXBytes/len(zeros) + 2 { // just over the cap: the reader must stop at maxIDXBytes + 1
		z.Write(zeros)
	}
	z.Close()
	f.Close()
	if _, err := readMaybeGzip(path); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("an oversized gzip file: %v, want it refused for its size", err)
	}

	name := "cifar-10-batches-bin/data_batch_1.bin"
	big := make([]byte, maxCIFARFile+1)
	archive := filepath.Join(dir, "cifar.tar.gz")
	if err := os.WriteFile(archive, tarGz(t, []tar.Header{{Name: name}}, map[string][]byte{name: big}), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, err := extract(archive, "cifar-10-batches-bin", []string{"data_batch_1.bin"}, out); err == nil ||
		!strings.Contains(err.Error(), "largest file") {
		t.Errorf("an oversized archive entry: %v, want it refused for its size", err)
	}
	if _, err := os.Stat(filepath.Join(out, "data_batch_1.bin.part")); err == nil {
		t.Error("part of the oversized entry was written")
	}
}
