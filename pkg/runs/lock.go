package runs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Locks. A run being written holds an exclusive flock(2) on the file "lock" in its directory. The kernel (or, on
// NFS, the server) releases the lock when its holder exits, however it exits, so a lock can never outlive its
// process: there is nothing stale to take over and no takeover to race. The file's content — pid, host and time —
// only says who holds it, for error messages and `revsgd store locks`.
//
// The holder removes the file when it is done. Another process that opened the file just before it was removed
// would then hold a lock on a file no longer in the directory; so after taking the lock a process checks that
// the path still names the file it locked, and starts over if not. A file left by a process that was killed is
// simply taken by the next one (or removed by ClearLocks).
//
// Shared storage: flock works across hosts on NFSv4 and on NFSv3 with lockd (Linux maps it to a whole-file
// POSIX lock there), and across containers sharing a directory on one host. It does not on file systems mounted
// with -o nolock, or on FUSE file systems that do not implement locking: there two hosts could write one run at
// once.
//
// Readers take no lock: every file of a run is replaced atomically and a stored row counts only once the record
// lists it, so a run can be read while another process extends it, and a finished store on read-only storage
// can be opened for reading (see Run.ReadOnly).

// lockName is the lock file in a run directory.
const lockName = "lock"

// errHeld says that another open file holds the lock.
var errHeld = errors.New("lock held")

// ErrHeld is what Store.Open's error wraps when another process (on any host sharing the store) holds the run's
// lock: it is computing that run.
var ErrHeld = errors.New("the run is being written by another process")

// HeldError is the error of opening a run another process holds: it wraps ErrHeld and names the run and what its
// lock file says of the holder ("pid 4242 on host node7 since 2026-12-06T10:00:00Z").
type HeldError struct {
	Dir, Holder string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("runs: %s: %v (%s); wait for it to finish or stop it (its lock is released when it exits, "+
		"on any host that shares the directory)", e.Dir, ErrHeld, e.Holder)
}

// Unwrap makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Unwrap() error { return ErrHeld }

// tryLock takes the lock on path without waiting long: it returns the locked file, errHeld, or another error. A
// lock held for less than a few tenths of a second (Store.Locks testing it) is waited for.
func tryLock(path string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		f, err := openLockFile(path)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				if attempt < heldRetries {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				return nil, errHeld
			}
			return nil, fmt.Errorf("locking %s: %w (does this file system support flock? see the runs package)", path, err)
		}
		// The holder before us may have removed the file between our open and our lock.
		fi, ferr := f.Stat()
		pi, perr := os.Stat(path)
		if ferr == nil && perr == nil && os.SameFile(fi, pi) {
			return f, nil
		}
		f.Close()
		if ferr != nil {
			return nil, ferr
		}
	}
}

// heldRetries is how many times tryLock tries again, 50 ms apart, before it reports a lock as held.
var heldRetries = 4

// openLockFile opens (creating) a lock file for locking; tests replace it to simulate read-only storage, which
// a test running as root cannot otherwise get.
// It never follows a symbolic link (O_NOFOLLOW): a lock file that is a link would have revsgd write its holder's
// name into whatever file the link names.
var openLockFile = func(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
}

// notALink returns an error when path is a symbolic link: nothing revsgd writes in a store follows one.
func notALink(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return fmt.Errorf("runs: %s is a symbolic link (to %s), not a file revsgd wrote: a store holds no links; "+
			"remove it", path, target)
	}
	return nil
}

// maxHolder is the most of a lock file that holder reads: revsgd writes one line there.
const maxHolder = 256

// holder describes the process that wrote a lock file ("pid 123 on host h since …"), or says it is unknown. It
// reads the file itself, never what a link names, and at most its first line of maxHolder bytes.
func holder(path string) string {
	if notALink(path) != nil {
		return "not a lock file: a symbolic link"
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "a process that has not yet written its name"
	}
	defer f.Close()
	buf := make([]byte, maxHolder)
	n, _ := f.Read(buf)
	s, _, _ := strings.Cut(string(buf[:n]), "\n")
	if s = strings.TrimSpace(strings.ToValidUTF8(s, "?")); s != "" {
		return s
	}
	return "a process that has not yet written its name"
}

// acquireLock takes the run directory's lock, or returns an error naming the process that holds it. readOnly is
// true (and the error nil) when the lock file cannot be created because the directory is not writable: the run
// can then be read but not written.
func acquireLock(dir string) (release func(), readOnly bool, err error) {
	path := filepath.Join(dir, lockName)
	if err := notALink(path); err != nil {
		return nil, false, err
	}
	f, err := tryLock(path)
	switch {
	case errors.Is(err, errHeld):
		return nil, false, &HeldError{Dir: dir, Holder: holder(path)}
	case errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission):
		// Not writable by this user: another user's process may be writing the run right now, which is what to
		// say (not that the store is read-only) — its lock file can still be read and tested.
		if BeingWritten(dir) {
			return nil, false, &HeldError{Dir: dir, Holder: holder(path) + ", as another user: this user cannot write the run"}
		}
		return nil, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("runs: %w", err)
	}
	host, _ := os.Hostname()
	me := fmt.Sprintf("pid %d on host %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(me), 0) // only informative: a failure to write it does not weaken the lock
	}
	return func() {
		os.Remove(path) // while still holding it: see tryLock
		f.Close()
	}, false, nil
}

// Lock is a lock file found in a store.
type Lock struct {
	// Run is the run directory the lock file is in; Holder what the file says about its process.
	Run, Holder string
	// Held says whether a live process holds it. A lock file that is not held was left by a process that was
	// killed; it is harmless (the next writer takes it) and ClearLocks removes it.
	Held bool
}

// BeingWritten reports whether a live process holds the lock of the run directory dir: its files may then be
// mid-write (a reader that finds them incomplete should look again later rather than call the run damaged).
func BeingWritten(dir string) bool {
	path := filepath.Join(dir, lockName)
	if notALink(path) != nil {
		return false
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}

// Locks lists the lock files in the store, held or not. A store root that is a symbolic link is followed (the
// user named it); nothing below it is.
func (s *Store) Locks() ([]Lock, error) {
	var locks []Lock
	root, err := filepath.EvalSymlinks(s.Root)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != lockName {
			return nil
		}
		l := Lock{Run: filepath.Dir(path), Holder: holder(path)}
		if notALink(path) != nil {
			locks = append(locks, l) // listed as what it is; never opened
			return nil
		}
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); {
		case errors.Is(err, syscall.EWOULDBLOCK):
			l.Held = true
		case err != nil:
			return fmt.Errorf("testing the lock %s: %w", path, err)
		}
		locks = append(locks, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("runs: listing the locks of %s: %w", s.Root, err)
	}
	return locks, nil
}

// ClearLocks removes the lock files of the store that no process holds (left by killed processes) and returns
// the run directories they were in. Held locks are left alone; removing one is safe even while a writer starts.
func (s *Store) ClearLocks() ([]string, error) {
	locks, err := s.Locks()
	if err != nil {
		return nil, err
	}
	var cleared []string
	for _, l := range locks {
		if l.Held {
			continue
		}
		path := filepath.Join(l.Run, lockName)
		if notALink(path) != nil { // a link, not a lock: remove the link (never what it names)
			if err := os.Remove(path); err != nil {
				return cleared, fmt.Errorf("runs: %w", err)
			}
			cleared = append(cleared, l.Run)
			continue
		}
		f, err := tryLock(path)
		if errors.Is(err, errHeld) {
			continue // taken since we looked
		}
		if err != nil {
			return cleared, fmt.Errorf("runs: %w", err)
		}
		os.Remove(f.Name())
		f.Close()
		cleared = append(cleared, l.Run)
	}
	return cleared, nil
}
