package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/revsgd/revsgd/pkg/runs"
)

const storeUsage = "usage: revsgd store locks [-clear] [DIR] | revsgd store pack -o FILE [DIR] | " +
	"revsgd store unpack [-into DIR] FILE..."

// storeCmd is `revsgd store locks|pack|unpack`.
func storeCmd(args []string, w io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", storeUsage)
	}
	switch args[0] {
	case "locks":
		return locksCmd(args[1:], w)
	case "pack":
		return packCmd(args[1:], w)
	case "unpack":
		return unpackCmd(args[1:], w)
	}
	return fmt.Errorf("unknown store command %q; %s", args[0], storeUsage)
}

// storeRoot returns the store directory named by a command's arguments (default results/runs), which must exist.
func storeRoot(cmd string, fs *flag.FlagSet) (string, error) {
	root := "results/runs"
	switch fs.NArg() {
	case 0:
	case 1:
		root = fs.Arg(0)
	default:
		return "", fmt.Errorf("store %s takes one store directory, got %q", cmd, fs.Args())
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s is not a run store directory (give the directory passed to -runs)", root)
	}
	return root, nil
}

// locksCmd is `revsgd store locks [-clear] [DIR]`: it lists the lock files of a run store — held by a running
// writer, or left by one that was killed (harmless: the next writer takes it) — and with -clear removes the latter.
func locksCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("store locks", flag.ContinueOnError)
	clear := fs.Bool("clear", false, "remove the lock files no running process holds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := storeRoot("locks", fs)
	if err != nil {
		return err
	}
	s := &runs.Store{Root: root}
	locks, err := s.Locks()
	if err != nil {
		return err
	}
	held := 0
	for _, l := range locks {
		state := "left by a stopped process (harmless; -clear removes it)"
		if l.Held {
			state = "held"
			held++
		}
		fmt.Fprintf(w, "%s: %s — %s\n", l.Run, state, l.Holder)
	}
	fmt.Fprintf(w, "%s: %d lock files, %d held\n", root, len(locks), held)
	if !*clear {
		return nil
	}
	cleared, err := s.ClearLocks()
	fmt.Fprintf(w, "cleared %d lock files\n", len(cleared))
	return err
}

// packCmd is `revsgd store pack -o FILE [DIR]`: runs.Store.Pack into FILE (written whole or not at all).
func packCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("store pack", flag.ContinueOnError)
	out := fs.String("o", "", "the archive to write (a .tar.gz; split it with split -b if it must travel in parts)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("store pack needs -o FILE, the archive to write")
	}
	root, err := storeRoot("pack", fs)
	if err != nil {
		return err
	}
	tmp := *out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	st, err := (&runs.Store{Root: root}).Pack(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	info, _ := os.Stat(*out)
	fmt.Fprintf(w, "%s: %d runs, %d files, %.1f MB packed into %s (%.1f MB); left out %d checkpoints and the "+
		"θ_0s, %.1f MB, made again on resuming\n", root, st.Runs, st.Files, float64(st.Bytes)/1e6, *out,
		float64(info.Size())/1e6, st.Checkpoints, float64(st.LeftOut)/1e6)
	return nil
}

// unpackCmd is `revsgd store unpack [-into DIR] FILE...`: runs.Store.Unpack of the files read one after another
// (the parts of a split archive, in order).
func unpackCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("store unpack", flag.ContinueOnError)
	into := fs.String("into", "results/runs", "the run store to unpack into (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("store unpack needs the archive: FILE, or the parts of a split one in order")
	}
	var readers []io.Reader
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, f)
	}
	n, err := (&runs.Store{Root: *into}).Unpack(io.MultiReader(readers...))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: unpacked %d files\n", *into, n)
	return nil
}
