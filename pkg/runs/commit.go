package runs

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Report is what a replay reached at one of its reports, to be committed to the run.
type Report struct {
	// Step is the order's step of the iterate.
	Step int
	// Evaluated is set when Step is an evaluated step: Metrics are then recorded (and θ, if iterates are kept).
	Evaluated bool
	// Metrics holds the run's metrics at Step.
	Metrics map[string]float64
	// Theta is θ at Step, needed when iterates are kept or Start is set.
	Theta []float64
	// Start marks an iterate that other replays start from: θ is stored under starts/.
	Start bool
	// Checkpoint, when set, is stored as the replay's checkpoint (replacing the previous one).
	Checkpoint *Checkpoint
}

// Commit stores reports: their files first, then the record that makes them part of the run, then metrics.csv.
// Committing several reports at once costs one record write; of several checkpoints of one replay only the last
// is kept.
func (r *Run) Commit(reports ...Report) error {
	if len(reports) == 0 {
		return nil
	}
	if r.readOnly {
		return r.errReadOnly("reports")
	}
	rec := *r.rec
	rec.Completed = slices.Clone(r.rec.Completed)
	rec.Starts = slices.Clone(r.rec.Starts)
	rec.Checkpoints = slices.Clone(r.rec.Checkpoints)
	if rec.Theta0SHA256 == "" {
		rec.Theta0SHA256 = r.theta0Sum
	}
	lastCheckpoint := map[int]*Checkpoint{}
	for _, rep := range reports {
		if err := r.stage(&rec, rep); err != nil {
			return err
		}
		if rep.Checkpoint != nil {
			lastCheckpoint[rep.Checkpoint.Replay] = rep.Checkpoint
		}
	}
	var stale []string
	for _, cp := range lastCheckpoint {
		name := fmt.Sprintf("checkpoints/replay-%d-after-%d.npy", cp.Replay, cp.After)
		values := slices.Clone(cp.Theta)
		for _, s := range cp.State {
			values = append(values, s...)
		}
		sum, err := r.writeFile(name, []int{1 + len(cp.State), len(cp.Theta)}, values)
		if err != nil {
			return err
		}
		rec.Checkpoints = slices.DeleteFunc(rec.Checkpoints, func(c storedFile) bool {
			if c.Replay == cp.Replay && c.File != name {
				stale = append(stale, c.File)
			}
			return c.Replay == cp.Replay
		})
		rec.Checkpoints = append(rec.Checkpoints, storedFile{Replay: cp.Replay, Step: cp.Step, After: cp.After,
			Count: cp.Count, File: name, SHA256: sum})
	}
	slices.SortFunc(rec.Checkpoints, func(a, b storedFile) int { return a.Replay - b.Replay })
	body, err := rec.encode()
	if err != nil {
		return err
	}
	if err := writeAtomic(r.path("record.json"), body); err != nil {
		return err
	}
	r.rec = &rec
	for _, f := range stale {
		os.Remove(r.path(f))
	}
	return writeAtomic(r.path("metrics.csv"), r.metricsCSV())
}

// stage writes a report's iterate row and start file and adds them to rec.
func (r *Run) stage(rec *record, rep Report) error {
	if rep.Evaluated {
		if _, ok := r.evalIndex[rep.Step]; !ok {
			return fmt.Errorf("runs: step %d is not an evaluated step of %s", rep.Step, r.dir)
		}
		e := Entry{Step: rep.Step, Metrics: map[string]float64{}}
		for _, m := range r.config.Metrics {
			v, ok := rep.Metrics[m]
			if !ok {
				return fmt.Errorf("runs: metric %q missing at step %d", m, rep.Step)
			}
			e.Metrics[m] = v
		}
		if r.config.Iterates {
			sum, err := r.writeRow(rep.Step, rep.Theta)
			if err != nil {
				return err
			}
			e.IterateSHA256 = sum
		}
		rec.put(e)
	}
	if rep.Start {
		name := fmt.Sprintf("starts/step-%d.npy", rep.Step)
		sum, err := r.writeFile(name, []int{len(rep.Theta)}, rep.Theta)
		if err != nil {
			return err
		}
		rec.Starts = slices.DeleteFunc(rec.Starts, func(s storedFile) bool { return s.Step == rep.Step })
		rec.Starts = append(rec.Starts, storedFile{Step: rep.Step, File: name, SHA256: sum})
	}
	return nil
}

// writeRow writes θ's row of iterates.npy in place and syncs it; it returns the row's checksum.
func (r *Run) writeRow(step int, theta []float64) (string, error) {
	if len(theta) != r.config.NumParams() {
		return "", fmt.Errorf("runs: θ has %d values, the model %d", len(theta), r.config.NumParams())
	}
	f, err := os.OpenFile(r.path("iterates.npy"), os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("runs: %w", err)
	}
	defer f.Close()
	row := encode(nil, r.config.npyDType(), theta)
	off, _ := r.rowOffset(step)
	if _, err := f.WriteAt(row, off); err != nil {
		return "", fmt.Errorf("runs: writing %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("runs: syncing %s: %w", f.Name(), err)
	}
	return checksum(row), nil
}

// writeFile writes an array file under the run directory atomically and returns its checksum.
func (r *Run) writeFile(name string, shape []int, values []float64) (string, error) {
	path := r.path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("runs: %w", err)
	}
	data := npyFile(r.config.npyDType(), shape, values)
	if err := writeAtomic(path, data); err != nil {
		return "", err
	}
	return checksum(data), nil
}

// metricsCSV renders metrics.csv from the record: a header "step,METRIC…" and one row per completed step, with
// values in Go's shortest round-trip formatting (NaN where a metric was not computed).
func (r *Run) metricsCSV() []byte {
	var b strings.Builder
	b.WriteString("step")
	for _, m := range r.config.Metrics {
		b.WriteString("," + m)
	}
	b.WriteString("\n")
	for _, e := range r.rec.Completed {
		b.WriteString(strconv.Itoa(e.Step))
		for _, m := range r.config.Metrics {
			v, ok := e.Metrics[m]
			if !ok {
				v = math.NaN()
			}
			b.WriteString("," + strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}
