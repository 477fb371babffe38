package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/figures"
	"github.com/revsgd/revsgd/pkg/runs"
)

// Bad overrides of `revsgd figure` are refused with what was wrong, before anything is computed (they were
// silently ignored: -steps -5 ran the defaults).
func TestFigureOverridesAreChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"figure", "-steps", "-5", "-seeds", "1", "fashion-mlp"}, "-steps must be a positive"},
		{[]string{"figure", "-every", "5", "quadratic"}, "quadratic: the evaluation interval cannot be overridden"},
		{[]string{"figure", "-orders", "forward", "stationary"}, "stationary: the composition orders cannot be overridden"},
		{[]string{"figure", "-every", "0", "fashion-mlp"}, "-every must be a positive"},
		{[]string{"figure", "-seeds", "-1", "fashion-mlp"}, "-seeds must be between 1 and 10000"},
		{[]string{"figure", "-seeds", "1000000000", "fashion-mlp"}, "-seeds must be between 1 and 10000"},
		{[]string{"figure", "-steps", "10", "-every", "20", "fashion-mlp"}, "exceeds the 10 steps"},
		{[]string{"figure", "-orders", " ", "fashion-mlp"}, "-orders is empty"},
		{[]string{"figure", "-orders", "forward,sideways", "fashion-mlp"}, "unknown composition order"},
		{[]string{"figure", "-parts", "mlp", "fashion-mlp"}, "fashion-mlp is not made of parts"},
		{[]string{"figure", "-parts", "vgg", "adamw"}, `adamw has no part "vgg"; its parts are mlp, resnet18`},
	} {
		err := run(append(c.args[:1:1], append([]string{"-runs", "", "-out", t.TempDir()}, c.args[1:]...)...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

// -parts keeps the named parts of a composite figure: its settings, claims file and cost are those of that part.
func TestFigureParts(t *testing.T) {
	c, err := parseFigureCommand([]string{"-scale", "paper", "-parts", "mlp", "adamw"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	composite := c.figs[0].(*figures.Composite)
	if len(composite.Parts) != 1 || composite.Keys[0] != "mlp" || composite.Parts[0].Model.Name() != "mlp-784-256-256-10-relu" {
		t.Fatalf("-parts mlp kept %v (%d parts)", composite.Keys, len(composite.Parts))
	}
	if s := composite.Settings(); strings.Contains(s, "ResNet") || !strings.Contains(s, "MLP, FashionMNIST") {
		t.Errorf("the settings of the MLP part alone name another part or miss it:\n%s", s)
	}
}

// `revsgd store locks` lists a store's lock files and, with -clear, removes those left by killed processes.
func TestStoreLocks(t *testing.T) {
	root := t.TempDir()
	s := &runs.Store{Root: root}
	cfg := runs.Config{Library: "test", Problem: runs.ProblemConfig{Name: "toy", Model: "point-1",
		Params: []runs.ParamConfig{{Name: "theta", Dims: []int{1}}}, Loss: "half-squared-error", TrainSHA256: "a"},
		Order: runs.OrderConfig{Name: "forward"}, Rule: runs.RuleConfig{Name: "sgd", Hyper: map[string]float64{"learning_rate": 0.1}},
		Seed: 1, Steps: 2, BatchSize: 1, Sampling: "shuffled", Evaluated: []int{2}, DType: "float64", Backend: "go"}
	held, err := s.Open(cfg, []int32{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg.Seed = 2
	left, err := s.Open(cfg, []int32{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	left.Close()
	if err := os.WriteFile(filepath.Join(left.Dir(), "lock"), []byte("pid 9 on host gone since 2026-01-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := storeCmd([]string{"locks", "-clear", root}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{held.Dir() + ": held — pid", left.Dir() + ": left by a stopped process", "2 lock files, 1 held", "cleared 1 lock files"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(left.Dir(), "lock")); !os.IsNotExist(err) {
		t.Errorf("the left lock file is still there: %v", err)
	}
	if err := storeCmd([]string{"locks", filepath.Join(root, "nothing")}, &out); err == nil || !strings.Contains(err.Error(), "not a run store") {
		t.Errorf("missing store: %v", err)
	}
}

// `revsgd figure` runs on XLA's CPU plugin with the default -devices (one host device) and over 2 and 3 host
// devices, with the same claims: the same settings, backend and verdicts, and the same values to within 1e-3
// relative. Not bit for bit: on an AMD EPYC with two cores, one backward seed's test loss at one step came out one
// float32 ulp apart with -devices 3 (1.7420721 against 1.7420720; the training losses, and the code before the
// claims file recorded costs, the same), which the roughness ratio — a ratio of second differences of the loss —
// amplifies to 6e-5 relative. The iterates themselves are compared bit for bit by
// pkg/experiment's TestDevicesGiveTheSameRuns.
func TestFigureOnXLADevices(t *testing.T) {
	backendtest.XLACPU(t, 1) // skips, or fails under REVSGD_REQUIRE_XLA, without the plugin
	t.Setenv(backend.EnvVar, "xla:cpu")
	var first *figures.ClaimsFile
	for _, devices := range []string{"0", "2", "3"} {
		out := t.TempDir()
		args := []string{"figure", "-runs", "", "-out", out, "-devices", devices, "-steps", "40", "-every", "10",
			"-seeds", "2", "fashion-mlp"}
		if err := run(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		file, err := figures.ReadClaimsFile(out, "fashion-mlp")
		if err != nil {
			t.Fatal(err)
		}
		if file.Cost == nil || file.Cost.Runs != 4 || file.Cost.Stored != 0 || file.Cost.Maps == 0 {
			t.Errorf("-devices %s: the cost of a run from scratch: %+v, want 4 runs computed", devices, file.Cost)
		}
		if !strings.HasPrefix(file.Backend, "xla/cpu/") {
			t.Fatalf("-devices %s: the claims do not name XLA's CPU plugin as the backend: %q", devices, file.Backend)
		}
		if first == nil {
			first = file
			continue
		}
		if file.Settings != first.Settings || file.Backend != first.Backend || len(file.Claims) != len(first.Claims) {
			t.Fatalf("-devices %s: settings, backend or claims differ from one device's", devices)
		}
		for i, c := range file.Claims {
			want := first.Claims[i]
			values, wantValues := append([]float64{c.Value}, c.PerSeed...), append([]float64{want.Value}, want.PerSeed...)
			for k := range values {
				if len(values) != len(wantValues) || math.Abs(values[k]-wantValues[k]) > 1e-3*math.Abs(wantValues[k]) {
					t.Errorf("-devices %s: %s = %v, one device %v", devices, c.ID, values, wantValues)
					break
				}
			}
			if c.Verdict() != want.Verdict() {
				t.Errorf("-devices %s: %s is judged %q, on one device %q", devices, c.ID, c.Verdict(), want.Verdict())
			}
		}
	}
}

// store pack and unpack say what they need when it is missing, and round-trip a store.
func TestStorePackAndUnpackCommands(t *testing.T) {
	var out bytes.Buffer
	root := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pack", root}, "needs -o FILE"},
		{[]string{"pack", "-o", filepath.Join(root, "a.tgz"), filepath.Join(root, "nothing")}, "not a run store"},
		{[]string{"unpack", "-into", root}, "needs the archive"},
		{[]string{"shelve"}, "unknown store command"},
	} {
		if err := storeCmd(c.args, &out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("store %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	store := filepath.Join(root, "runs")
	run := filepath.Join(store, "p", "forward", "seed-1-abc")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"config.json": "{}", "batches.npy": "b", "theta0.npy": "big"} {
		if err := os.WriteFile(filepath.Join(run, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(root, "store.tgz")
	if err := storeCmd([]string{"pack", "-o", archive, store}, &out); err != nil {
		t.Fatal(err)
	}
	into := filepath.Join(root, "elsewhere")
	if err := storeCmd([]string{"unpack", "-into", into, archive}, &out); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(into, "p", "forward", "seed-1-abc")
	if b, err := os.ReadFile(filepath.Join(moved, "config.json")); err != nil || string(b) != "{}" {
		t.Errorf("config.json unpacked as %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(moved, "theta0.npy")); err == nil {
		t.Error("θ_0 travelled in the archive")
	}
}

// An -out directory that cannot be written is refused before any run is computed.
func TestUnwritableOutIsRefusedFirst(t *testing.T) {
	err := figureCmd([]string{"-runs", "", "-out", "/proc/revsgd", "fashion-mlp"})
	if err == nil || !strings.Contains(err.Error(), "-out /proc/revsgd") {
		t.Errorf("%v, want an error naming -out", err)
	}
}
