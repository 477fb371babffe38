package figures

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// entry is a figure's line in the catalogue: where it is in the paper, what it shows, and the claims quoted in
// the README's gallery.
type entry struct {
	paper, data, model, shows string
	// headline are the IDs of the claims the README's gallery quotes; an ID also matches the claims whose ID
	// ends in "/" and it (e.g. "test-loss-change-ratio" matches "switch-s100/test-loss-change-ratio").
	headline []string
}

// catalogueOrder is the order of the figures in the documents: the paper's argument, from the quadratic to the
// networks, the variants, and the theory's checks.
var catalogueOrder = []string{"quadratic", "regression-mlp", "fashion-mlp", "cifar10-resnet18", "cifar10-vgg",
	"cifar100-resnet", "lr-sweep", "intermittent", "late-switch", "adamw", "lie-bracket", "stationary", "baselines", "stopping"}

// catalogue describes every figure; its settings at each scale are the figure's Settings, its numbers are in the
// gallery's ID.json.
var catalogue = map[string]entry{
	"quadratic": {"§3.1", "synthetic noise ε ~ N(0, σ²)", "the quadratic ½‖θ − ε_i‖² in d = 1 and d = 10",
		"per seed, forward iterates oscillate while backward iterates settle; backward step sizes |θ_{n+1} − θ_n| " +
			"decay like (1−h)^n while forward ones stay at a floor of order hσ; θ_N of forward and backward both " +
			"follow the exact stationary law N(0, hσ²/(2−h))",
		[]string{"backward/step-decay-rate", "forward/step-floor-ratio", "backward/variance-ratio"}},
	"regression-mlp": {"first experiment", "synthetic teacher regression", "MLP 8-32-32-1 (tanh)",
		"per-seed losses at batch size 1: the same loss level, but backward curves stop moving between " +
			"evaluations; each backward seed settles on its own point, so the spread across seeds is not smaller",
		[]string{"backward/test-loss-change-ratio", "forward/test-loss-spread", "backward/test-loss-spread"}},
	"fashion-mlp": {"FashionMNIST experiments", "FashionMNIST", "MLP 784-256-256-10 (ReLU)",
		"per-seed training loss, test loss and test accuracy at batch size 8: forward curves keep fluctuating, " +
			"backward curves move less and less",
		[]string{"backward/test-loss-change-ratio", "backward/test-accuracy-change-ratio"}},
	"cifar10-resnet18": {"Fig. 2", "CIFAR-10 (or its stand-in)", "ResNet-18",
		"per seed (not averaged): backward curves have lower variance and settle",
		[]string{"backward/test-loss-change-ratio", "backward/test-accuracy-change-ratio"}},
	"cifar10-vgg": {"VGG experiments", "CIFAR-10 (or its stand-in)", "VGG-11",
		"as cifar10-resnet18, with a VGG",
		[]string{"backward/test-loss-change-ratio", "backward/test-accuracy-change-ratio"}},
	"cifar100-resnet": {"CIFAR-100 experiments", "CIFAR-100 (or its stand-in)", "ResNet-18 (v1; ResNet-50 in v2)",
		"as cifar10-resnet18, with 100 classes",
		[]string{"backward/test-loss-change-ratio", "backward/test-accuracy-change-ratio"}},
	"lr-sweep": {"FashionMNIST experiments (learning rates)", "FashionMNIST", "MLP 784-256-256-10 (ReLU)",
		"fashion-mlp over the paper's range of h (0.00025 to 0.025): against h, the late fluctuation of the test loss " +
			"per order, the change and roughness ratios backward ÷ forward, and the test accuracy at N; at small h the " +
			"curves are still descending at N, and the trend share says so",
		[]string{"h=0.025/backward/test-loss-change-ratio", "h=0.0025/backward/test-loss-change-ratio",
			"h=0.00025/backward/test-loss-change-ratio"}},
	"intermittent": {"Fig. 3", "FashionMNIST", "MLP 784-256-256-10",
		"backward composition restarted every W steps from the iterate at the reset: within each window the " +
			"curves settle on a point and move on at each reset, while forward keeps oscillating; in parameter space, " +
			"late in each window θ moves less than forward's, and the points the windows end on lie among forward's " +
			"iterates (a projection on forward's two principal directions)",
		[]string{"test-loss-change-ratio", "window-decline-ratio", "late-movement-ratio"}},
	"late-switch": {"Fig. 11", "FashionMNIST", "MLP 784-256-256-10",
		"forward to half-way, then backward from the iterate there: identical up to the switch, stable after it",
		[]string{"test-loss-change-ratio"}},
	"adamw": {"App. A.5", "FashionMNIST; CIFAR-10 (or its stand-in)", "MLP; ResNet-18",
		"the same comparison with AdamW (every replay starts with fresh optimizer state)",
		[]string{"mlp/backward/test-loss-change-ratio", "resnet18/backward/test-loss-change-ratio"}},
	"lie-bracket": {"App. C", "synthetic teacher regression; FashionMNIST", "small tanh MLPs",
		"the forward/backward gap shrinks like h², the error of the second-order Lie-bracket correction like h³ " +
			"(so does a linearised backward composition, beyond the paper); along a trajectory at a practical h, where " +
			"h·|λ_max| of the batch Hessians at θ_0 is near 2, the corrections stop helping",
		[]string{"gap-slope", "second-order-slope", "sweep/second-order-share-small-h", "sweep/h-sharpness-max",
			"trajectory/second-order-share-last",
			"trajectory/h-sharpness-max"}},
	"stationary": {"Thm 2.6", "synthetic quadratic and linear regression", "—",
		"backward limit points follow the forward stationary law (and, on the quadratic, the exact one): " +
			"two-sample tests do not tell them apart, while the same test rejects a wrong law",
		[]string{"quadratic/ks-backward-forward", "quadratic/ks-backward-wrong-law", "linear/energy"}},
	"baselines": {"beyond the paper", "synthetic quadratic and linear regression; FashionMNIST", "—; MLP 784-256-256-10",
		"backward SGD against forward SGD with an EMA or a tail average of its iterates and with a cosine or step " +
			"learning-rate decay, on the same seeds and batches: every method's mean and variance across seeds on the " +
			"quadratic match their closed forms; averages concentrate on the stationary mean while backward iterates " +
			"keep the stationary law's spread",
		[]string{"quadratic/tail/variance-vs-backward", "quadratic/backward/variance-vs-stationary",
			"linear/tail/spread-vs-backward", "mlp/backward/test-loss-change-ratio", "mlp/ema/test-loss-change-ratio"}},
	"stopping": {"beyond the paper (its open question)", "synthetic teacher regression; FashionMNIST",
		"MLP 8-32-32-1; MLP 784-256-256-10",
		"a stopping rule from backward curves, which needs no held-out data: stop when the changes of the backward " +
			"training loss between evaluations have become small relative to the loss (they tend to 0, forward ones " +
			"stay at the noise level); compared seed by seed with early stopping of forward SGD on a validation set: " +
			"the step chosen, the test loss there, the cost",
		[]string{"regression/backward-stops", "regression/forward-false-stops", "regression/test-loss-ratio",
			"mlp/backward-stops", "mlp/test-loss-ratio", "mlp/cost-ratio"}},
}

// ReadClaimsFile reads a figure's ID.json from dir.
func ReadClaimsFile(dir, id string) (*ClaimsFile, error) {
	path := filepath.Join(dir, id+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ClaimsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("figures: %s: %w", path, err)
	}
	return &f, nil
}

// GalleryDir is where a gallery (docs/gallery) keeps the images and claims files of a scale: quick ones in it,
// paper ones in its subdirectory paper.
func GalleryDir(gallery string, s Scale) string {
	if s == Paper {
		return filepath.Join(gallery, string(Paper))
	}
	return gallery
}

// galleryName is the repository path of a gallery file of a figure at a scale, e.g. docs/gallery/paper/ID.png.
func galleryName(s Scale, id, ext string) string {
	return filepath.ToSlash(filepath.Join(GalleryDir("docs/gallery", s), id+ext))
}

// readGallery reads the claims file of figure id at scale s in the gallery: nil without error when it has none,
// an error when the file is of another figure or scale than its place says.
func readGallery(gallery, id string, s Scale) (*ClaimsFile, error) {
	f, err := ReadClaimsFile(GalleryDir(gallery, s), id)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case f.Figure != id || f.Scale != s:
		return nil, fmt.Errorf("figures: %s holds figure %s at scale %s, not %s at %s", galleryName(s, id, ".json"),
			f.Figure, f.Scale, id, s)
	}
	return f, nil
}

// provenance says where a gallery file's numbers come from: file, backend, library version, the parts of a
// composite, stand-in data, and what the run cost.
func (f *ClaimsFile) provenance() string {
	s := fmt.Sprintf("%s: backend %s", galleryName(f.Scale, f.Figure, ".json"), f.Backend)
	if f.Version != "" {
		s += ", revsgd " + f.Version
	}
	if len(f.Parts) > 0 {
		s += ", parts " + strings.Join(f.Parts, ", ")
	}
	if f.Title != "" {
		s += "; " + f.Title
	}
	if f.Cost != nil {
		s += "; run time " + f.Cost.String()
	}
	return s
}

// Catalogue writes docs/figures.md: the definitions, and for every figure what it shows, its settings at both
// scales, and its claim's numbers at each scale as measured in the gallery's claims files (GalleryDir of dir).
func Catalogue(dir string) (string, error) {
	var b strings.Builder
	b.WriteString(catalogueIntro)
	b.WriteString("\n| id (notebook) | paper | data | model | what it shows |\n|---|---|---|---|---|\n")
	for _, id := range catalogueOrder {
		e := catalogue[id]
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", id, id, e.paper, e.data, e.model, e.shows)
	}
	for _, id := range catalogueOrder {
		e := catalogue[id]
		fmt.Fprintf(&b, "\n## %s\n\n%s. Paper: %s. Notebook: [notebooks/%s.ipynb](../notebooks/%s.ipynb).\n\n", id,
			upperFirst(e.shows), e.paper, id, id)
		for _, s := range []Scale{Quick, Paper} {
			f, err := New(id, s)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "**Scale %s.** %s\n\n", s, oneParagraph(f.Settings()))
			measured, err := readGallery(dir, id, s)
			switch {
			case err != nil:
				return "", err
			case measured == nil:
				fmt.Fprintf(&b, "Not in the gallery at this scale.\n\n")
			default:
				fmt.Fprintf(&b, "**Measured at scale %s** (%s):\n\n%s\n", s, measured.provenance(), ClaimsTable(measured.Claims))
			}
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// Gallery writes the README's gallery: each figure's image with a sentence that quotes its headline numbers from
// the gallery's ID.json files in dir.
func Gallery(dir string) (string, error) {
	var b strings.Builder
	for _, id := range catalogueOrder {
		e := catalogue[id]
		f, err := readGallery(dir, id, Paper)
		if err == nil && f == nil {
			f, err = readGallery(dir, id, Quick)
		}
		if err != nil {
			return "", err
		}
		if f == nil {
			return "", fmt.Errorf("figures: the gallery has no %s (scripts/update-gallery.sh copies it from a reproduction)",
				galleryName(Quick, id, ".json"))
		}
		var quoted []string
		for _, c := range f.Claims {
			for _, h := range e.headline {
				if c.ID == h || strings.HasSuffix(c.ID, "/"+h) {
					quoted = append(quoted, c.sentence())
				}
			}
		}
		data := ""
		if f.Title != "" {
			data = ", " + strings.TrimPrefix(f.Title, id+" ")
		}
		scale := "scale " + string(f.Scale)
		if len(f.Parts) > 0 {
			scale += fmt.Sprintf(" for its part %s only (all parts at quick scale in [docs/figures.md](docs/figures.md#%s))",
				strings.Join(f.Parts, ", "), id)
		}
		fmt.Fprintf(&b, "**%s** (%s, backend %s%s) — %s. Measured: %s.\n![%s](%s)\n\n", id,
			scale, f.Backend, data, e.shows, strings.Join(quoted, "; "), id, galleryName(f.Scale, id, ".png"))
	}
	return b.String(), nil
}

// sentence quotes a claim: its statement, value, and prediction with its verdict.
func (c Claim) sentence() string {
	s := fmt.Sprintf("%s: %.3g", c.Statement, c.Value)
	if p := c.Prediction(); p != "" {
		v := c.verdictText()
		if c.Verdict() != Holds {
			v = "**" + v + "**"
		}
		s += fmt.Sprintf(" (predicted %s: %s)", p, v)
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func oneParagraph(s string) string { return strings.Join(strings.Fields(s), " ") }

const catalogueIntro = `# Figure catalogue

What the notebooks reproduce from *Training in reverse: How iteration order influences convergence and stability
in deep learning* (Dherin, Avelin, Karlsson, Mazzawi, Gonzalvo, Munn; arXiv 2502.01557; v2 retitled *How iteration
composition influences convergence and stability in deep learning*, TMLR 2025). The authors published no code;
where the paper's settings are unknown, revsgd's choice is stated in the figure's settings below and kept in one
place in code (` + "`pkg/figures`" + `, one file per figure). Each figure runs at two scales: *quick* (the same
code path, small enough for two CPU cores and the pure-Go backend; what the tests run) and *paper* (the paper's
settings, meant for XLA on a GPU; those of the FashionMNIST MLP and the synthetic problems also fit two CPU cores:
` + "`scripts/reproduce.sh paper-cpu`" + `).

This file is generated by ` + "`go run ./cmd/revsgd catalogue`" + ` from the figures' settings and from the numbers
in docs/gallery/ID.json (quick scale) and docs/gallery/paper/ID.json (paper scale), which
` + "`scripts/update-gallery.sh`" + ` copies beside each gallery image from a reproduction; a test checks that it
is up to date. Each measurement names its run: backend, revsgd version, and its *run time* — the wall time of the
figure's run on the machine's cores as recorded in its claims file (` + "`figures.Cost`" + `). A run that read some
of its runs back from the run store (shared with another figure, or left by an interrupted run) says how many; its
time is then less than the figure's whole cost. ` + "`scripts/reproduce.sh paper-cpu`" + ` runs two figures at
once on two cores, so its times are those of a figure sharing the machine with another. Each number is a *claim*: what it measures, the value measured, and, where the paper or a closed
form predicts one, the predicted interval and a verdict. Numbers without a prediction are reported whichever way
they go.

## Verdicts

A predicted claim is judged *holds*, *fails* or *inconclusive* by its seeds, never by one mean
(` + "`figures.Claim.Verdict`" + `):

- A number measured seed by seed (a change ratio: each seed's backward curve against the same seed's forward
  curve) is judged by a one-sided sign test over its n seeds. With k seeds whose own value lies in the predicted
  interval, it *holds* when k that large has probability at most 5% by chance (P(X ≥ k) ≤ 0.05 for
  X ~ Binomial(n, ½)) and the value over all seeds lies in the interval too; it *fails* when the n − k seeds
  outside are that many; otherwise it is *inconclusive*. So 5 of 5 seeds, 6 of 6, 7 of 8 or 8 of 10 hold; with
  fewer than 5 seeds nothing can hold or fail: 2 seeds that agree are inconclusive.
- A number measured once over all seeds (a variance or a p-value across seeds, a fitted slope) carries its
  statistical margin in its interval, justified where the claim is made (e.g. ±3.3 standard errors of a
  variance): inside, it *holds*; outside, it *fails*.

The tables give each verdict with its seed count, e.g. "holds (5 of 5 seeds)"; the predicted numbers whose
verdict is not *holds* are listed under each table.

## How much a curve moves

- *Change ratio*: the mean |L_k − L_{k−1}| between consecutive evaluations over the late window (the second half,
  or after the last reset or switch), backward ÷ forward, seed by seed (` + "`analysis.ChangeRatio`" + `). A curve
  that still descends moves too, so this ratio counts descent as movement.
- *Roughness ratio*: the mean |L_{k+1} − 2L_k + L_{k−1}| over the same window, backward ÷ forward
  (` + "`analysis.RoughnessRatio`" + `): a straight descent has no second differences, so it measures the
  fluctuation around the trend. Both are predicted below 1.
- *Trend share*: |L_last − L_first| ÷ Σ|L_k − L_{k−1}| over the window (` + "`analysis.TrendShare`" + `): 1 for a
  curve that only descends, near 0 for one that moves back and forth around a level. When it exceeds one half,
  a change ratio that does not hold says so: the curves are still learning, not yet where the paper's contraction
  argument applies.
- The paper's other claims, reported beside them: the test loss at N, backward ÷ forward (faster convergence:
  below 1), and the test accuracy at N with its spread across seeds (no loss of generalisation).

## Definitions

- Update map of batch B_i at learning rate h: T_i(θ) = θ − h ∇L_{B_i}(θ).
- Forward SGD (ordinary SGD): θ_n = T_n ∘ T_{n−1} ∘ … ∘ T_1(θ_0).
- Backward SGD: θ_n = T_1 ∘ T_2 ∘ … ∘ T_n(θ_0). Each evaluated step restarts from θ_0 and applies the newest
  batch B_n first and B_1 last, so step n costs n update maps and a curve evaluated at every step to N costs
  N(N+1)/2. What is stored is the batches (indices and the sampler's seed), not gradients: each T_i is
  re-applied at a new point.
- With an optimizer that has state (AdamW, momentum), every replay starts from θ_0 with fresh optimizer state and
  runs the optimizer over B_n, B_{n−1}, …, B_1 (the paper's exact rule is not known; this is revsgd's).
- Intermittent backward: reset points t_0 = 0 < t_1 < …; after the reset at t_k,
  θ_n = T_{t_k+1} ∘ … ∘ T_n(θ_{t_k}), the backward composition of the batches since the last reset, started from
  the iterate at the reset.
- Late switch: forward SGD to step s, then the backward composition of the batches after s from θ_s (the
  intermittent rule with one reset).
- Second-order (Lie-bracket) correction:
  θ_n^bwd = θ_n^fwd + h² Σ_{i<j} (H_i ∇L_j − H_j ∇L_i)(θ_0) + O(h³), H_i the Hessian of L_{B_i}.
- Quadratic model (§3.1): L_i(θ) = ½(θ − ε_i)², ε_i i.i.d. N(0, σ²), so T_i(θ) = (1−h)θ + hε_i and
  forward θ_n = (1−h)^n θ_0 + h Σ_k (1−h)^{n−k} ε_k, backward θ_n = (1−h)^n θ_0 + h Σ_k (1−h)^{k−1} ε_k.
  The forward stationary variance is hσ²/(2−h); the backward limit θ* = h Σ_k (1−h)^{k−1} ε_k has that same law
  (Theorem 2.6); backward steps θ_{n+1} − θ_n = h(1−h)^n (ε_{n+1} − θ_0) decay like (1−h)^n.
- *Settling*, as measured: the mean change of a curve (training loss, test loss, test accuracy) between
  consecutive evaluations over the late part of the run, one order divided by forward. Below 1 means the order's
  curves move less. This is a statement about each seed's curve over time; the spread across seeds at the end is
  a different quantity (backward seeds settle on different points) and is reported separately.

## Figures
`

// Markers of the generated gallery in README.md.
const (
	galleryBegin = "<!-- gallery: begin (generated by go run ./cmd/revsgd catalogue) -->"
	galleryEnd   = "<!-- gallery: end -->"
)

// Docs returns the generated documents of the repository at root, path (relative to root) → content: the
// catalogue docs/figures.md, and README.md with its gallery between the markers regenerated. Both are made from
// the figures' settings and the claim files in docs/gallery.
func Docs(root string) (map[string]string, error) {
	gallery := filepath.Join(root, "docs", "gallery")
	cat, err := Catalogue(gallery)
	if err != nil {
		return nil, err
	}
	block, err := Gallery(gallery)
	if err != nil {
		return nil, err
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return nil, err
	}
	text := string(readme)
	begin, end := strings.Index(text, galleryBegin), strings.Index(text, galleryEnd)
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("figures: README.md has no gallery between %q and %q", galleryBegin, galleryEnd)
	}
	text = text[:begin+len(galleryBegin)] + "\n\n" + block + text[end:]
	return map[string]string{filepath.Join("docs", "figures.md"): cat, "README.md": text}, nil
}
