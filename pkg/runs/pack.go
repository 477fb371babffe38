package runs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Packing a store to carry it to another machine (from a GPU machine whose time ran out, to the next one) and
// resume it there.

// PackStats says what Pack wrote and left out.
type PackStats struct {
	// Runs is the number of run directories packed; Files the number of files written; Checkpoints the number
	// of checkpoints left out.
	Runs, Files, Checkpoints int
	// Bytes is the size of the packed files before compression; LeftOut the size of the θ_0 and checkpoint
	// files left out.
	Bytes, LeftOut int64
}

// Pack writes the store's runs to w as a gzip-compressed tar archive, paths relative to the store's root, which
// Unpack (or tar -xzf) turns into a store that resumes where this one stopped. It leaves out what is large to
// carry and cheap to make again: each run's θ_0 (theta0.npy, which the run's seed draws again, or its warm-up's
// stored run gives, when the run is next opened) and the checkpoints of interrupted chains (each such chain
// is replayed from its start again; the record packed for a run that had some lists none). Everything else
// goes as it is — configuration, batch history, record, metrics, kept iterates, the start points of replays
// — so every completed step is read back, not recomputed. A run whose lock a live process holds is an error:
// pack a store that no process is writing.
func (s *Store) Pack(w io.Writer) (PackStats, error) {
	var st PackStats
	locks, err := s.Locks()
	if err != nil {
		return st, err
	}
	for _, l := range locks {
		if l.Held {
			return st, fmt.Errorf("runs: %s is being written (its lock is held by %s): pack the store once no "+
				"process writes it", l.Run, strings.TrimSpace(l.Holder))
		}
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	err = filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link: a store holds none, so it is not packed", p)
		}
		if !d.IsDir() {
			return nil
		}
		if _, err := os.Stat(filepath.Join(p, "config.json")); err != nil {
			return nil // not a run directory
		}
		rel, err := filepath.Rel(s.Root, p)
		if err != nil {
			return err
		}
		st.Runs++
		return packRun(tw, p, filepath.ToSlash(rel), &st)
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		return st, fmt.Errorf("runs: packing %s: %w", s.Root, err)
	}
	return st, nil
}

// packRun writes one run directory's files under rel.
func packRun(tw *tar.Writer, dir, rel string, st *PackStats) error {
	files := []string{"config.json", "batches.npy", "metrics.csv", "iterates.npy"}
	rec, err := readRecord(filepath.Join(dir, "record.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if rec != nil {
		for _, f := range rec.Starts {
			files = append(files, f.File)
		}
		st.Checkpoints += len(rec.Checkpoints)
		for _, f := range rec.Checkpoints {
			if info, err := os.Stat(filepath.Join(dir, f.File)); err == nil {
				st.LeftOut += info.Size()
			}
		}
		rec.Checkpoints = nil
		body, err := rec.encode()
		if err != nil {
			return err
		}
		if err := packFile(tw, path.Join(rel, "record.json"), body, st); err != nil {
			return err
		}
	}
	if info, err := os.Stat(filepath.Join(dir, initialFile)); err == nil {
		st.LeftOut += info.Size()
	}
	for _, name := range files {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && name != "config.json" && name != "batches.npy" {
			continue
		}
		if err != nil {
			return err
		}
		if err := packFile(tw, path.Join(rel, name), body, st); err != nil {
			return err
		}
	}
	return nil
}

func packFile(tw *tar.Writer, name string, body []byte, st *PackStats) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	st.Files++
	st.Bytes += int64(len(body))
	_, err := tw.Write(body)
	return err
}

// Unpack reads an archive that Pack wrote into the store. A file already in the store must be identical to the
// archive's (unpacking the same archive twice changes nothing); one that differs is an error naming it, and the
// store is left as it was up to that file. Only regular files under the store's root are written: an entry with
// an absolute path, a "..", or of another type is an error.
func (s *Store) Unpack(r io.Reader) (files int, err error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return 0, fmt.Errorf("runs: not an archive of revsgd store pack: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("runs: reading the archive: %w", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return files, fmt.Errorf("runs: the archive's entry %q is not a file under the store's root; it was not "+
				"written by revsgd store pack", h.Name)
		}
		body, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return files, fmt.Errorf("runs: reading %s from the archive: %w", h.Name, err)
		}
		dest := filepath.Join(s.Root, filepath.FromSlash(name))
		if have, err := os.ReadFile(dest); err == nil {
			if !bytes.Equal(have, body) {
				return files, fmt.Errorf("runs: %s already exists and differs from the archive's; unpack into an "+
					"empty store, or move the run away first", dest)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return files, fmt.Errorf("runs: %w", err)
		}
		if err := writeAtomic(dest, body); err != nil {
			return files, err
		}
		files++
	}
}
