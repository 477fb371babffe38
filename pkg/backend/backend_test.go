package backend

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestUnknownBackendIsAnErrorNotAPanic(t *testing.T) {
	_, err := choose("tpu-magic", lookupFrom(map[string]string{EnvVar: "tpu-magic"}))
	if err == nil {
		t.Fatal("no error for an unknown backend")
	}
	for _, want := range []string{`unknown backend "tpu-magic"`, "go", EnvVar + "=go"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestExplicitGoBackend(t *testing.T) {
	c, err := choose("go", lookupFrom(map[string]string{EnvVar: "go"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != GoName || !strings.Contains(c.Reason, EnvVar) {
		t.Errorf("got %+v", c)
	}
}

// Without GOMLX_BACKEND the choice falls back to the pure-Go backend when no PJRT plugin is installed, and says
// how to get XLA. (Where a plugin is installed it must pick XLA instead.)
func TestDefaultChoiceNeverCrashes(t *testing.T) {
	c, err := choose("", lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	line := c.String()
	switch c.Name() {
	case GoName:
		if !strings.Contains(line, "install-xla") {
			t.Errorf("the go backend's line %q does not say how to get XLA", line)
		}
	case XLAName:
		if !xlaCompiledIn {
			t.Error("XLA chosen in a noxla build")
		}
	default:
		t.Errorf("unexpected backend %q", c.Name())
	}
	if xlaCompiledIn && os.Getenv("REVSGD_REQUIRE_XLA") == "1" && !strings.HasPrefix(Identity(c.Backend), "xla/cpu/"+CPUPlugin.String()) {
		t.Errorf("scripts/setup.sh installed %s, yet the default choice is %s", CPUPlugin, line)
	}
}

// Asking for XLA where no plugin is installed fails with advice, and downloads nothing. Where a plugin is
// installed, the test runs again in a process that searches an empty plugin directory (go-xla reads
// PJRT_PLUGIN_LIBRARY_PATH when it starts).
func TestExplicitXLAWithoutPluginGivesAdvice(t *testing.T) {
	if xlaCompiledIn && os.Getenv("PJRT_PLUGIN_LIBRARY_PATH") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestExplicitXLAWithoutPluginGivesAdvice$", "-test.count", "1")
		cmd.Env = append(os.Environ(), "PJRT_PLUGIN_LIBRARY_PATH="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("without plugins: %v\n%s", err, out)
		}
		return
	}
	home := t.TempDir()
	t.Setenv("HOME", home) // a download would land here
	_, err := choose("xla", lookupFrom(map[string]string{EnvVar: "xla"}))
	if err == nil {
		t.Fatal("no error for XLA without a plugin")
	}
	want := "install-xla"
	if !xlaCompiledIn {
		want = "-tags noxla"
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say how to install XLA", err)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("something was written to $HOME: %v", entries)
	}
}

func TestNewAnnouncesOneLine(t *testing.T) {
	var buf bytes.Buffer
	old := Announce
	Announce = &buf
	defer func() { Announce = old }()
	t.Setenv(EnvVar, "go")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Backend.Finalize()
	if out := buf.String(); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "revsgd: backend go") {
		t.Errorf("announcement %q is not one line naming the backend", out)
	}
}

func TestGoConfigRunsOpsSequentially(t *testing.T) {
	for options, want := range map[string]string{
		"":                             "go:ops_sequential",
		"parallelism=2":                "go:parallelism=2,ops_sequential",
		"ops_parallel":                 "go:ops_parallel",
		"ops_sequential,parallelism=1": "go:ops_sequential,parallelism=1",
	} {
		if got := GoConfig(options); got != want {
			t.Errorf("GoConfig(%q) = %q, want %q", options, got, want)
		}
	}
}
