package data

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
)

// FashionMNIST is the name of the FashionMNIST data set (Xiao, Rasul and Vollgraf 2017): 28×28 grey images of
// clothing in 10 classes, 60 000 for training and 10 000 for testing.
const FashionMNIST = "fashion-mnist"

// DebianFashionMNISTDir is where Debian's dataset-fashion-mnist package installs the files.
const DebianFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionFiles are the idx files of each split with the MD5 of their decompressed content (Debian recompresses
// the files, so the .gz files differ from upstream while their content does not).
var fashionFiles = map[string][2]idxFile{
	"train": {{"train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a"}, {"train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"}},
	"test":  {{"t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a"}, {"t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"}},
}

type idxFile struct{ name, md5 string }

// FashionMNIST normalisation: pixels scaled to [0, 1], then standardised with the training set's mean and
// standard deviation.
const (
	fashionMean = 0.2860
	fashionStd  = 0.3530
)

// LoadFashionMNIST loads a split ("train" or "test") of FashionMNIST: inputs float32 [M, 28, 28, 1] normalised
// as (x/255 − 0.2860)/0.3530, targets int32 labels [M]. It looks in Dir()/fashion-mnist, then in Debian's
// /usr/share/datasets/fashion-mnist; each idx file may be gzipped (NAME.gz) or not. The MD5 of every file's
// decompressed content is checked.
func LoadFashionMNIST(split string) (*Dataset, error) {
	return loadFashion(split, fashionDirs(), true)
}

// fashionDirs returns the directories LoadFashionMNIST looks in, in order (a variable for tests).
var fashionDirs = func() []string {
	return []string{filepath.Join(Dir(), FashionMNIST), DebianFashionMNISTDir}
}

// FashionMNISTDir returns the directory LoadFashionMNIST would read FashionMNIST's training images from, and
// whether there is one. It only looks for the files; loading checks their content.
func FashionMNISTDir() (string, bool) { return findFashion("train", fashionDirs()) }

// loadFashion loads from the first directory that has the split's files; verify checks the official MD5s.
func loadFashion(split string, dirs []string, verify bool) (*Dataset, error) {
	f, err := readFashion(split, dirs, verify)
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(f.pixels))
	for i, v := range f.pixels {
		x[i] = float32((float64(v)/255 - fashionMean) / fashionStd)
	}
	y := make([]int32, len(f.labels))
	for i, v := range f.labels {
		y[i] = int32(v)
	}
	return &Dataset{
		Name:    FashionMNIST + "/" + split,
		Inputs:  tensors.FromFlatDataAndDimensions(x, f.n, 28, 28, 1),
		Targets: tensors.FromFlatDataAndDimensions(y, f.n),
	}, nil
}

// fashionRaw is one split of FashionMNIST as stored: n images of 28×28 bytes (0 black … 255 white, row-major)
// and their labels 0–9.
type fashionRaw struct {
	n              int
	pixels, labels []byte
}

// findFashion returns the first of dirs that has the split's image file (gzipped or not).
func findFashion(split string, dirs []string) (string, bool) {
	for _, d := range dirs {
		if _, err := findIDX(d, fashionFiles[split][0].name); err == nil {
			return d, true
		}
	}
	return "", false
}

// readFashion reads a split's idx files from the first directory that has them; verify checks the official MD5s
// of their content.
func readFashion(split string, dirs []string, verify bool) (*fashionRaw, error) {
	files, ok := fashionFiles[split]
	if !ok {
		return nil, fmt.Errorf("fashion-mnist: unknown split %q; use \"train\" or \"test\"", split)
	}
	dir, ok := findFashion(split, dirs)
	if !ok {
		return nil, fmt.Errorf("fashion-mnist: %s not found in %s: run `%s` (downloads into %s) or "+
			"`apt-get install dataset-fashion-mnist`", files[0].name, strings.Join(dirs, " or "),
			FetchCommand(FashionMNIST), filepath.Join(Dir(), FashionMNIST))
	}
	var raw [2][]byte
	for i, f := range files {
		path, err := findIDX(dir, f.name)
		if err != nil {
			return nil, fmt.Errorf("fashion-mnist: %s is missing beside the other files in %s: fetch the data set "+
				"again (`%s`)", f.name, dir, FetchCommand(FashionMNIST))
		}
		if raw[i], err = readMaybeGzip(path); err != nil {
			return nil, err
		}
		if sum := md5.Sum(raw[i]); verify && hex.EncodeToString(sum[:]) != f.md5 {
			return nil, fmt.Errorf("fashion-mnist: %s: MD5 of the content is %x, expected %s: the file is corrupted "+
				"or truncated; delete it and fetch again (`%s`)", path, sum, f.md5, FetchCommand(FashionMNIST))
		}
	}
	images, dims, err := parseIDX(raw[0], 0x0803, files[0].name)
	if err != nil {
		return nil, err
	}
	labels, ldims, err := parseIDX(raw[1], 0x0801, files[1].name)
	if err != nil {
		return nil, err
	}
	if len(dims) != 3 || dims[0] == 0 || dims[1] != 28 || dims[2] != 28 || len(ldims) != 1 || dims[0] != ldims[0] {
		return nil, fmt.Errorf("fashion-mnist: %s has shape %v and %s %v; expected [M 28 28] and [M], M > 0", files[0].name,
			dims, files[1].name, ldims)
	}
	for i, v := range labels {
		if v > 9 {
			return nil, fmt.Errorf("fashion-mnist: %s: label %d at example %d is not a class 0–9", files[1].name, v, i)
		}
	}
	return &fashionRaw{n: dims[0], pixels: images, labels: labels}, nil
}

// findIDX returns the path of NAME or NAME.gz in dir.
func findIDX(dir, name string) (string, error) {
	for _, n := range []string{name + ".gz", name} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// maxIDXBytes is the size of FashionMNIST's largest idx file (the training images: 16 header bytes and 60 000
// images of 28×28): readMaybeGzip reads no more, so that a small file that inflates to gigabytes (a
// decompression bomb, by mistake or not) is refused after that many bytes instead of filling the memory.
const maxIDXBytes = 16 + 60000*28*28

// readMaybeGzip reads a file, decompressing it when its name ends in .gz, and refuses one whose content exceeds
// maxIDXBytes once it has read that much.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var src io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("data: %s: not a gzip file (%w): it is corrupted; delete it and fetch again", path, err)
		}
		src = z
	}
	raw, err := io.ReadAll(io.LimitReader(src, maxIDXBytes+1))
	if err != nil {
		return nil, fmt.Errorf("data: %s: truncated or corrupted gzip data (%w); delete it and fetch again", path, err)
	}
	if len(raw) > maxIDXBytes {
		return nil, fmt.Errorf("data: %s holds more than %d bytes, the size of FashionMNIST's largest file: it is "+
			"not FashionMNIST data (reading stopped there); delete it and fetch again (`%s`)", path, maxIDXBytes,
			FetchCommand(FashionMNIST))
	}
	return raw, nil
}

// parseIDX parses an idx file of unsigned bytes: a big-endian magic (0x0000_08_NN, NN the number of dimensions),
// the dimensions as big-endian uint32, then the data.
func parseIDX(raw []byte, magic uint32, name string) ([]byte, []int, error) {
	if len(raw) < 4 || binary.BigEndian.Uint32(raw) != magic {
		return nil, nil, fmt.Errorf("data: %s: not an idx file of unsigned bytes with magic %#x", name, magic)
	}
	rank := int(magic & 0xff)
	if len(raw) < 4+4*rank {
		return nil, nil, errors.New("data: " + name + ": truncated idx header")
	}
	dims := make([]int, rank)
	body := raw[4+4*rank:]
	size := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4+4*i:]))
		if dims[i] > 0 && size > len(body)/dims[i] {
			size = len(body) + 1 // more than there is (and no overflow)
			break
		}
		size *= dims[i]
	}
	if len(body) != size {
		return nil, nil, fmt.Errorf("data: %s: %d data bytes for dimensions %v (%d expected): truncated or corrupted",
			name, len(body), dims, size)
	}
	return body, dims, nil
}

// writeIDX encodes bytes with their dimensions as an idx file (for tests and stand-in data).
func writeIDX(data []byte, dims ...int) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(0x0800|len(dims)))
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}
