package runs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockName is the lock file in a run directory. It holds "PID STARTTIME HOST" of the process writing the run.
const lockName = "lock"

// acquireLock takes the run directory's lock, or returns an error naming the process that holds it. A lock left by
// a process of this host that no longer runs (killed, crashed) is taken over.
func acquireLock(dir string) (release func(), err error) {
	path := filepath.Join(dir, lockName)
	host, _ := os.Hostname()
	me := fmt.Sprintf("%d %s %s\n", os.Getpid(), processStart(os.Getpid()), host)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(me)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("runs: writing lock %s: %v %v", path, werr, cerr)
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("runs: %w", err)
		}
		raw, _ := os.ReadFile(path)
		fields := strings.Fields(string(raw))
		if len(fields) == 3 && fields[2] == host {
			pid, _ := strconv.Atoi(fields[0])
			if pid > 0 && (!alive(pid) || processStart(pid) != fields[1]) {
				os.Remove(path) // stale: its process is gone
				continue
			}
		}
		who := strings.TrimSpace(string(raw))
		return nil, fmt.Errorf("runs: %s is being written by another process (pid, start time, host: %s); wait for "+
			"it to finish or stop it. If that process is gone (e.g. on another host), delete %s", dir, who, path)
	}
	return nil, fmt.Errorf("runs: could not take the lock %s", path)
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processStart returns the start time of a process (field 22 of /proc/PID/stat), to tell a live process from a
// new one that reused a dead one's pid; "-" where /proc is unavailable.
func processStart(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "-"
	}
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 19 {
			return f[19]
		}
	}
	return "-"
}
