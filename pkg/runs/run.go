package runs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Store is a directory of runs.
type Store struct {
	// Root is the directory the runs are stored under.
	Root string
}

// Run is an open run: a directory being read and written by this process, which holds its lock.
type Run struct {
	dir       string
	config    Config
	hash      string
	rec       *record
	evalIndex map[int]int // evaluated step → row of iterates.npy
	release   func()
	readOnly  bool
	theta0Sum string // the checksum of theta0.npy once Initial has stored or checked it
}

// Checkpoint is the state of a chain of update maps interrupted after some of its maps: θ, the optimizer state
// (one vector per name of the rule's State, in that order, laid out like θ) and the optimizer's step count.
type Checkpoint struct {
	// Replay is the index of the replay in its order's plan; Step is the order's step reached, after After maps.
	Replay, Step, After int
	// Theta is θ; State the optimizer state vectors; Count the optimizer's step count.
	Theta []float64
	State [][]float64
	Count float64
}

// Dir returns the run's directory.
func (r *Run) Dir() string { return r.dir }

// Config returns the run's configuration.
func (r *Run) Config() Config { return r.config }

// Open opens the run of a configuration, creating it if new, and takes its lock. batches is the batch history
// (steps × batch size example indices): stored on creation, checked against the stored one otherwise. Every
// stored file is verified; a damaged one is an error naming it.
//
// In a store that cannot be written (read-only storage, no permission) an existing run is opened for reading
// only, without a lock: see ReadOnly.
func (s *Store) Open(cfg Config, batches []int32) (*Run, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(batches) != cfg.Steps*cfg.BatchSize {
		return nil, fmt.Errorf("runs: %d batch indices for %d steps of %d", len(batches), cfg.Steps, cfg.BatchSize)
	}
	body, err := cfg.encode()
	if err != nil {
		return nil, err
	}
	hash := checksum(body)
	dir := filepath.Join(s.Root, cfg.dirName(hash))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("runs: %w", err)
		}
	}
	release, readOnly, err := acquireLock(dir)
	if err != nil {
		return nil, err
	}
	r := &Run{dir: dir, config: cfg, hash: hash, release: release, readOnly: readOnly, evalIndex: map[int]int{}}
	if !readOnly {
		removeTemporaries(dir)
	}
	for i, n := range cfg.Evaluated {
		r.evalIndex[n] = i
	}
	if err := r.load(body, batches); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// ReadOnly reports whether the run was opened for reading only, its directory not being writable: its stored
// steps can be read (to re-plot a finished run from read-only storage), but Commit and Initial with a θ_0 not yet
// stored are errors.
func (r *Run) ReadOnly() bool { return r.readOnly }

// errReadOnly is the error of an attempt to write a run opened for reading only.
func (r *Run) errReadOnly(what string) error {
	return fmt.Errorf("runs: cannot write %s: %s is not writable (read-only storage or no permission), so the run "+
		"was opened for reading only; copy the store somewhere writable to compute what it lacks", what, r.dir)
}

// Close releases the run's lock.
func (r *Run) Close() {
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

func (r *Run) path(name string) string { return filepath.Join(r.dir, name) }

// createOrCompare writes want to path if there is no such file yet, and otherwise reports whether the stored file
// holds exactly want.
func (r *Run) createOrCompare(path string, want []byte) (same bool, err error) {
	stored, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if r.readOnly {
			return false, r.errReadOnly(path)
		}
		return true, writeAtomic(path, want)
	}
	if err != nil {
		return false, fmt.Errorf("runs: %w", err)
	}
	return bytes.Equal(stored, want), nil
}

// load creates the run's files if they are missing and verifies them if they are present.
func (r *Run) load(configJSON []byte, batches []int32) error {
	cfgPath := r.path("config.json")
	if same, err := r.createOrCompare(cfgPath, configJSON); err != nil {
		return err
	} else if !same {
		return fmt.Errorf("%s: differs from the configuration this run was opened with (edited or corrupted); "+
			"delete the run directory to recompute it", cfgPath)
	}

	batchData := npyFile(npyInt32, []int{r.config.Steps, r.config.BatchSize}, int32s(batches))
	batchPath := r.path("batches.npy")
	if same, err := r.createOrCompare(batchPath, batchData); err != nil {
		return err
	} else if !same {
		if _, _, perr := readNpy(batchPath); perr != nil {
			return perr
		}
		return fmt.Errorf("%s: the stored batch history differs from the one the sampler draws now (corrupted, or "+
			"the sampler changed); delete the run directory to recompute it", batchPath)
	}

	recPath := r.path("record.json")
	rec, err := readRecord(recPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if rows := metricsRows(r.path("metrics.csv")); rows > 0 {
			return fmt.Errorf("%s: missing, but metrics.csv lists %d completed steps: the record was deleted or lost, "+
				"so nothing stored can be verified; delete the run directory to recompute it", recPath, rows)
		}
		rec = &record{ConfigSHA256: r.hash, BatchesSHA256: checksum(batchData)}
	case err != nil:
		return err
	case rec.ConfigSHA256 != r.hash || rec.BatchesSHA256 != checksum(batchData):
		return fmt.Errorf("%s: belongs to another configuration or batch history; delete the run directory to "+
			"recompute it", recPath)
	}
	r.rec = rec
	if r.config.Iterates {
		if err := r.prepareIterates(); err != nil {
			return err
		}
	}
	for _, f := range append(slices.Clone(rec.Starts), rec.Checkpoints...) {
		raw, err := os.ReadFile(r.path(f.File))
		if err != nil {
			return fmt.Errorf("runs: %s is listed in %s but unreadable: %w", r.path(f.File), recPath, err)
		}
		if checksum(raw) != f.SHA256 {
			return fmt.Errorf("%s: checksum mismatch (corrupted or truncated); delete the run directory to recompute it",
				r.path(f.File))
		}
	}
	// metrics.csv is derived from record.json: rewrite it if it is missing or lags behind (a kill between the two
	// writes leaves it with a subset of the record's rows), refuse it if it disagrees.
	want := r.metricsCSV()
	got, err := os.ReadFile(r.path("metrics.csv"))
	if err == nil && !bytes.Equal(got, want) && !lagsBehind(got, want) {
		return fmt.Errorf("%s: does not match the run's record %s (edited or corrupted); delete it to have it "+
			"rewritten from the record", r.path("metrics.csv"), recPath)
	}
	if !bytes.Equal(got, want) && len(r.rec.Completed) > 0 && !r.readOnly {
		return writeAtomic(r.path("metrics.csv"), want)
	}
	return nil
}

// metricsRows returns the number of data rows of a metrics file (0 if there is none).
func metricsRows(path string) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return max(0, strings.Count(string(raw), "\n")-1)
}

// removeTemporaries removes what writers killed between writing and renaming a file left in a run directory:
// atomicfile's ".NAME.tmp*" files and iterates.npy.new. Only the lock's holder calls it, so no writer is using
// them.
func removeTemporaries(dir string) {
	for _, pattern := range []string{".*.tmp*", "*/.*.tmp*", "iterates.npy.new"} {
		left, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range left {
			os.Remove(p)
		}
	}
}

// lagsBehind reports whether a metrics file holds whole lines only, the same header, and a subset of the rows of
// the up-to-date one.
func lagsBehind(got, want []byte) bool {
	if len(got) == 0 {
		return true
	}
	if got[len(got)-1] != '\n' {
		return false
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	if gl[0] != wl[0] {
		return false
	}
	rows := map[string]bool{}
	for _, l := range wl[1:] {
		rows[l] = true
	}
	for _, l := range gl[1:] {
		if !rows[l] {
			return false
		}
	}
	return true
}

// prepareIterates creates iterates.npy (zeros) or checks its header, size and completed rows.
func (r *Run) prepareIterates() error {
	path := r.path("iterates.npy")
	dtype, p := r.config.npyDType(), r.config.NumParams()
	header := npyHeader(dtype, []int{len(r.config.Evaluated), p})
	size := int64(len(header) + len(r.config.Evaluated)*p*dtype.size())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if len(r.rec.Completed) > 0 && r.rec.Completed[0].IterateSHA256 != "" {
			return fmt.Errorf("%s: missing, but %s lists stored iterates; delete the run directory to recompute it",
				path, r.path("record.json"))
		}
		if r.readOnly {
			return r.errReadOnly(path)
		}
		tmp := path + ".new"
		if err := os.WriteFile(tmp, header, 0o644); err != nil {
			return fmt.Errorf("runs: %w", err)
		}
		if err := os.Truncate(tmp, size); err != nil {
			return fmt.Errorf("runs: %w", err)
		}
		return os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	defer f.Close()
	info, err := readNpyHeader(path, f)
	if err != nil {
		return err
	}
	if info.dtype != dtype || !slices.Equal(info.shape, []int{len(r.config.Evaluated), p}) {
		return fmt.Errorf("%s: header says %s %v, the run needs %s [%d %d]", path, info.dtype, info.shape, dtype,
			len(r.config.Evaluated), p)
	}
	if st, err := f.Stat(); err != nil || st.Size() != size {
		return fmt.Errorf("%s: %d bytes, %d expected: the file is truncated or corrupted; delete the run directory "+
			"to recompute it", path, st.Size(), size)
	}
	for _, e := range r.rec.Completed {
		row, err := r.readRow(f, e.Step)
		if err != nil {
			return err
		}
		if checksum(row) != e.IterateSHA256 {
			return fmt.Errorf("%s: the row of step %d fails its checksum (corrupted); delete the run directory to "+
				"recompute it", path, e.Step)
		}
	}
	return nil
}

func (r *Run) rowOffset(step int) (int64, int) {
	dtype, p := r.config.npyDType(), r.config.NumParams()
	header := len(npyHeader(dtype, []int{len(r.config.Evaluated), p}))
	rowBytes := p * dtype.size()
	return int64(header + r.evalIndex[step]*rowBytes), rowBytes
}

func (r *Run) readRow(f *os.File, step int) ([]byte, error) {
	off, n := r.rowOffset(step)
	row := make([]byte, n)
	if _, err := f.ReadAt(row, off); err != nil {
		return nil, fmt.Errorf("%s: reading the row of step %d: %w", f.Name(), step, err)
	}
	return row, nil
}

// Completed returns the entry of an evaluated step, if the run has completed it.
func (r *Run) Completed(step int) (Entry, bool) { return r.rec.entry(step) }

// NumCompleted returns how many evaluated steps are complete.
func (r *Run) NumCompleted() int { return len(r.rec.Completed) }

// Iterate reads θ at a completed evaluated step (runs that keep iterates).
func (r *Run) Iterate(step int) ([]float64, error) {
	e, ok := r.rec.entry(step)
	if !ok || !r.config.Iterates {
		return nil, fmt.Errorf("runs: %s has no stored iterate at step %d", r.dir, step)
	}
	f, err := os.Open(r.path("iterates.npy"))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	defer f.Close()
	row, err := r.readRow(f, step)
	if err != nil {
		return nil, err
	}
	if checksum(row) != e.IterateSHA256 {
		return nil, fmt.Errorf("%s: the row of step %d fails its checksum (corrupted)", f.Name(), step)
	}
	return decode(row, r.config.npyDType()), nil
}

// Start returns the stored θ at a step replays start from, if stored.
func (r *Run) Start(step int) ([]float64, bool, error) {
	for _, s := range r.rec.Starts {
		if s.Step == step {
			_, v, err := readNpy(r.path(s.File))
			return v, err == nil, err
		}
	}
	return nil, false, nil
}

// Checkpoint returns the stored checkpoint of a replay, if any.
func (r *Run) Checkpoint(replay int) (*Checkpoint, error) {
	for _, c := range r.rec.Checkpoints {
		if c.Replay != replay {
			continue
		}
		info, v, err := readNpy(r.path(c.File))
		if err != nil {
			return nil, err
		}
		p := r.config.NumParams()
		cp := &Checkpoint{Replay: replay, Step: c.Step, After: c.After, Count: c.Count, Theta: v[:p]}
		for k := 1; k < info.shape[0]; k++ {
			cp.State = append(cp.State, v[k*p:(k+1)*p])
		}
		return cp, nil
	}
	return nil, nil
}

// int32s converts batch indices to float64 for storage in an npy file.
func int32s(xs []int32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}
