package runs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// A second writer of a run is refused with an error naming the holder, also within one process; the lock file
// goes away with a clean close.
func TestLockNamesTheHolder(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	_, err := s.Open(testConfig(), testBatches)
	host, _ := os.Hostname()
	if err == nil || !regexp.MustCompile(fmt.Sprintf(`pid %d on host %s`, os.Getpid(), regexp.QuoteMeta(host))).MatchString(err.Error()) {
		t.Fatalf("second open: %v, want an error naming pid %d on host %s", err, os.Getpid(), host)
	}
	r.Close()
	if _, err := os.Stat(filepath.Join(r.Dir(), lockName)); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived a clean close: %v", err)
	}
}

// Lock files that no live process holds never stop a writer, whatever they say: one from another host (a killed
// container: it stopped every rerun from other hosts), an empty one (it gave a permanent "being written by
// another process"), one in the old "PID START HOST" form of a dead process, garbage.
func TestLeftLockFilesDoNotStopAWriter(t *testing.T) {
	for _, content := range []string{"4242 123456 some-container\n", "", "999999999 1 " + hostname() + "\n", "\x00\xff junk"} {
		s := &Store{Root: t.TempDir()}
		r := openRun(t, s, testConfig())
		fill(t, r)
		r.Close()
		if err := os.WriteFile(filepath.Join(r.Dir(), lockName), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := s.Open(testConfig(), testBatches)
		if err != nil {
			t.Fatalf("lock file %q: %v", content, err)
		}
		if again.NumCompleted() != 2 {
			t.Errorf("lock file %q: %d completed steps after reopening", content, again.NumCompleted())
		}
		again.Close()
	}
}

func hostname() string { h, _ := os.Hostname(); return h }

// Many writers opening one run at once, with a lock file left by a killed process in place or none: exactly one
// gets it, in every trial (a takeover of stale lock files gave two holders in 2 of 40 trials of 16).
func TestOneHolderAmongConcurrentOpeners(t *testing.T) {
	defer func(n int) { heldRetries = n }(heldRetries)
	heldRetries = 0 // losers report at once; what is tested is who wins
	const trials, openers = 40, 16
	for trial := range trials {
		s := &Store{Root: t.TempDir()}
		r := openRun(t, s, testConfig())
		dir := r.Dir()
		r.Close()
		if trial%2 == 0 {
			os.WriteFile(filepath.Join(dir, lockName), []byte("1 1 gone\n"), 0o644)
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			holders []*Run
			start   = make(chan struct{})
		)
		for range openers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := s.Open(testConfig(), testBatches)
				if err != nil {
					if !strings.Contains(err.Error(), "being written by another process") {
						t.Errorf("trial %d: %v", trial, err)
					}
					return
				}
				mu.Lock()
				holders = append(holders, r)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if len(holders) != 1 {
			t.Fatalf("trial %d: %d of %d concurrent openers hold the lock, want 1", trial, len(holders), openers)
		}
		holders[0].Close()
	}
}

// Releases and takings interleaved: a writer that opened the lock file just before its holder removed it must
// not hold a lock on the removed file beside the next writer, who creates a new one. Eight goroutines take and
// release one run's lock thousands of times; holders never overlap.
func TestHoldersNeverOverlap(t *testing.T) {
	defer func(n int) { heldRetries = n }(heldRetries)
	heldRetries = 0
	dir := t.TempDir()
	var (
		holding, wins atomic.Int64
		wg            sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3000 {
				release, _, err := acquireLock(dir)
				if err != nil {
					continue
				}
				if n := holding.Add(1); n > 1 {
					t.Errorf("%d holders at once", n)
				}
				wins.Add(1)
				runtime.Gosched()
				holding.Add(-1)
				release()
			}
		}()
	}
	wg.Wait()
	if wins.Load() == 0 {
		t.Fatal("no one ever got the lock")
	}
	t.Logf("%d takings", wins.Load())
}

// `revsgd store locks` lists held and left lock files; clearing removes only those no process holds.
func TestListAndClearLocks(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	held := openRun(t, s, testConfig())
	defer held.Close()
	c := testConfig()
	c.Seed = 8
	left := openRun(t, s, c)
	left.Close()
	os.WriteFile(filepath.Join(left.Dir(), lockName), []byte("pid 77 on host elsewhere since 2026-01-01T00:00:00Z\n"), 0o644)

	locks, err := s.Locks()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(locks, func(a, b Lock) int { return strings.Compare(a.Run, b.Run) })
	want := map[string]bool{held.Dir(): true, left.Dir(): false}
	if len(locks) != 2 {
		t.Fatalf("locks: %+v", locks)
	}
	for _, l := range locks {
		if h, ok := want[l.Run]; !ok || h != l.Held {
			t.Errorf("lock %+v: want held = %v", l, h)
		}
		if l.Run == left.Dir() && !strings.Contains(l.Holder, "pid 77 on host elsewhere") {
			t.Errorf("left lock's holder: %q", l.Holder)
		}
	}
	cleared, err := s.ClearLocks()
	if err != nil || !slices.Equal(cleared, []string{left.Dir()}) {
		t.Fatalf("cleared %v, %v; want %s only", cleared, err, left.Dir())
	}
	if _, err := os.Stat(filepath.Join(held.Dir(), lockName)); err != nil {
		t.Errorf("the held lock was removed: %v", err)
	}
	if _, err := s.Open(testConfig(), testBatches); err == nil {
		t.Error("the held run could be opened after clearing")
	}
}

// A finished run on storage that cannot be written opens for reading only, without a lock: its steps read back,
// nothing is written, and a commit says why it cannot be stored (it was "open …/lock: read-only file system").
// Read-only storage is simulated, since a test running as root can write anywhere.
func TestReadOnlyStoreCanBeRead(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := openRun(t, s, testConfig())
	fill(t, r)
	r.Close()
	before := listing(t, s.Root)

	defer func(f func(string) (*os.File, error)) { openLockFile = f }(openLockFile)
	openLockFile = func(path string) (*os.File, error) {
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.EROFS}
	}
	ro, err := s.Open(testConfig(), testBatches)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() || ro.NumCompleted() != 2 {
		t.Fatalf("read-only %v, %d completed", ro.ReadOnly(), ro.NumCompleted())
	}
	if th, err := ro.Iterate(4); err != nil || th[1] != 0.5 {
		t.Errorf("iterate at step 4: %v, %v", th, err)
	}
	if err := ro.Initial([]float64{1, 2, 3}); err != nil {
		t.Errorf("θ_0 of a read-only run that stored none (an older revsgd): %v", err)
	}
	err = ro.Commit(Report{Step: 4, Evaluated: true, Metrics: map[string]float64{"train_loss": 1}, Theta: []float64{0, 0, 0}})
	if err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("commit to a read-only run: %v", err)
	}
	if after := listing(t, s.Root); !slices.Equal(before, after) {
		t.Errorf("files changed:\n%v\n%v", before, after)
	}
	// A run the store does not have cannot be created there.
	c := testConfig()
	c.Seed = 99
	if _, err := s.Open(c, testBatches); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("new run in a read-only store: %v", err)
	}
}

// listing lists the files under root with their sizes and modification times.
func listing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, fmt.Sprintf("%s %d %d", path, info.Size(), info.ModTime().UnixNano()))
		}
		return err
	})
	return out
}

// A lock file that is a symbolic link is never written through, read through or created through: opening the
// run is refused and says so, the file it names keeps its content (a dangling link's target is not created),
// `store locks` lists it without reading its target, and ClearLocks removes the link alone.
func TestLinkedLockIsNeverFollowed(t *testing.T) {
	for _, dangling := range []bool{false, true} {
		root := t.TempDir()
		s := &Store{Root: filepath.Join(root, "store")}
		cfg := testConfig()
		r, err := s.Open(cfg, testBatches)
		if err != nil {
			t.Fatal(err)
		}
		dir := r.Dir()
		r.Close()
		victim := filepath.Join(root, "precious.txt")
		if !dangling {
			if err := os.WriteFile(victim, []byte("the user's words"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(victim, filepath.Join(dir, lockName)); err != nil {
			t.Fatal(err)
		}
		_, err = s.Open(cfg, testBatches)
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("dangling %v: opening a run whose lock is a link: %v, want an error naming the link", dangling, err)
		}
		got, readErr := os.ReadFile(victim)
		switch {
		case dangling && readErr == nil:
			t.Errorf("the dangling link's target was created: %q", got)
		case !dangling && string(got) != "the user's words":
			t.Errorf("the linked file now holds %q", got)
		}
		locks, err := s.Locks()
		if err != nil || len(locks) != 1 || strings.Contains(locks[0].Holder, "user") || locks[0].Held {
			t.Errorf("locks %+v, %v: want the link listed as a link, unread and not held", locks, err)
		}
		if cleared, err := s.ClearLocks(); err != nil || len(cleared) != 1 {
			t.Errorf("clearing: %v, %v", cleared, err)
		}
		if _, err := os.Lstat(filepath.Join(dir, lockName)); err == nil {
			t.Error("the link is still there")
		}
		if got, _ := os.ReadFile(victim); !dangling && string(got) != "the user's words" {
			t.Errorf("clearing changed the linked file: %q", got)
		}
	}
}

// A lock file's content is shown as one line of at most maxHolder bytes, however large the file.
func TestHolderReadsOneShortLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), lockName)
	junk := strings.Repeat("x", 1<<20) + "\nmore"
	if err := os.WriteFile(path, []byte(junk), 0o644); err != nil {
		t.Fatal(err)
	}
	if h := holder(path); len(h) > maxHolder {
		t.Errorf("holder read %d bytes", len(h))
	}
}

// A problem named ".." or "." keeps its runs inside the store.
func TestDotNamesStayInTheStore(t *testing.T) {
	for _, name := range []string{"..", ".", "", "../x"} {
		cfg := testConfig()
		cfg.Problem.Name = name
		dir := cfg.dirName(strings.Repeat("0", 64))
		if filepath.Clean(dir) != dir || strings.Count(dir, "/") != 2 || strings.HasPrefix(dir, "../") {
			t.Errorf("problem %q: run directory %q leaves or collapses its place in the store", name, dir)
		}
	}
}

// A second user, who cannot write the store, opening a run the first user's process is writing is told who writes
// it (it was told the store is not writable); once that process is done, the run opens read-only for it.
func TestSecondUserIsToldWhoWrites(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	writer := openRun(t, s, testConfig())
	fill(t, writer)

	defer func(f func(string) (*os.File, error)) { openLockFile = f }(openLockFile)
	openLockFile = func(path string) (*os.File, error) { // as for another user: the lock file cannot be opened to write
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.EACCES}
	}
	_, err := s.Open(testConfig(), testBatches)
	host, _ := os.Hostname()
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d on host %s", os.Getpid(), host)) ||
		!strings.Contains(err.Error(), "another user") {
		t.Fatalf("a second user opening a run being written: %v, want who writes it", err)
	}
	writer.Close()
	ro, err := s.Open(testConfig(), testBatches)
	if err != nil || !ro.ReadOnly() {
		t.Fatalf("after the writer is done: %v (read-only: %v)", err, err == nil && ro.ReadOnly())
	}
	ro.Close()
}
