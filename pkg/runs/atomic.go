package runs

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeAtomic writes data to a temporary file beside path, syncs it and renames it over path: readers see the old
// file or the new one, never a half-written one, even if the process is killed. (The directory is not synced: a
// power loss may undo the last renames, which leaves an earlier, complete state.)
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("runs: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("runs: syncing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("runs: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	return nil
}
