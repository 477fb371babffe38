package figures

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/backend/backendtest"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
)

// undecided are the predicted claims whose verdict at quick scale is not a sure "holds", each with the least
// number of its seeds (of 5) that must lie inside the prediction and the reason; every other predicted claim must
// hold (Claim.Verdict: a sign test over the seeds, or the interval of a number measured over all seeds at once).
// None of them may fail.
var undecided = quickUndecided()

// leastOf5 is a claim's least count of seeds inside its prediction, with the reason.
type leastOf5 struct {
	inside int
	reason string
}

// quickUndecided: the claims that the seeds at quick scale do not settle the same way on every machine.
//
// The convnets (cifar10-resnet18, cifar10-vgg, cifar100-resnet, adamw's ResNet) start after 1 000 or 3 000 warm-up
// steps, and a run of that length amplifies the last bits of XLA's CPU code into another draw of the noise: the
// same commit (b73b58f), plugin and settings gave cifar10-vgg's test-loss change ratio 0.224 on the machine that
// drew the gallery and 0.464 (seeds 0.31–0.72) on another 2-core x86 machine of this project a day later, where
// the test accuracy's ratio had one seed above 1 (1.27). Every claim of theirs holds 5 of 5 on one machine and 4 of
// 5 on another, so the test asks the seeds' majority, which a convnet whose backward iterates do not settle
// (ratios around 1) fails. AdamW's MLP has one seed of five above 1 (1.06 and 1.07 for the changes of the training
// and test loss, 1.85 for the roughness of the test loss). lr-sweep's small learning rates leave the curves still
// descending at N (trend share 1.00 at h ≤ 0.008, forward's test loss near ln 10 up to h = 0.0025): nothing about
// settling can show there, the ratios sit at 1.00 ± 0.01, and any count of seeds may fall below 1 but not none.
func quickUndecided() map[string]leastOf5 {
	out := map[string]leastOf5{
		"adamw/mlp/backward/train-loss-change-ratio":          {4, "one seed of five above 1 (1.06)"},
		"adamw/mlp/backward/test-loss-change-ratio":           {4, "one seed of five above 1 (1.07)"},
		"adamw/mlp/backward/test-loss-roughness-ratio":        {4, "one seed of five above 1 (1.85)"},
		"lr-sweep/h=0.008/backward/train-loss-change-ratio":   {1, "still descending at N"},
		"lr-sweep/h=0.008/backward/test-loss-change-ratio":    {1, "still descending at N"},
		"lr-sweep/h=0.008/backward/test-loss-roughness-ratio": {1, "still descending at N"},
		"lr-sweep/h=0.025/backward/train-loss-change-ratio":   {3, "3 of 5 seeds below 1"},
	}
	for _, h := range []string{"0.00025", "0.0008", "0.0025"} {
		for _, m := range []string{"train-loss-change", "test-loss-change", "test-accuracy-change", "test-loss-roughness"} {
			out["lr-sweep/h="+h+"/backward/"+m+"-ratio"] = leastOf5{1, "still descending at N, test loss near ln 10"}
		}
	}
	for _, part := range []string{"cifar10-resnet18/", "cifar10-vgg/", "cifar100-resnet/", "adamw/resnet18/"} {
		for _, m := range []string{"test-loss-change", "test-accuracy-change", "test-loss-roughness", "train-loss-change"} {
			out[part+"backward/"+m+"-ratio"] = leastOf5{3, "a convnet after a long warm-up: its seeds differ between machines"}
		}
	}
	return out
}

// ClaimsEnvVar asks for TestClaims: set it to 1.
const ClaimsEnvVar = "REVSGD_CLAIMS"

// TestClaims runs every figure at quick scale and asserts the verdict of every predicted claim: "holds", apart
// from those listed as undecided above (whose seeds inside the prediction must reach the count given there, with
// no failure).
//
// The spread over seeds behind each margin, at quick scale on XLA's CPU plugin (per-seed values are in the
// claim files, results/figures/ID.json):
//   - quadratic: backward step-decay rate 0.899–0.900 per seed (predicted 0.9 ± 0.005); forward step floor
//     0.98–1.03 of its closed form (± 0.15); θ_N variances 0.97 and 0.98 of the exact one (± 0.15, 3.3 standard
//     errors for 1000 seeds).
//   - regression-mlp: backward ÷ forward change of the test loss 0.015–0.039 per seed (mean 0.028, < 1).
//   - fashion-mlp (600 steps): change ratios of the training loss 0.16–0.36 per seed (mean 0.27), test loss
//     0.12–0.30 (0.22), test accuracy 0.10–0.32 (0.20).
//   - intermittent (warm start): change ratios 0.10–0.66 per seed; within-window decline, intermittent ÷ forward,
//     0.15–0.45; late movement of θ in a window, intermittent ÷ forward, 0.80–0.90.
//   - late-switch: change ratios after the switch 0.11–0.33 per seed.
//   - stationary: p-values 0.73–1 for the equal laws (> 0.01), < 1e-6 against the wrong law (< 0.01).
//   - lie-bracket: slopes 1.84, 2.90, 2.83 (predicted 2, 3, 3, ± 0.3 for the next-order terms over h ∈ [0.003, 0.1]);
//     at h = 0.003 the second-order correction leaves 0.023 of the gap (< 1), at h = 0.1 still 0.91.
//   - cifar10-resnet18 (warm start, 5 seeds), on the machine that drew the gallery: change ratios of the training
//     loss 0.33, test loss 0.34, roughness 0.30, every seed below 1; cifar10-vgg 0.29, 0.22, 0.16 likewise;
//     adamw's ResNet 0.38, 0.29, 0.28. On another machine cifar10-vgg gave 0.45, 0.46, 0.47 (quickUndecided).
//   - lr-sweep at h = 0.025: test-loss change ratio 0.71 and roughness ratio 0.15, every seed below 1.
//
// It runs only when asked, with REVSGD_CLAIMS=1 (ClaimsEnvVar; scripts/test.sh sets it), so that a plain
// `go test ./...` stays within go test's default timeout. Runs are kept in $REVSGD_RESULTS/runs when that is set
// (scripts/test.sh sets it, after the notebooks have stored every run, so this test only re-plots them), else in a
// temporary directory (computed afresh: give go test -timeout 60m).
func TestClaims(t *testing.T) {
	if os.Getenv(ClaimsEnvVar) != "1" || testing.Short() {
		t.Skipf("TestClaims runs every figure at quick scale: run it with %s=1 (scripts/test.sh does, on the runs the notebooks stored)", ClaimsEnvVar)
	}
	results := os.Getenv(ResultsEnvVar)
	if results == "" {
		results = t.TempDir()
	}
	runner := experiment.Runner{Backend: backendtest.Default(t), Store: &runs.Store{Root: filepath.Join(results, "runs")}}
	seen := map[string]bool{}
	for _, id := range IDs() {
		t.Run(id, func(t *testing.T) {
			f, err := New(id, Quick)
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.Run(context.Background(), runner)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Claims) == 0 {
				t.Fatal("no claims")
			}
			predicted := 0
			for _, c := range o.Claims {
				key := id + "/" + c.ID
				least, unsure := undecided[key]
				if !c.predicted() {
					if unsure {
						t.Errorf("%s is listed as undecided but carries no prediction", key)
					}
					continue
				}
				predicted++
				seen[key] = true
				got := c.Verdict()
				switch {
				case !unsure && got != Holds:
					t.Errorf("%s: %s = %.4g (seeds %.3g), predicted %s: %s, want holds", key, c.Statement, c.Value,
						c.PerSeed, c.Prediction(), c.verdictText())
				case unsure && (got == Fails || c.SeedsInside() < least.inside):
					t.Errorf("%s: %s = %.4g (seeds %.3g), predicted %s: %s, want at least %d of %d seeds inside and "+
						"no failure (%s)", key, c.Statement, c.Value, c.PerSeed, c.Prediction(), c.verdictText(),
						least.inside, len(c.PerSeed), least.reason)
				case unsure:
					t.Logf("%s: %s (at least %d wanted: %s)", key, c.verdictText(), least.inside, least.reason)
				}
			}
			if predicted == 0 {
				t.Error("no claim carries a prediction")
			}
		})
	}
	for key := range undecided {
		if !seen[key] {
			t.Errorf("%s is listed as undecided but names no predicted claim of any figure", key)
		}
	}
}

// A claim survives its JSON file: value, per-seed values, interval (infinite ends included) and NaN.
func TestClaimJSONRoundTrip(t *testing.T) {
	in := []Claim{
		below("a", "ratio", 0.5, 1).perSeed([]float64{0.4, math.NaN()}),
		within("b", "rate", 0.9, 0.895, 0.905),
		reported("c", "spread", math.NaN()),
		above("d", "p", 0.3, 0.01),
	}
	b, err := json.Marshal(&ClaimsFile{Figure: "x", Claims: in})
	if err != nil {
		t.Fatal(err)
	}
	var out ClaimsFile
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i, c := range out.Claims {
		w := in[i]
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if c.ID != w.ID || !same(c.Value, w.Value) || !same(c.Lo, w.Lo) || !same(c.Hi, w.Hi) ||
			c.Prediction() != w.Prediction() || c.Verdict() != w.Verdict() || len(c.PerSeed) != len(w.PerSeed) {
			t.Errorf("claim %d: wrote %+v, read %+v", i, w, c)
		}
	}
	if !strings.Contains(string(b), `"verdict":"holds"`) || !strings.Contains(string(b), `"verdict":"inconclusive","seeds_inside":1`) ||
		!strings.Contains(string(b), `"value":"NaN"`) {
		t.Errorf("JSON lacks the verdicts, the seed count or the NaN string: %s", b)
	}
	if c := below("e", "x", math.NaN(), 1); c.Holds() {
		t.Error("a NaN value holds a prediction")
	}
}

// The verdict rule: a one-sided sign test over the seeds at the 5% level (with the value over all seeds in the
// interval for "holds"); a number measured over all seeds at once holds inside its interval and fails outside.
func TestVerdicts(t *testing.T) {
	seeds := func(inside, outside int) []float64 {
		var out []float64
		for range inside {
			out = append(out, 0.5)
		}
		for range outside {
			out = append(out, 2)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		claim Claim
		want  Verdict
	}{
		{"5 of 5 seeds (P = 1/32)", below("a", "", 0.6, 1).perSeed(seeds(5, 0)), Holds},
		{"4 of 5 seeds (P = 6/32)", below("a", "", 0.8, 1).perSeed(seeds(4, 1)), Inconclusive},
		{"0 of 5 seeds", below("a", "", 2, 1).perSeed(seeds(0, 5)), Fails},
		{"2 of 2 seeds: too few to tell", below("a", "", 0.5, 1).perSeed(seeds(2, 0)), Inconclusive},
		{"0 of 2 seeds: too few to tell", below("a", "", 2, 1).perSeed(seeds(0, 2)), Inconclusive},
		{"7 of 8 seeds (P = 9/256)", below("a", "", 0.7, 1).perSeed(seeds(7, 1)), Holds},
		{"6 of 8 seeds (P = 37/256)", below("a", "", 0.8, 1).perSeed(seeds(6, 2)), Inconclusive},
		{"5 of 5 seeds but the mean outside", below("a", "", 1.2, 1).perSeed(seeds(5, 0)), Inconclusive},
		{"a NaN seed counts as outside", below("a", "", 0.6, 1).perSeed(append(seeds(4, 0), math.NaN())), Inconclusive},
		{"over all seeds, inside", within("b", "", 1.01, 0.85, 1.15), Holds},
		{"over all seeds, outside", within("b", "", 1.2, 0.85, 1.15), Fails},
		{"over all seeds, NaN", above("b", "", math.NaN(), 0.01), Fails},
		{"reported", reported("c", "", 3), ""},
	} {
		if got := c.claim.Verdict(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := below("a", "", 0.8, 1).perSeed(seeds(4, 1)).verdictText(); got != "inconclusive (4 of 5 seeds)" {
		t.Errorf("verdict text %q", got)
	}
}

// The reading counts the verdicts and says why two seeds cannot decide a claim.
func TestReadingFollowsTheVerdicts(t *testing.T) {
	r := Reading([]Claim{
		below("a", "ratio A", 0.5, 1).perSeed([]float64{0.4, 0.6}),
		below("b", "ratio B", 0.5, 1).perSeed([]float64{0.4, 0.6, 0.5, 0.3, 0.2}),
		reported("c", "spread", 3),
	})
	for _, want := range []string{"of 2 predicted numbers, 1 hold, 1 are inconclusive and 0 fail",
		"does not show its claim", "ratio A: 0.5, predicted < 1: **inconclusive (2 of 2 seeds)** — 2 seeds cannot decide it",
		"ratio B: 0.5, predicted < 1: **holds (5 of 5 seeds)**"} {
		if !strings.Contains(r, want) {
			t.Errorf("the reading lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "spread") {
		t.Errorf("the reading quotes a number without a prediction:\n%s", r)
	}
}
