package backend

import (
	"archive/zip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeWheel writes a zip archive (a wheel) at dir/name holding the given members, each with its content and mode.
func writeWheel(t *testing.T, dir, name string, members map[string]string, modes map[string]fs.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for m, content := range members {
		h := &zip.FileHeader{Name: m, Method: zip.Deflate}
		h.SetMode(0o644)
		if mode, ok := modes[m]; ok {
			h.SetMode(mode)
		}
		w, err := z.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// The CUDA plugin and its NVIDIA libraries come through pip (told the platform, so that a machine without a GPU
// can build an image) and are laid out as go-xla's installer does: the plugin as go-xla/nvidia/
// pjrt_c_api_cuda_plugin.so, each NVIDIA wheel's nvidia/ tree beside it, nvidia/bin/ptxas and cuBLAS linked; a
// second install downloads nothing; a wheel whose member would leave the tree is refused and the install is left
// as it was.
func TestInstallCUDA(t *testing.T) {
	src := t.TempDir()
	wheels := []string{
		writeWheel(t, src, "jax_cuda13_pjrt-0.11.2-py3-none-manylinux_2_27_x86_64.whl",
			map[string]string{cudaPluginMember: "cuda plugin", "jax_cuda13_pjrt-0.11.2.dist-info/METADATA": "m"}, nil),
		writeWheel(t, src, "jax_cuda13_plugin-0.11.2-cp312-cp312-manylinux_2_27_x86_64.whl",
			map[string]string{"jax_cuda13_plugin/_linalg.so": "not taken"}, nil),
		writeWheel(t, src, "nvidia_cublas-13.8.2.12-py3-none-manylinux_2_27_x86_64.whl",
			map[string]string{"nvidia/cu13/lib/libcublas.so.13": "cublas", "nvidia/cu13/lib/libcublasLt.so.13": "cublasLt",
				"nvidia_cublas-13.8.2.12.dist-info/METADATA": "m"}, nil),
		writeWheel(t, src, "nvidia_cuda_nvcc-13.0.48-py3-none-manylinux_2_27_x86_64.whl",
			map[string]string{"nvidia/cu13/bin/ptxas": "ptxas"}, map[string]fs.FileMode{"nvidia/cu13/bin/ptxas": 0o755}),
	}
	log := fakePip(t, wheels...)
	lib := t.TempDir()
	dir := filepath.Join(lib, "go-xla")
	var out strings.Builder
	if err := installCUDA(dir, &out); err != nil {
		t.Fatal(err)
	}
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path) // follows links
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	nvidia := filepath.Join(dir, "nvidia")
	for path, want := range map[string]string{
		filepath.Join(nvidia, cudaPluginName):             "cuda plugin",
		filepath.Join(nvidia, "cu13/lib/libcublas.so.13"): "cublas",
		filepath.Join(nvidia, "bin/ptxas"):                "ptxas",
		filepath.Join(lib, "libcublasLt.so.13"):           "cublasLt",
		filepath.Join(lib, "libcublas.so.13"):             "cublas",
	} {
		if got := read(path); got != want {
			t.Errorf("%s holds %q, want %q", path, got, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(nvidia, "bin/ptxas")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("ptxas is not executable: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(nvidia, "_linalg.so")); err == nil {
		t.Error("the jax-cuda13-plugin wheel's files were installed; only its requirements are wanted")
	}
	args := read(log)
	for _, want := range []string{"jax-cuda13-plugin[with-cuda]==" + CUDAPluginVersion, "--platform manylinux_2_27_x86_64",
		"--only-binary=:all:"} {
		if !strings.Contains(args, want) {
			t.Errorf("pip was called with %q, missing %q", args, want)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".cuda-*")); len(leftovers) > 0 {
		t.Errorf("scratch left behind: %v", leftovers)
	}

	// Installed: nothing is downloaded again.
	out.Reset()
	if err := installCUDA(dir, &out); err != nil {
		t.Fatal(err)
	}
	if again := read(log); again != args || !strings.Contains(out.String(), "already installed") {
		t.Errorf("a second install called pip again (%q) or did not say so (%q)", again, out.String())
	}

	// A newer version is wanted (the stamp names another): a wheel escaping the tree is refused, the installed
	// tree stays.
	stamp := filepath.Join(nvidia, cudaPluginName+stampSuffix)
	if err := os.WriteFile(stamp, []byte("jax-cuda13-pjrt==0.0.1 x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evil := writeWheel(t, t.TempDir(), "nvidia_evil-1-py3-none-any.whl", map[string]string{"nvidia/../../escaped": "x"}, nil)
	fakePip(t, append(wheels, evil)...)
	err := installCUDA(dir, &out)
	if err == nil || !strings.Contains(err.Error(), "leaves the directory") {
		t.Fatalf("a wheel member leaving the tree: %v, want refused", err)
	}
	if got := read(filepath.Join(nvidia, cudaPluginName)); got != "cuda plugin" {
		t.Errorf("the refused install changed the installed plugin: %q", got)
	}
	if _, err := os.Stat(filepath.Join(lib, "escaped")); err == nil {
		t.Error("a member was written outside the tree")
	}
}

// Without pip the CUDA install says what it needs.
func TestInstallCUDAWithoutPipSaysWhatIsNeeded(t *testing.T) {
	t.Setenv("REVSGD_PIP", filepath.Join(t.TempDir(), "no-such-pip"))
	err := installCUDA(filepath.Join(t.TempDir(), "go-xla"), &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "Python package index") {
		t.Fatalf("got %v, want an error naming what pip needs", err)
	}
}
