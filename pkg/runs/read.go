package runs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// initialFile holds θ_0 (float64, whatever the run's dtype), written when a run is created.
const initialFile = "theta0.npy"

// Initial stores θ_0 in the run's directory (theta0.npy, float64) if it is not there yet, and otherwise checks
// that it is the stored one: with config.json and batches.npy, it makes a run recomputable from its directory.
func (r *Run) Initial(theta0 []float64) error {
	if len(theta0) != r.config.NumParams() {
		return fmt.Errorf("runs: θ_0 has %d values, the model %d parameters", len(theta0), r.config.NumParams())
	}
	path := r.path(initialFile)
	if _, err := os.Stat(path); r.readOnly && errors.Is(err, os.ErrNotExist) {
		return nil // stored by an older revsgd; nothing needs it to read the run
	}
	body := npyFile(npyFloat64, []int{len(theta0)}, theta0)
	same, err := r.createOrCompare(path, body)
	if err != nil {
		return err
	}
	if !same {
		return fmt.Errorf("%s: differs from the θ_0 this run's seed draws (corrupted, or the initialisation "+
			"changed); delete the run directory to recompute it", path)
	}
	r.theta0Sum = checksum(body) // recorded with the next commit, for readers that cannot draw θ_0 (ReadDir)
	return nil
}

// Stored is what a run's directory holds, read without taking its lock (for analysis and recomputation; a run
// being written may have more completed steps a moment later).
type Stored struct {
	// Dir is the run's directory; Config its configuration.
	Dir    string
	Config Config
	// Theta0 is θ_0 (nil for runs stored before θ_0 was kept); Batches the example indices of B_1 … B_n.
	Theta0  []float64
	Batches [][]int32
	// Completed is the number of evaluated steps done; Iterates maps each to its stored θ (runs that keep iterates).
	Completed int
	Iterates  map[int][]float64
}

// ReadDir reads a run's directory: its configuration, θ_0, batches and completed iterates, each verified
// against the run's record.
func ReadDir(dir string) (*Stored, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	st := &Stored{Dir: dir, Iterates: map[int][]float64{}}
	if err := json.Unmarshal(raw, &st.Config); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	if err := st.Config.validate(); err != nil {
		return nil, err
	}
	info, b, err := readNpy(filepath.Join(dir, "batches.npy"))
	if err != nil {
		return nil, err
	}
	if len(info.shape) != 2 || info.shape[0] != st.Config.Steps || info.shape[1] != st.Config.BatchSize {
		return nil, fmt.Errorf("%s: shape %v, want [%d %d]", filepath.Join(dir, "batches.npy"), info.shape,
			st.Config.Steps, st.Config.BatchSize)
	}
	for k := range st.Config.Steps {
		row := make([]int32, st.Config.BatchSize)
		for j := range row {
			row[j] = int32(b[k*st.Config.BatchSize+j])
		}
		st.Batches = append(st.Batches, row)
	}
	if _, t0, err := readNpy(filepath.Join(dir, initialFile)); err == nil {
		st.Theta0 = t0
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	rec, err := readRecord(filepath.Join(dir, "record.json"))
	if err == nil && rec.Theta0SHA256 != "" && st.Theta0 != nil {
		if raw, rerr := os.ReadFile(filepath.Join(dir, initialFile)); rerr != nil || checksum(raw) != rec.Theta0SHA256 {
			return nil, fmt.Errorf("%s: checksum mismatch with record.json (corrupted or edited); delete the run "+
				"directory to recompute it", filepath.Join(dir, initialFile))
		}
	}
	if w := st.Config.WarmUp; w != nil && st.Theta0 != nil && VectorSHA256(st.Theta0) != w.Theta0SHA256 {
		return nil, fmt.Errorf("%s is not the θ_0 its warm-up made (config.json's warm_up.theta0_sha256): the file "+
			"was changed or corrupted; delete the run directory to recompute it", filepath.Join(dir, initialFile))
	}
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	batchRaw, err := os.ReadFile(filepath.Join(dir, "batches.npy"))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	if rec.ConfigSHA256 != checksum(raw) || rec.BatchesSHA256 != checksum(batchRaw) {
		return nil, fmt.Errorf("%s: belongs to another configuration or batch history than config.json and "+
			"batches.npy beside it (edited or corrupted)", filepath.Join(dir, "record.json"))
	}
	st.Completed = len(rec.Completed)
	r := &Run{dir: dir, config: st.Config, rec: rec, evalIndex: map[int]int{}}
	for i, n := range st.Config.Evaluated {
		r.evalIndex[n] = i
	}
	if st.Config.Iterates {
		for _, e := range rec.Completed {
			v, err := r.Iterate(e.Step)
			if err != nil {
				return nil, err
			}
			st.Iterates[e.Step] = v
		}
	}
	return st, nil
}
