package backend

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CUDAPluginVersion is the version of JAX's CUDA 13 PJRT plugin (jax-cuda13-pjrt) that InstallXLA installs with
// cuda set, with the NVIDIA libraries its companion jax-cuda13-plugin[with-cuda] requires; it is the one revsgd's
// GPU numbers were measured with (BENCHMARKS.md).
const CUDAPluginVersion = "0.11.2"

// cudaPluginName is the file name go-xla looks for under go-xla/nvidia; cudaPluginMember is the plugin's path in
// the jax-cuda13-pjrt wheel.
const (
	cudaPluginName   = "pjrt_c_api_cuda_plugin.so"
	cudaPluginMember = "jax_plugins/xla_cuda13/xla_cuda_plugin.so"
)

// cudaWheelTags are the platform tags pip may pick wheels for: the CUDA wheels are for Linux on x86-64 with glibc
// 2.17 to 2.28 (tagged variously), and pip, told a platform, takes only the tags it is given.
var cudaWheelTags = []string{"manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_24_x86_64",
	"manylinux_2_25_x86_64", "manylinux_2_26_x86_64", "manylinux_2_27_x86_64", "manylinux_2_28_x86_64"}

// installCUDA installs the CUDA PJRT plugin and the NVIDIA libraries it loads into dir/nvidia, in the layout
// go-xla's own installer makes (the plugin as nvidia/pjrt_c_api_cuda_plugin.so, each NVIDIA wheel's nvidia/ tree
// beside it, nvidia/bin/ptxas, and links to cuBLAS beside dir), unless that version is installed there. pip
// downloads the wheels (about 3 GB) from the package index it is configured for, resolving the NVIDIA libraries'
// versions as pip does; it is told the platform, so this works on any machine, with or without a GPU (building an
// image). The tree is assembled beside dir/nvidia and renamed into place, so a reader never sees half of it.
func installCUDA(dir string, log io.Writer) error {
	nvidia := filepath.Join(dir, "nvidia")
	want := "jax-cuda13-pjrt==" + CUDAPluginVersion
	if stamp, err := os.ReadFile(filepath.Join(nvidia, cudaPluginName+stampSuffix)); err == nil &&
		strings.HasPrefix(string(stamp), want+" ") {
		fmt.Fprintf(log, "revsgd: %s is %s, already installed\n", filepath.Join(nvidia, cudaPluginName), want)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(dir, ".cuda-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	wheels := filepath.Join(scratch, "wheels")
	if err := os.MkdirAll(wheels, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(log, "revsgd: downloading %s and the NVIDIA libraries (about 3 GB) with pip\n", want)
	args := []string{"download", "--only-binary=:all:", "--disable-pip-version-check", "--quiet",
		"--python-version", "3.12", "--implementation", "cp", "-d", wheels}
	for _, tag := range cudaWheelTags {
		args = append(args, "--platform", tag)
	}
	pip := pipCommand(append(args, "jax-cuda13-plugin[with-cuda]=="+CUDAPluginVersion)...)
	var out bytes.Buffer
	pip.Stdout, pip.Stderr = &out, &out
	if err := pip.Run(); err != nil {
		return fmt.Errorf("pip could not download %s with its NVIDIA libraries (%v): %s; it needs Python 3 with pip "+
			"and access to the Python package index (a proxy or mirror is taken from pip's own configuration)",
			want, err, strings.TrimSpace(out.String()))
	}
	tree := filepath.Join(scratch, "nvidia")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		return err
	}
	found, err := filepath.Glob(filepath.Join(wheels, "*.whl"))
	if err != nil {
		return err
	}
	var plugin string
	for _, wheel := range found {
		base := filepath.Base(wheel)
		switch {
		case strings.HasPrefix(base, "jax_cuda13_pjrt-"):
			plugin = wheel
		case strings.HasPrefix(base, "nvidia_"):
			if err := extractTree(wheel, "nvidia/", tree); err != nil {
				return err
			}
		}
	}
	if plugin == "" {
		return fmt.Errorf("pip downloaded no jax-cuda13-pjrt wheel for %s (got %d wheels)", want, len(found))
	}
	sum, err := extract(plugin, cudaPluginMember, filepath.Join(tree, cudaPluginName))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tree, "bin"), 0o755); err != nil {
		return err
	}
	// XLA runs ptxas from nvidia/bin; go-xla links it there, to the absolute path of the installed tree.
	if err := os.Symlink(filepath.Join(nvidia, "cu13", "bin", "ptxas"), filepath.Join(tree, "bin", "ptxas")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tree, cudaPluginName+stampSuffix), []byte(want+" "+sum+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(nvidia); err != nil {
		return err
	}
	if err := os.Rename(tree, nvidia); err != nil {
		return err
	}
	// The plugin loads cuBLAS from the library directory above go-xla, as go-xla's installer arranges.
	lib := filepath.Dir(dir)
	for _, name := range []string{"libcublasLt.so.13", "libcublas.so.13"} {
		link := filepath.Join(lib, name)
		if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.Symlink(filepath.Join(".", filepath.Base(dir), "nvidia", "cu13", "lib", name), link); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "revsgd: installed %s from %s with its NVIDIA libraries\n", filepath.Join(nvidia, cudaPluginName), want)
	return nil
}

// extractTree copies the regular files of a zip archive (a wheel) under prefix into dir, keeping their paths below
// prefix and their executable bits. A member whose path would leave dir is an error.
func extractTree(archive, prefix, dir string) error {
	z, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("opening %s: %w", archive, err)
	}
	defer z.Close()
	for _, f := range z.File {
		rel, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || rel == "" || strings.HasSuffix(f.Name, "/") || !f.Mode().IsRegular() {
			continue
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("%s: member %q leaves the directory it is extracted to", archive, f.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		// Each name once (O_EXCL): a wheel that lists a member twice, or two wheels that ship one file, is an error.
		if err := copyMember(f, dst, os.O_EXCL, f.Mode().Perm()|0o600, io.Discard); err != nil {
			return fmt.Errorf("extracting %s from %s: %w", f.Name, archive, err)
		}
	}
	return nil
}
