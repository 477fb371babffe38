package backend

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeWheel writes a wheel holding one plugin file and returns its path, hash and the plugin's content.
func fakeWheel(t *testing.T, dir, name, member string) (path, sum string, content []byte) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	content = []byte("\x7fELF not really a plugin")
	for _, m := range []string{"other/file.txt", member} {
		w, err := z.Create(m)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(content)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(h[:]), content
}

// fakePip installs a pip (REVSGD_PIP) that "downloads" by copying the given wheels into the -d directory, and
// logs its arguments.
func fakePip(t *testing.T, wheels ...string) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "args")
	script := filepath.Join(dir, "pip")
	body := "#!/bin/sh\necho \"$@\" >> " + log + "\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -d ]; then mkdir -p \"$2\"; cp " +
		strings.Join(wheels, " ") + " \"$2\"/; fi; shift; done\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REVSGD_PIP", script)
	return log
}

// The CPU plugin is taken from its wheel through pip, with the pinned hash required, copied out under the name
// go-xla looks for, stamped; a second install sees it current and downloads nothing; a changed plugin file is
// installed again; a wheel with another hash is refused and leaves nothing behind.
func TestInstallFromWheel(t *testing.T) {
	src := t.TempDir()
	wheelPath, sum, content := fakeWheel(t, src, "toy_plugin-1.0-py3-none-any.whl", "toy_plugin/libtoy.so")
	w := PluginWheel{Package: "toy-plugin", Version: "1.0", Wheel: filepath.Base(wheelPath), SHA256: sum,
		Member: "toy_plugin/libtoy.so", Name: "pjrt_c_api_cpu_plugin.so"}
	log := fakePip(t, wheelPath)
	dir := filepath.Join(t.TempDir(), "go-xla")
	var out bytes.Buffer
	got, err := w.InstallFromWheel(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); filepath.Base(got) != w.Name || !bytes.Equal(b, content) {
		t.Fatalf("installed %s with %q", got, b)
	}
	if !w.Installed(got) || PluginOrigin(got) != "toy-plugin==1.0" {
		t.Errorf("the stamp does not say the plugin is toy-plugin==1.0 (origin %q)", PluginOrigin(got))
	}
	args, _ := os.ReadFile(log)
	for _, want := range []string{"download", "--no-deps", "--require-hashes"} {
		if !strings.Contains(string(args), want) {
			t.Errorf("pip was called with %q, without %s", args, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the install directory holds %d entries, want the plugin and its stamp", len(entries))
	}

	os.Remove(log)
	if _, err := w.InstallFromWheel(dir, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("pip ran again for an installed plugin")
	}
	if err := os.WriteFile(got, []byte("changed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if w.Installed(got) {
		t.Error("a changed plugin file passes as installed")
	}
	if _, err := w.InstallFromWheel(dir, &out); err != nil || !w.Installed(got) {
		t.Errorf("reinstalling a changed plugin: %v", err)
	}

	bad := w
	bad.SHA256 = strings.Repeat("0", 64)
	other := filepath.Join(t.TempDir(), "go-xla")
	if _, err := bad.InstallFromWheel(other, &out); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("a wheel with another hash: %v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("a refused wheel left %d entries behind", len(entries))
	}
}

// Without pip, or without access to the package index, the error says what is needed.
func TestInstallWithoutPipSaysWhatIsNeeded(t *testing.T) {
	t.Setenv("REVSGD_PIP", filepath.Join(t.TempDir(), "no-such-pip"))
	_, err := CPUPlugin.InstallFromWheel(t.TempDir(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "pip") || !strings.Contains(err.Error(), CPUPlugin.String()) {
		t.Errorf("error %v does not name pip and the wheel", err)
	}
}
