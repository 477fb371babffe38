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
	"github.com/revsgd/revsgd/pkg/runs"
)

// findings are the predicted claims that do not hold at quick scale, each with the reason; the figure's claim
// table and the catalogue report them, from the numbers of the run. They are not asserted either way (their
// values sit near 1 and move with the backend's rounding, e.g. with or without the SIMD kernels), but each must
// name a predicted claim of its figure; every other predicted claim must hold.
var findings = convnetFindings()

// convnetFindings: the ResNets at quick scale (width 1/16, 120 steps, 2 seeds: what two cores allow) are still in
// their learning phase at the end and their backward curves have not begun to settle. Their change ratios hover
// around 1 and move with the rounding: the same runs gave, for cifar10-resnet18, 0.95, 1.05 and 1.14 (training
// loss, test loss, test accuracy) without the pure-Go backend's SIMD kernels and 1.20 for the training loss with
// them; for cifar100-resnet the test accuracy's ratio went from 0.72 to 1.69. The VGG learns faster: its test
// accuracy's ratio stays well below 1 (0.26 without, 0.41 with the SIMD kernels; seeds 0.17–0.44) and is asserted,
// but its loss ratios moved from 0.68 and 0.46 to 0.85 and 0.91 (a seed at 1.42), too close to 1 for two seeds to
// carry: findings too.
func convnetFindings() map[string]string {
	out := map[string]string{
		"cifar10-vgg/backward/train-loss-change-ratio": "two seeds, 0.57 and 1.42 with the SIMD kernels",
		"cifar10-vgg/backward/test-loss-change-ratio":  "two seeds, 0.80 and 1.00 with the SIMD kernels",
	}
	for _, prefix := range []string{"cifar10-resnet18/backward", "cifar100-resnet/backward", "adamw/resnet18/backward"} {
		for _, m := range []string{"train-loss", "test-loss", "test-accuracy"} {
			out[prefix+"/"+m+"-change-ratio"] = "ResNet still learning at step 120: the ratio is noise around 1"
		}
	}
	return out
}

// ClaimsEnvVar asks for TestClaims: set it to 1.
const ClaimsEnvVar = "REVSGD_CLAIMS"

// TestClaims runs every figure at quick scale and asserts its claim: every predicted number lies in its predicted
// interval (apart from the findings above, which are logged), and for the change ratios — the paper's central claim, measured per
// seed — at least half of the seeds show it on their own.
//
// The spread over seeds behind each margin, at quick scale on the pure-Go backend (per-seed values are in the
// claim files, results/figures/ID.json):
//   - quadratic: backward step-decay rate 0.899–0.900 per seed (predicted 0.9 ± 0.005); forward step floor
//     0.98–1.03 of its closed form (± 0.15); θ_N variances 0.97 and 0.98 of the exact one (± 0.15, 3.3 standard
//     errors for 1000 seeds).
//   - regression-mlp: backward ÷ forward change of the test loss 0.015–0.039 per seed (mean 0.028, < 1).
//   - fashion-mlp (600 steps): change ratios of the training loss 0.16–0.36 per seed (mean 0.27), test loss
//     0.12–0.30 (0.22), test accuracy 0.10–0.32 (0.20).
//   - intermittent: change ratios 0.11–0.27 per seed; within-window decline, intermittent ÷ forward, 0.35–0.74.
//   - late-switch: change ratios after the switch 0.11–0.33 per seed.
//   - stationary: p-values 0.73–1 for the equal laws (> 0.01), < 1e-6 against the wrong law (< 0.01).
//   - lie-bracket: slopes 1.84, 2.90, 2.83 (predicted 2, 3, 3, ± 0.3 for the next-order terms over h ∈ [0.003, 0.1]);
//     at h = 0.003 the second-order correction leaves 0.023 of the gap (< 1), at h = 0.1 still 0.91.
//   - cifar10-vgg (2 seeds): test accuracy's change ratio 0.17 and 0.38 per seed without the SIMD kernels, 0.38
//     and 0.44 with them (its loss ratios are findings, below).
//   - cifar10-resnet18, cifar100-resnet, adamw's ResNet (2 seeds each): ratios near 1 either way; findings, above.
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
	env := Env{Backend: backendtest.Default(t), Store: &runs.Store{Root: filepath.Join(results, "runs")}}
	seen := map[string]bool{}
	for _, id := range IDs() {
		t.Run(id, func(t *testing.T) {
			f, err := New(id, Quick)
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.Run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Claims) == 0 {
				t.Fatal("no claims")
			}
			predicted := 0
			for _, c := range o.Claims {
				key := id + "/" + c.ID
				_, finding := findings[key]
				if !c.predicted() {
					if finding {
						t.Errorf("finding %s names a claim without a prediction", key)
					}
					continue
				}
				predicted++
				seen[key] = true
				switch {
				case finding:
					t.Logf("finding %s: %.4g, predicted %s (%s)", key, c.Value, c.Prediction(), findings[key])
				case !c.Holds():
					t.Errorf("%s: %s = %.4g, predicted %s", key, c.Statement, c.Value, c.Prediction())
				case !finding && strings.HasSuffix(c.ID, "change-ratio"):
					if n := seedsHolding(c); 2*n < len(c.PerSeed) {
						t.Errorf("%s: only %d of %d seeds show it on their own: %v", key, n, len(c.PerSeed), c.PerSeed)
					}
				}
			}
			if predicted == 0 {
				t.Error("no claim carries a prediction")
			}
		})
	}
	for key := range findings {
		if !seen[key] {
			t.Errorf("finding %s names no predicted claim of any figure", key)
		}
	}
}

// seedsHolding counts the seeds whose own value lies in the claim's predicted interval.
func seedsHolding(c Claim) int {
	n := 0
	for _, v := range c.PerSeed {
		if v > c.Lo && v < c.Hi {
			n++
		}
	}
	return n
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
			c.Prediction() != w.Prediction() || c.Holds() != w.Holds() || len(c.PerSeed) != len(w.PerSeed) {
			t.Errorf("claim %d: wrote %+v, read %+v", i, w, c)
		}
	}
	if !strings.Contains(string(b), `"holds":true`) || !strings.Contains(string(b), `"value":"NaN"`) {
		t.Errorf("JSON lacks the holds flag or the NaN string: %s", b)
	}
	if c := below("e", "x", math.NaN(), 1); c.Holds() {
		t.Error("a NaN value holds a prediction")
	}
}
