package experiment

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/runs"
)

// A store interrupted part-way (with checkpoints of chains in progress and start points of replays), packed
// without its θ_0s and checkpoints and unpacked elsewhere, resumes there to runs bit-identical to an uninterrupted
// one, recomputing none of the evaluated steps it carried.
func TestPackedStoreResumesElsewhere(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ref := killTestReference(t, filepath.Join(dir, "reference"))

	// Interrupted after a third of the reports.
	first := &runs.Store{Root: filepath.Join(dir, "first")}
	spec, runner, err := KillTestSpec(first)
	if err != nil {
		t.Fatal(err)
	}
	runner.Backend = backendtest.Default(t)
	cut, cancel := context.WithCancel(ctx)
	var reports atomic.Int64
	total := int64(len(ref.Trajectories) * len(ref.Trajectories[0].Steps))
	runner.OnReport = func(string, uint64, int) {
		if reports.Add(1) == total/3 {
			cancel()
		}
	}
	if _, err := runner.Run(cut, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted run ended with %v, want it cancelled", err)
	}
	cancel()

	var archive bytes.Buffer
	stats, err := first.Pack(&archive)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Runs != len(ref.Trajectories) || stats.LeftOut == 0 {
		t.Errorf("packed %d runs, left out %d bytes; want %d runs and their θ_0s", stats.Runs, stats.LeftOut,
			len(ref.Trajectories))
	}
	t.Logf("packed %+v", stats)
	names := archiveNames(t, archive.Bytes())
	for _, n := range names {
		if strings.HasSuffix(n, "theta0.npy") || strings.Contains(n, "checkpoints/") || strings.HasSuffix(n, "lock") {
			t.Errorf("the archive holds %s", n)
		}
	}

	second := &runs.Store{Root: filepath.Join(dir, "second")}
	if n, err := second.Unpack(bytes.NewReader(archive.Bytes())); err != nil || n != len(names) {
		t.Fatalf("unpacked %d files of %d: %v", n, len(names), err)
	}
	if n, err := second.Unpack(bytes.NewReader(archive.Bytes())); err != nil || n != 0 {
		t.Errorf("unpacking the same archive again wrote %d files: %v", n, err)
	}
	carried := 0
	spec, runner, _ = KillTestSpec(second)
	runner.Backend = backendtest.Default(t)
	for _, c := range ref.Trajectories {
		run, err := second.Open(openConfig(t, spec, runner, c), mustHistory(t, spec, c.Seed))
		if err != nil {
			t.Fatal(err)
		}
		carried += run.NumCompleted()
		run.Close()
	}
	if carried == 0 || int64(carried) == total {
		t.Fatalf("the archive carried %d of %d evaluated steps: the test interrupted nothing", carried, total)
	}
	var computed atomic.Int64
	runner.OnReport = func(string, uint64, int) { computed.Add(1) }
	res, err := runner.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := computed.Load(); got > total-int64(carried) {
		t.Errorf("the resumed run reported %d steps; %d of %d were carried", got, carried, total)
	}
	for i, c := range res.Trajectories {
		r := ref.Trajectories[i]
		for k := range r.Steps {
			if c.TrainLoss[k] != r.TrainLoss[k] || hasDifferentBits(c.Iterates[k], r.Iterates[k]) {
				t.Fatalf("%s seed %d step %d differs from the uninterrupted run", c.Order, c.Seed, r.Steps[k])
			}
		}
		for _, name := range []string{"metrics.csv", "iterates.npy", "theta0.npy"} {
			a, _ := os.ReadFile(filepath.Join(r.Dir, name))
			b, _ := os.ReadFile(filepath.Join(c.Dir, name))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s of %s seed %d differs from the uninterrupted run's", name, c.Order, c.Seed)
			}
		}
	}

	// A file that differs from the archive's is not overwritten.
	victim := filepath.Join(second.Root, names[0])
	if err := os.WriteFile(victim, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Unpack(bytes.NewReader(archive.Bytes())); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("unpacking over a different file: %v, want an error saying it differs", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "mine" {
		t.Error("unpacking overwrote a file that differed")
	}
}

func archiveNames(t *testing.T, archive []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}
