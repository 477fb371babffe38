package runs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// record is the content of record.json: what the run has completed, with the checksum of everything stored.
type record struct {
	ConfigSHA256  string       `json:"config_sha256"`
	BatchesSHA256 string       `json:"batches_sha256"`
	Completed     []Entry      `json:"completed"`
	Starts        []storedFile `json:"starts"`
	Checkpoints   []storedFile `json:"checkpoints"`
	// Theta0SHA256 is the checksum of theta0.npy, recorded with the first commit after Initial stored or
	// checked it (absent in records of older versions).
	Theta0SHA256 string `json:"theta0_sha256,omitempty"`
	// Checksum is the SHA-256 of this record encoded with Checksum empty.
	Checksum string `json:"checksum"`
}

// Entry is one completed evaluated step.
type Entry struct {
	// Step is the evaluated step.
	Step int `json:"step"`
	// Metrics holds the values of the run's metrics at this step.
	Metrics map[string]float64 `json:"metrics"`
	// IterateSHA256 is the checksum of θ's row in iterates.npy, when iterates are kept.
	IterateSHA256 string `json:"iterate_sha256,omitempty"`
}

// storedFile is a start point or a checkpoint.
type storedFile struct {
	// Replay is the index of the replay a checkpoint belongs to (checkpoints only).
	Replay int `json:"replay,omitempty"`
	// Step is the order's step the stored state belongs to; After is how many maps of the replay were applied.
	Step  int `json:"step"`
	After int `json:"after,omitempty"`
	// Count is the optimizer's step count in a checkpoint.
	Count  float64 `json:"count,omitempty"`
	File   string  `json:"file"`
	SHA256 string  `json:"sha256"`
}

func checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// contentChecksum is the SHA-256 of the record encoded with Checksum empty.
func (r record) contentChecksum() (string, error) {
	r.Checksum = ""
	body, err := json.MarshalIndent(&r, "", " ")
	if err != nil {
		return "", err
	}
	return checksum(body), nil
}

// encode returns the JSON of the record with its checksum filled in.
func (r *record) encode() ([]byte, error) {
	sum, err := r.contentChecksum()
	if err != nil {
		return nil, err
	}
	r.Checksum = sum
	out, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// readRecord reads and verifies record.json.
func readRecord(path string) (*record, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: corrupted or truncated (%v); delete the run directory to recompute it", path, err)
	}
	if sum, err := r.contentChecksum(); err != nil || sum != r.Checksum {
		return nil, fmt.Errorf("%s: checksum mismatch, the file was modified or corrupted; delete the run directory "+
			"to recompute it", path)
	}
	return &r, nil
}

// entry returns the completed entry of a step.
func (r *record) entry(step int) (Entry, bool) {
	i, ok := slices.BinarySearchFunc(r.Completed, step, byStep)
	if !ok {
		return Entry{}, false
	}
	return r.Completed[i], true
}

// put inserts or replaces an entry, keeping the list sorted by step.
func (r *record) put(e Entry) {
	i, ok := slices.BinarySearchFunc(r.Completed, e.Step, byStep)
	if ok {
		r.Completed[i] = e
		return
	}
	r.Completed = slices.Insert(r.Completed, i, e)
}

// byStep compares an entry with a step, for binary search in the sorted Completed list.
func byStep(e Entry, step int) int { return e.Step - step }
