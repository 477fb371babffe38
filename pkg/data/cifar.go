package data

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/revsgd/revsgd/internal/atomicfile"
)

// The CIFAR data sets (Krizhevsky 2009): 32×32 colour images, 50 000 for training and 10 000 for testing, in 10
// classes (CIFAR-10) or 100 fine classes grouped into 20 coarse ones (CIFAR-100).
const (
	CIFAR10  = "cifar10"
	CIFAR100 = "cifar100"
)

// cifarLayout describes the binary version of a CIFAR data set: each record is the label byte(s), then 3072
// bytes of pixels, the red, green and blue planes of 32×32 in row-major order.
type cifarLayout struct {
	dir        string              // directory inside the archive and under Dir()
	splits     map[string][]string // file names per split
	labelBytes int                 // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine)
	classes    int                 // number of (fine) classes
	mean, std  [3]float64          // per-channel normalisation of pixels scaled to [0, 1]
	records    map[string]int      // records per split in the official data
}

var cifarLayouts = map[string]cifarLayout{
	CIFAR10: {
		dir: "cifar-10-batches-bin",
		splits: map[string][]string{
			"train": {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
			"test":  {"test_batch.bin"},
		},
		labelBytes: 1, classes: 10, records: map[string]int{"train": 50000, "test": 10000},
		mean: [3]float64{0.4914, 0.4822, 0.4465}, std: [3]float64{0.2470, 0.2435, 0.2616},
	},
	CIFAR100: {
		dir:        "cifar-100-binary",
		splits:     map[string][]string{"train": {"train.bin"}, "test": {"test.bin"}},
		labelBytes: 2, classes: 100, records: map[string]int{"train": 50000, "test": 10000},
		mean: [3]float64{0.5071, 0.4865, 0.4409}, std: [3]float64{0.2673, 0.2564, 0.2762},
	},
}

const cifarPixels = 32 * 32 * 3

// manifestName is the file the fetcher writes beside extracted files: their MD5s, checked on every load.
const manifestName = "revsgd-manifest.json"

// CIFARDir returns the directory of a CIFAR data set under Dir().
func CIFARDir(name string) string { return filepath.Join(Dir(), cifarLayouts[name].dir) }

// LoadCIFAR10 loads a split ("train" or "test") of CIFAR-10 from CIFARDir(CIFAR10): inputs float32
// [M, 32, 32, 3] (height, width, channel), each channel standardised with the training set's mean and standard
// deviation after scaling to [0, 1]; targets int32 labels [M].
func LoadCIFAR10(split string) (*Dataset, error) {
	return LoadCIFAR(CIFAR10, CIFARDir(CIFAR10), split, false)
}

// LoadCIFAR100 loads a split of CIFAR-100 from CIFARDir(CIFAR100) with its fine labels (100 classes), or its
// coarse labels (20 superclasses) when coarse is set. Inputs as LoadCIFAR10.
func LoadCIFAR100(split string, coarse bool) (*Dataset, error) {
	return LoadCIFAR(CIFAR100, CIFARDir(CIFAR100), split, coarse)
}

// LoadCIFAR loads a split of a CIFAR data set in the binary format from dir. Files are checked against the
// fetcher's manifest when there is one, and for whole records always. A directory without a manifest (files
// put there by hand) cannot be checked against the download: it is accepted only with the official number of
// records, and CIFARChecked says it is unchecked.
func LoadCIFAR(name, dir, split string, coarse bool) (*Dataset, error) {
	layout, ok := cifarLayouts[name]
	if !ok {
		return nil, fmt.Errorf("cifar: unknown data set %q; use %q or %q", name, CIFAR10, CIFAR100)
	}
	files, ok := layout.splits[split]
	if !ok {
		return nil, fmt.Errorf("cifar: unknown split %q; use \"train\" or \"test\"", split)
	}
	if coarse && name != CIFAR100 {
		return nil, fmt.Errorf("cifar: only CIFAR-100 has coarse labels")
	}
	if _, err := os.Stat(filepath.Join(dir, files[0])); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cifar: %s not found in %s: run `%s` to download it (about 170 MB)",
			files[0], dir, FetchCommand(name))
	}
	manifest, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	record := layout.labelBytes + cifarPixels
	var x []float32
	var y []int32
	for _, f := range files {
		path := filepath.Join(dir, f)
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cifar: %s is missing or unreadable (%v): fetch the data set again (`%s`)", path, err, FetchCommand(name))
		}
		if want, ok := manifest[f]; ok {
			if sum := md5.Sum(raw); hex.EncodeToString(sum[:]) != want {
				return nil, fmt.Errorf("cifar: %s: MD5 %x, expected %s from the download: the file is corrupted or "+
					"truncated; delete %s and fetch again (`%s`)", path, sum, want, dir, FetchCommand(name))
			}
		}
		if len(raw) == 0 || len(raw)%record != 0 {
			return nil, fmt.Errorf("cifar: %s: %d bytes is not a whole number of %d-byte records: the file is "+
				"truncated or corrupted; delete %s and fetch again (`%s`)", path, len(raw), record, dir, FetchCommand(name))
		}
		for off := 0; off < len(raw); off += record {
			label := int32(raw[off+layout.labelBytes-1]) // CIFAR-10: the label; CIFAR-100: the fine label
			if coarse {
				label = int32(raw[off])
			}
			if !coarse && int(label) >= layout.classes || coarse && label >= 20 {
				return nil, fmt.Errorf("cifar: %s: record %d has label %d, out of range", path, off/record, label)
			}
			y = append(y, label)
			px := raw[off+layout.labelBytes : off+record]
			for i := range 32 * 32 {
				for c := range 3 {
					v := (float64(px[c*1024+i])/255 - layout.mean[c]) / layout.std[c]
					x = append(x, float32(v))
				}
			}
		}
	}
	if want := layout.records[split]; manifest == nil && len(y) != want {
		return nil, fmt.Errorf("cifar: %s has no %s (it was not written by `revsgd fetch`) and its %s split has "+
			"%d records, not the %d of %s: it is not the %s data set; delete it and fetch it (`%s`)", dir,
			manifestName, split, len(y), want, cifarTitle(name), cifarTitle(name), FetchCommand(name))
	}
	label := "fine"
	if coarse {
		label = "coarse"
	} else if name == CIFAR10 {
		label = ""
	}
	dsName := name + "/" + split
	if label != "" {
		dsName += "/" + label
	}
	return &Dataset{Name: dsName, Inputs: tensors.FromFlatDataAndDimensions(x, len(y), 32, 32, 3),
		Targets: tensors.FromFlatDataAndDimensions(y, len(y))}, nil
}

// writeManifest records the MD5s of a directory's files (file name → MD5). The manifest marks the directory
// complete: it is replaced atomically, so that a crash leaves none or a whole one.
func writeManifest(dir string, manifest map[string]string) error {
	raw, _ := json.MarshalIndent(manifest, "", "  ")
	return atomicfile.Write(filepath.Join(dir, manifestName), raw)
}

// CIFARChecked reports whether a CIFAR directory's files can be checked: it has the manifest that `revsgd fetch`
// (or a stand-in writer) records their MD5s in. Files put there by hand have none.
func CIFARChecked(dir string) bool {
	m, err := readManifest(dir)
	return err == nil && m != nil
}

// readManifest reads the MD5s the fetcher recorded, or returns nil when there is no manifest.
func readManifest(dir string) (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("cifar: %s is corrupted (%v); delete %s and fetch again", filepath.Join(dir, manifestName), err, dir)
	}
	return m, nil
}
