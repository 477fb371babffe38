package backend

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CPUPlugin is the XLA CPU PJRT plugin revsgd installs and runs on, pinned: a wheel on the Python package index,
// fetched by pip and checked against its hash, from which one file is taken.
//
// Three wheels there carry a PJRT CPU plugin (BENCHMARKS.md compares them, scripts/cpu-plugins.sh): xla-cpu-pjrt 0.0.1 (PJRT API 0.81,
// older than the 0.104 that go-xla v0.4.1 is built against), fastatomstruct-xla-cpu 2026.6.23 (API 0.106) and
// lammps-jax-pjrt-cpu 0.11.2 (API 0.115, XLA of jaxlib 0.11.2). The last is the newest, the fastest on the
// FashionMNIST MLP's update maps, and the only one of the three that passes the replay engine's determinism tests
// (with the others a replica's bits changed with its group; docs/benchmarks/xla-cpu-plugins-2026-12-06.txt).
var CPUPlugin = PluginWheel{
	Package: "lammps-jax-pjrt-cpu",
	Version: "0.11.2",
	Wheel:   "lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl",
	SHA256:  "1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1",
	Member:  "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so",
	Name:    "pjrt_c_api_cpu_plugin.so",
}

// PluginWheel pins a PJRT plugin shipped in a Python wheel.
type PluginWheel struct {
	// Package and Version name the wheel on the package index, Wheel its file name, SHA256 its hash.
	Package, Version, Wheel, SHA256 string
	// Member is the plugin's path inside the wheel; Name is the file name it is installed under (go-xla finds
	// plugins named pjrt_c_api_<platform>_plugin.so).
	Member, Name string
}

// String names the pinned wheel as pip does, e.g. "lammps-jax-pjrt-cpu==0.11.2".
func (w PluginWheel) String() string { return w.Package + "==" + w.Version }

// stampSuffix names the file written beside an installed plugin: it records the wheel the plugin came from and
// the plugin's own hash, so that a later install sees it is current and a run's identity can name it.
const stampSuffix = ".revsgd"

// stamp is the content of the stamp file of a plugin installed from w whose file hashes to sum.
func (w PluginWheel) stamp(sum string) string { return w.String() + " " + sum + "\n" }

// InstallFromWheel installs the plugin of w into dir (created if needed) as dir/w.Name, unless the plugin there
// is already this one. pip (python3 -m pip, or $REVSGD_PIP) downloads the wheel from the package index it is
// configured for, checking its hash; the plugin file is then copied out and renamed into place, so a reader
// never sees half a plugin. It returns the plugin's path.
func (w PluginWheel) InstallFromWheel(dir string, log io.Writer) (string, error) {
	dst := filepath.Join(dir, w.Name)
	if w.Installed(dst) {
		fmt.Fprintf(log, "revsgd: %s is %s, already installed\n", dst, w)
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	scratch, err := os.MkdirTemp(dir, ".wheel-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	requirements := filepath.Join(scratch, "requirements.txt")
	if err := os.WriteFile(requirements, []byte(w.String()+" --hash=sha256:"+w.SHA256+"\n"), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "revsgd: downloading %s (about 60 MB) with pip\n", w)
	pip := pipCommand("download", "--no-deps", "--only-binary=:all:", "--require-hashes", "--disable-pip-version-check",
		"--quiet", "-d", scratch, "-r", requirements)
	var out bytes.Buffer
	pip.Stdout, pip.Stderr = &out, &out
	if err := pip.Run(); err != nil {
		return "", fmt.Errorf("pip could not download %s (%v): %s; it needs Python 3 with pip and access to the "+
			"Python package index (a proxy or mirror is taken from pip's own configuration)", w, err,
			strings.TrimSpace(out.String()))
	}
	wheel := filepath.Join(scratch, w.Wheel)
	if err := checkSHA256(wheel, w.SHA256); err != nil { // pip checked it too; this is the installer's own check
		return "", err
	}
	tmp := filepath.Join(scratch, w.Name)
	sum, err := extract(wheel, w.Member, tmp)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", err
	}
	if err := os.WriteFile(dst+stampSuffix, []byte(w.stamp(sum)), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "revsgd: installed %s from %s\n", dst, w)
	return dst, nil
}

// Installed reports whether the plugin at path is the one of w: its stamp names w and its file still has the
// hash the stamp records.
func (w PluginWheel) Installed(path string) bool {
	stamp, err := os.ReadFile(path + stampSuffix)
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stamp))
	return len(fields) == 2 && fields[0] == w.String() && checkSHA256(path, fields[1]) == nil
}

// PluginOrigin returns what the stamp beside an installed plugin says it is ("lammps-jax-pjrt-cpu==0.11.2"), or ""
// for a plugin revsgd did not install.
func PluginOrigin(path string) string {
	stamp, err := os.ReadFile(path + stampSuffix)
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(stamp))
	if len(fields) != 2 {
		return ""
	}
	return fields[0]
}

// pipCommand runs pip: $REVSGD_PIP (a command line, e.g. "tools/jupyter/bin/pip") or python3 -m pip.
func pipCommand(args ...string) *exec.Cmd {
	if custom := strings.Fields(os.Getenv("REVSGD_PIP")); len(custom) > 0 {
		return exec.Command(custom[0], append(custom[1:], args...)...)
	}
	return exec.Command("python3", append([]string{"-m", "pip"}, args...)...)
}

// checkSHA256 checks a file's hash.
func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s has SHA-256 %s, expected %s: delete it and install again", path, got, want)
	}
	return nil
}

// extract copies one member of a zip archive (a wheel) to dst, executable, and returns its SHA-256.
func extract(archive, member, dst string) (string, error) {
	z, err := zip.OpenReader(archive)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", archive, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != member {
			continue
		}
		h := sha256.New()
		if err := copyMember(f, dst, os.O_TRUNC, 0o755, h); err != nil {
			return "", fmt.Errorf("extracting %s from %s: %w", member, archive, err)
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	return "", errors.New(archive + " has no " + member)
}

// copyMember writes one zip member to dst (opened with flag added to O_CREATE|O_WRONLY, and the given
// permissions) and to also. The size is the archive's own record, checked by the zip reader as it inflates: a
// member that inflates to more is an error, not a full disk.
func copyMember(f *zip.File, dst string, flag int, perm os.FileMode, also io.Writer) error {
	src, err := f.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|flag, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.MultiWriter(out, also), src); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
