// Package repotest checks the repository's files against each other.
package repotest

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func read(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile("../../" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// find returns the first submatch of pattern in text, failing the test when there is none.
func find(t *testing.T, text, pattern, what string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s: no match for %q", what, pattern)
	}
	return m[1]
}

// The versions the Dockerfile pins are those of scripts/setup.sh and go.mod, so they cannot drift apart.
func TestDockerfilePinsMatchSetupAndGoMod(t *testing.T) {
	docker, setup, gomod := read(t, "Dockerfile"), read(t, "scripts/setup.sh"), read(t, "go.mod")
	for _, name := range []string{"GONB_VERSION", "GOIMPORTS_VERSION", "GOPLS_VERSION"} {
		d := find(t, docker, `(?m)^ARG `+name+`=(\S+)`, "Dockerfile "+name)
		s := find(t, setup, `(?m)^`+name+`=(\S+)`, "setup.sh "+name)
		if d != s {
			t.Errorf("%s: Dockerfile %s, scripts/setup.sh %s", name, d, s)
		}
	}
	goVersion := find(t, docker, `(?m)^ARG GO_VERSION=(\S+)`, "Dockerfile GO_VERSION")
	if mod := find(t, gomod, `(?m)^go (\S+)`, "go.mod go directive"); mod != goVersion {
		t.Errorf("Go: Dockerfile %s, go.mod %s", goVersion, mod)
	}
	gonb := find(t, docker, `(?m)^ARG GONB_VERSION=(\S+)`, "Dockerfile GONB_VERSION")
	if mod := find(t, gomod, `github.com/janpfeifer/gonb (\S+)`, "go.mod gonb"); mod != gonb {
		t.Errorf("GoNB: Dockerfile %s, go.mod %s", gonb, mod)
	}
	if !strings.Contains(docker, "bash scripts/setup.sh") {
		t.Error("the Dockerfile does not run scripts/setup.sh, so their steps can drift")
	}
	// JupyterLab and the Python tools are pinned once, in scripts/setup.sh, which the Dockerfile runs; the image
	// must not install another Jupyter beside them.
	for _, name := range []string{"JUPYTERLAB_VERSION", "NBCONVERT_VERSION", "NBCLIENT_VERSION"} {
		if v := find(t, setup, `(?m)^`+name+`=(\d+\.\d+\.\d+)$`, "setup.sh "+name); v == "" {
			t.Errorf("setup.sh pins no %s", name)
		}
	}
	if strings.Contains(docker, "pip install") || !strings.Contains(docker, "/revsgd/tools/jupyter/bin") {
		t.Error("the Dockerfile installs its own Python packages or does not use setup.sh's tools/jupyter")
	}
}
