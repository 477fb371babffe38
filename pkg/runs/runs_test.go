package runs

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func testConfig() Config {
	return Config{
		Library: "test",
		Problem: ProblemConfig{Name: "toy", Model: "point-3", Params: []ParamConfig{{Name: "theta", Dims: []int{3}}},
			Loss: "half-squared-error", TrainSHA256: "abc"},
		Order: OrderConfig{Name: "backward"},
		Rule:  RuleConfig{Name: "sgd", Hyper: map[string]float64{"learning_rate": 0.1}},
		Seed:  7, Steps: 4, BatchSize: 2, Sampling: "shuffled", Evaluated: []int{2, 4},
		DType: "float64", Backend: "go", Metrics: []string{"train_loss"}, Iterates: true,
	}
}

var testBatches = []int32{0, 1, 2, 3, 1, 0, 3, 2}

func openRun(t *testing.T, s *Store, c Config) *Run {
	t.Helper()
	r, err := s.Open(c, testBatches)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fill commits both evaluated steps, a start point and a checkpoint.
func fill(t *testing.T, r *Run) {
	t.Helper()
	reports := []Report{
		{Step: 2, Evaluated: true, Metrics: map[string]float64{"train_loss": 0.5}, Theta: []float64{1, 2, 3}, Start: true,
			Checkpoint: &Checkpoint{Replay: 0, Step: 2, After: 2, Theta: []float64{1, 2, 3}, State: [][]float64{{4, 5, 6}}, Count: 2}},
		{Step: 4, Evaluated: true, Metrics: map[string]float64{"train_loss": 0.25}, Theta: []float64{-1, 0.5, 1e-300}},
	}
	for _, rep := range reports {
		if err := r.Commit(rep); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunRoundTrip(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()

	r = openRun(t, s, testConfig())
	defer r.Close()
	if e, ok := r.Completed(4); !ok || e.Metrics["train_loss"] != 0.25 {
		t.Fatalf("step 4: %+v %v", e, ok)
	}
	if th, err := r.Iterate(4); err != nil || th[2] != 1e-300 || th[0] != -1 {
		t.Fatalf("iterate: %v %v", th, err)
	}
	if th, ok, err := r.Start(2); err != nil || !ok || th[1] != 2 {
		t.Fatalf("start: %v %v %v", th, ok, err)
	}
	cp, err := r.Checkpoint(0)
	if err != nil || cp == nil || cp.After != 2 || cp.Count != 2 || cp.State[0][2] != 6 {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
}

// The stored files are what the package documentation says, read without the store's own reader.
func TestStoredFilesMatchTheDocs(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()

	// metrics.csv: header "step,METRIC…", one row per completed step.
	f, err := os.Open(filepath.Join(r.Dir(), "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"step", "train_loss"}, {"2", "0.5"}, {"4", "0.25"}}; fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("metrics.csv = %v, want %v", rows, want)
	}

	// .npy: magic, version 1.0, header length, a dict literal, data aligned to 64 bytes, little-endian C order.
	check := func(name, descr string, shape []int, first float64) {
		raw, err := os.ReadFile(filepath.Join(r.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("\x93NUMPY\x01\x00")) {
			t.Fatalf("%s: bad magic", name)
		}
		hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
		dict := string(raw[10 : 10+hlen])
		if (10+hlen)%64 != 0 || !strings.HasSuffix(dict, "\n") {
			t.Errorf("%s: data starts at %d, not a multiple of 64, or header not newline-terminated", name, 10+hlen)
		}
		dims := make([]string, len(shape))
		for i, d := range shape {
			dims[i] = strconv.Itoa(d)
		}
		tuple := strings.Join(dims, ", ")
		if len(dims) == 1 {
			tuple += "," // a Python 1-tuple
		}
		want := fmt.Sprintf(`{'descr': '%s', 'fortran_order': False, 'shape': (%s), }`, descr, tuple)
		if !strings.HasPrefix(dict, want) {
			t.Errorf("%s: header %q, want %q", name, dict, want)
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		size := map[string]int{"<f8": 8, "<f4": 4, "<i4": 4}[descr]
		if len(raw) != 10+hlen+n*size {
			t.Errorf("%s: %d bytes for %d elements", name, len(raw), n)
		}
		var got float64
		switch descr {
		case "<f8":
			got = float64frombits(binary.LittleEndian.Uint64(raw[10+hlen:]))
		case "<i4":
			got = float64(int32(binary.LittleEndian.Uint32(raw[10+hlen:])))
		}
		if got != first {
			t.Errorf("%s: first element %g, want %g", name, got, first)
		}
	}
	check("batches.npy", "<i4", []int{4, 2}, 0)
	check("iterates.npy", "<f8", []int{2, 3}, 1)
	check("starts/step-2.npy", "<f8", []int{3}, 1)
	check("checkpoints/replay-0-after-2.npy", "<f8", []int{2, 3}, 1)
}

// numpy and pandas (Debian's, installed by scripts/setup.sh) read the files as they are.
func TestNumpyAndPandasReadTheFiles(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy, pandas").Run(); err != nil {
		t.Fatalf("%s cannot import numpy and pandas (%v): run scripts/setup.sh, which installs python3-numpy and "+
			"python3-pandas", python, err)
	}
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()
	script := `
import sys, numpy as np, pandas as pd
d = sys.argv[1]
m = pd.read_csv(d + "/metrics.csv")
it = np.load(d + "/iterates.npy")
b = np.load(d + "/batches.npy")
cp = np.load(d + "/checkpoints/replay-0-after-2.npy")
print(list(m.columns), m["step"].tolist(), m["train_loss"].tolist(), it.shape, it.dtype, it[1].tolist(), b.shape, b.dtype, b[3].tolist(), cp[1].tolist())
`
	out, err := exec.Command(python, "-c", script, r.Dir()).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "['step', 'train_loss'] [2, 4] [0.5, 0.25] (2, 3) float64 [-1.0, 0.5, 1e-300] (4, 2) int32 [3, 2] [4.0, 5.0, 6.0]"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("python read\n%s\nwant\n%s", got, want)
	}
}

// A damaged file is an error naming that file.
func TestDamagedFilesAreDetected(t *testing.T) {
	cases := []struct {
		file   string
		damage func(path string) error
	}{
		{"iterates.npy", func(p string) error { return flipByte(p, -3) }},
		{"iterates.npy", func(p string) error { return os.Truncate(p, 100) }},
		{"record.json", func(p string) error { return os.Truncate(p, 50) }},
		{"record.json", func(p string) error { return replaceIn(p, `"train_loss": 0.25`, `"train_loss": 0.35`) }},
		{"config.json", func(p string) error { return replaceIn(p, `"seed": 7`, `"seed": 8`) }},
		{"batches.npy", func(p string) error { return os.Truncate(p, 90) }},
		{"batches.npy", func(p string) error { return flipByte(p, -1) }},
		{"starts/step-2.npy", func(p string) error { return flipByte(p, -1) }},
		{"checkpoints/replay-0-after-2.npy", func(p string) error { return os.Truncate(p, 64) }},
		{"metrics.csv", func(p string) error { return replaceIn(p, "0.25", "0.26") }},
		{"metrics.csv", func(p string) error { return os.Truncate(p, 20) }}, // mid-line
		{"record.json", os.Remove}, // was reported as a mismatch of metrics.csv
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			s := &Store{Root: t.TempDir()}
			r := openRun(t, s, testConfig())
			fill(t, r)
			r.Close()
			path := filepath.Join(r.Dir(), c.file)
			if err := c.damage(path); err != nil {
				t.Fatal(err)
			}
			_, err := s.Open(testConfig(), testBatches)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("damaged %s: got error %v, want one naming the file", c.file, err)
			}
		})
	}
}

// Temporary files that a process killed between writing and renaming left (".metrics.csv.tmp123" and the like)
// are removed by the next writer; reopening for reading leaves everything as it is.
func TestKilledWritersTemporariesAreRemoved(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()
	left := []string{".metrics.csv.tmp123", ".record.json.tmp9", "starts/.step-4.npy.tmp5", "iterates.npy.new"}
	for _, f := range left {
		if err := os.WriteFile(filepath.Join(r.Dir(), f), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = openRun(t, s, testConfig())
	defer r.Close()
	for _, f := range left {
		if _, err := os.Stat(filepath.Join(r.Dir(), f)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", f, err)
		}
	}
	if r.NumCompleted() != 2 {
		t.Errorf("%d completed steps", r.NumCompleted())
	}
}

// A missing metrics.csv, or one that lags behind the record (a kill between the two writes), is rewritten.
func TestLaggingMetricsAreRewritten(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()
	path := filepath.Join(r.Dir(), "metrics.csv")
	if err := os.WriteFile(path, []byte("step,train_loss\n4,0.25\n"), 0o644); err != nil { // rows can commit out of order
		t.Fatal(err)
	}
	r = openRun(t, s, testConfig())
	r.Close()
	if got, _ := os.ReadFile(path); string(got) != "step,train_loss\n2,0.5\n4,0.25\n" {
		t.Errorf("metrics.csv = %q", got)
	}
}

func TestChangedSettingsMakeANewRun(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()
	changes := []func(*Config){
		func(c *Config) { c.Rule.Hyper["learning_rate"] = 0.2 },
		func(c *Config) { c.Seed = 8 },
		func(c *Config) { c.Problem.TrainSHA256 = "abd" },
		func(c *Config) { c.DType = "float32" },
		func(c *Config) { c.Backend = "xla" },
		func(c *Config) { c.Evaluated = []int{4} },
		func(c *Config) { c.Library = "other" },
	}
	for i, change := range changes {
		c := testConfig()
		change(&c)
		r2 := openRun(t, s, c)
		if r2.Dir() == r.Dir() || r2.NumCompleted() != 0 {
			t.Errorf("change %d: reused %s with %d completed steps", i, r2.Dir(), r2.NumCompleted())
		}
		r2.Close()
	}
	again := openRun(t, s, testConfig())
	defer again.Close()
	if again.Dir() != r.Dir() || again.NumCompleted() != 2 {
		t.Errorf("the same configuration did not reuse the run")
	}
}

func flipByte(path string, at int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if at < 0 {
		at += len(raw)
	}
	raw[at] ^= 0x40
	return os.WriteFile(path, raw, 0o644)
}

func replaceIn(path, old, new string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(raw, []byte(old)) {
		return fmt.Errorf("%q not in %s", old, path)
	}
	return os.WriteFile(path, bytes.Replace(raw, []byte(old), []byte(new), 1), 0o644)
}

func float64frombits(b uint64) float64 { return math.Float64frombits(b) }

// A flipped byte in theta0.npy is caught by a reader that cannot draw θ_0 again (ReadDir, and so Recompute): the
// record holds its checksum from the first commit on.
func TestDamagedTheta0IsDetectedByReaders(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	if err := r.Initial([]float64{0.5, -1, 2}); err != nil {
		t.Fatal(err)
	}
	fill(t, r)
	r.Close()
	if _, err := ReadDir(r.Dir()); err != nil {
		t.Fatalf("the undamaged run: %v", err)
	}
	path := filepath.Join(r.Dir(), initialFile)
	if err := flipByte(path, -2); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(r.Dir()); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadDir of a run whose θ_0 has a flipped byte: %v, want an error naming %s", err, path)
	}
}
