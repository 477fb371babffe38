package runs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for the run store's readers: whatever bytes a damaged or hostile store holds, reading it gives
// data or an error, never a panic or an allocation its files do not justify. Their seeds (below, and the corpus
// in testdata/fuzz) run with every `go test`; search further with e.g.
//
//	go test -run XXX -fuzz FuzzReadNpy -fuzztime 60s ./pkg/runs

// FuzzReadNpy: an .npy file read back holds exactly what its header announces.
func FuzzReadNpy(f *testing.F) {
	f.Add(npyFile(npyFloat64, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}))
	f.Add(npyFile(npyFloat32, []int{4}, []float64{1, -1, 0.5, 1e30}))
	f.Add(npyFile(npyInt32, []int{1, 2}, []float64{7, -8}))
	f.Add(npyFile(npyFloat64, []int{}, []float64{3}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(t.TempDir(), "a.npy")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		info, values, err := readNpy(path)
		if err != nil {
			return
		}
		n := 1
		for _, d := range info.shape {
			if d < 0 {
				t.Fatalf("accepted a negative dimension: %v", info.shape)
			}
			n *= d
		}
		if len(values) != n || info.dataOffset+n*info.dtype.size() != len(raw) {
			t.Fatalf("shape %v (%d values) but %d values read from %d bytes", info.shape, n, len(values), len(raw))
		}
	})
}

// FuzzReadRecord: a record that is accepted encodes back to a record that reads the same.
func FuzzReadRecord(f *testing.F) {
	rec := &record{ConfigSHA256: "c", BatchesSHA256: "b"}
	rec.put(Entry{Step: 2, Metrics: map[string]float64{"train_loss": 0.5}, IterateSHA256: "x"})
	good, err := rec.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(t.TempDir(), "record.json")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := readRecord(path)
		if err != nil {
			return
		}
		again, err := r.encode()
		if err != nil {
			t.Fatalf("an accepted record does not encode: %v", err)
		}
		if err := os.WriteFile(path, again, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRecord(path); err != nil {
			t.Fatalf("an accepted record, encoded again, is refused: %v", err)
		}
	})
}

// FuzzReadDir: a run directory with any config.json, batches.npy and record.json beside a valid run's other files
// is read or refused, never a panic (ReadDir is what analysis and recomputation read runs with).
func FuzzReadDir(f *testing.F) {
	s := &Store{Root: f.TempDir()}
	r, err := s.Open(testConfig(), testBatches)
	if err != nil {
		f.Fatal(err)
	}
	for _, rep := range []Report{
		{Step: 2, Evaluated: true, Metrics: map[string]float64{"train_loss": 0.5}, Theta: []float64{1, 2, 3}},
		{Step: 4, Evaluated: true, Metrics: map[string]float64{"train_loss": 0.25}, Theta: []float64{-1, 0.5, 2}},
	} {
		if err := r.Commit(rep); err != nil {
			f.Fatal(err)
		}
	}
	r.Close()
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join(r.Dir(), name))
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	config, batches, rec, iterates := read("config.json"), read("batches.npy"), read("record.json"), read("iterates.npy")
	f.Add(config, batches, rec)
	f.Add(bytes.Replace(config, []byte(`"dims": [`), []byte(`"dims": [-`), 1), batches, rec)
	f.Add(bytes.Replace(config, []byte(`"steps": 4`), []byte(`"steps": 4000000000`), 1), batches, rec)
	f.Fuzz(func(t *testing.T, config, batches, rec []byte) {
		dir := t.TempDir()
		for name, raw := range map[string][]byte{"config.json": config, "batches.npy": batches, "record.json": rec,
			"iterates.npy": iterates} {
			if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		st, err := ReadDir(dir)
		if err != nil {
			return
		}
		if len(st.Batches) != st.Config.Steps {
			t.Fatalf("%d batches read for %d steps", len(st.Batches), st.Config.Steps)
		}
	})
}
