package figures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/revsgd/revsgd"
)

// Claim is one measured number behind a figure's claim: what it measures, its value and, where the paper (or a
// closed form) predicts one, the interval it should fall in. Numbers without a prediction are reported
// whichever way they go (e.g. the spread across seeds, which the paper's claim is not about).
type Claim struct {
	// ID names the number within its figure, e.g. "backward/test-loss-change-ratio".
	ID string `json:"id"`
	// Statement says in words what Value measures.
	Statement string `json:"statement"`
	// Value is the measured number; PerSeed, when it is measured seed by seed, the value of each seed.
	Value   float64   `json:"value"`
	PerSeed []float64 `json:"per_seed,omitempty"`
	// Lo and Hi bound the predicted interval (either may be infinite); both NaN means no prediction.
	Lo, Hi float64 `json:"-"`
	// Why, when set, is a measured reason the claim may not hold at these settings (e.g. that the curves are
	// still descending); Reading shows it beside a verdict other than holds.
	Why string `json:"-"`
}

// predicted reports whether c carries a prediction.
func (c Claim) predicted() bool { return !math.IsNaN(c.Lo) || !math.IsNaN(c.Hi) }

// Prediction writes the predicted interval, e.g. "< 1", "> 0.01" or "in [0.85, 1.15]"; "" when there is none.
func (c Claim) Prediction() string {
	switch {
	case !c.predicted():
		return ""
	case math.IsInf(c.Lo, -1):
		return fmt.Sprintf("< %.4g", c.Hi)
	case math.IsInf(c.Hi, 1):
		return fmt.Sprintf("> %.4g", c.Lo)
	}
	return fmt.Sprintf("in [%.4g, %.4g]", c.Lo, c.Hi)
}

// Holds reports whether Value lies in the predicted interval (false for NaN); true when there is no prediction.
// Whether the claim holds is its Verdict, which also asks the seeds.
func (c Claim) Holds() bool {
	if !c.predicted() {
		return true
	}
	return c.inside(c.Value)
}

// inside reports whether v lies in the predicted interval (false for NaN).
func (c Claim) inside(v float64) bool { return v > c.Lo && v < c.Hi }

// Verdict is what a predicted claim's seeds say: Holds, Fails or Inconclusive (docs/figures.md, "Verdicts").
type Verdict string

const (
	// Holds: the seeds show the prediction beyond chance.
	Holds Verdict = "holds"
	// Fails: the seeds show the opposite beyond chance, or a number measured over all seeds at once lies outside
	// its predicted interval.
	Fails Verdict = "fails"
	// Inconclusive: the seeds cannot tell (too few of them, or split).
	Inconclusive Verdict = "inconclusive"
)

// SignTestLevel is the one-sided level of the sign test behind a claim measured seed by seed: with fewer than 5
// seeds no count reaches it (5 of 5 has probability 1/32 by chance), so such a claim is inconclusive.
const SignTestLevel = 0.05

// Verdict judges a predicted claim ("" when it has none).
//
// A claim measured seed by seed (PerSeed) is judged by a one-sided sign test over its n seeds: with k seeds whose
// own value lies in the predicted interval, it holds when k that large is unlikely by chance (P(X ≥ k) ≤
// SignTestLevel for X ~ Binomial(n, ½)) and the value over all seeds lies in the interval too; it fails when the
// n − k seeds outside are that many; otherwise it is inconclusive. A claim measured once over all seeds (a
// variance or a p-value across seeds, a fitted slope) carries its statistical margin in its interval (each is
// justified where it is made): inside, it holds; outside, it fails.
func (c Claim) Verdict() Verdict {
	switch {
	case !c.predicted():
		return ""
	case len(c.PerSeed) == 0 && c.Holds():
		return Holds
	case len(c.PerSeed) == 0:
		return Fails
	}
	k, n := c.SeedsInside(), len(c.PerSeed)
	switch {
	case signTail(n, k) <= SignTestLevel && c.Holds():
		return Holds
	case signTail(n, n-k) <= SignTestLevel:
		return Fails
	}
	return Inconclusive
}

// SeedsInside counts the seeds whose own value lies in the predicted interval.
func (c Claim) SeedsInside() int {
	k := 0
	for _, v := range c.PerSeed {
		if c.inside(v) {
			k++
		}
	}
	return k
}

// signTail is P(X ≥ k) for X ~ Binomial(n, ½).
func signTail(n, k int) float64 {
	p, term := 0.0, math.Pow(0.5, float64(n)) // term = C(n, i)/2ⁿ, from i = 0
	for i := 0; i <= n; i++ {
		if i >= k {
			p += term
		}
		term = term * float64(n-i) / float64(i+1)
	}
	return p
}

// verdictText writes the verdict with its seed count, e.g. "holds (5 of 5 seeds)" or "inconclusive (1 of 2
// seeds)"; "" without a prediction.
func (c Claim) verdictText() string {
	v := c.Verdict()
	if v == "" || len(c.PerSeed) == 0 {
		return string(v)
	}
	return fmt.Sprintf("%s (%d of %d seeds)", v, c.SeedsInside(), len(c.PerSeed))
}

// claimJSON is a claim as JSON: numbers that JSON cannot hold (NaN, ±Inf) as strings; the prediction and the
// verdict written out for readers of the file.
type claimJSON struct {
	ID         string  `json:"id"`
	Statement  string  `json:"statement"`
	Value      any     `json:"value"`
	PerSeed    []any   `json:"per_seed,omitempty"`
	Lo         any     `json:"lo,omitempty"`
	Hi         any     `json:"hi,omitempty"`
	Prediction string  `json:"prediction,omitempty"`
	Verdict    Verdict `json:"verdict,omitempty"`
	// SeedsInside counts the seeds whose own value lies in the predicted interval.
	SeedsInside *int `json:"seeds_inside,omitempty"`
	// Why is a measured reason the claim may not hold (Claim.Why), written only when its verdict is not holds.
	Why string `json:"why,omitempty"`
}

// MarshalJSON writes the claim with its prediction and its verdict.
func (c Claim) MarshalJSON() ([]byte, error) {
	out := claimJSON{ID: c.ID, Statement: c.Statement, Value: jsonNumber(c.Value), Prediction: c.Prediction()}
	for _, v := range c.PerSeed {
		out.PerSeed = append(out.PerSeed, jsonNumber(v))
	}
	if c.predicted() {
		out.Lo, out.Hi, out.Verdict = jsonNumber(c.Lo), jsonNumber(c.Hi), c.Verdict()
		if len(c.PerSeed) > 0 {
			k := c.SeedsInside()
			out.SeedsInside = &k
		}
		if out.Verdict != Holds {
			out.Why = c.Why
		}
	}
	return marshalPlain(out)
}

// marshalPlain is json.Marshal without escaping <, > and & (the predictions read "< 1").
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Claim) UnmarshalJSON(b []byte) error {
	var in claimJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = Claim{ID: in.ID, Statement: in.Statement, Value: fromJSONNumber(in.Value), Lo: math.NaN(), Hi: math.NaN(),
		Why: in.Why}
	for _, v := range in.PerSeed {
		c.PerSeed = append(c.PerSeed, fromJSONNumber(v))
	}
	if in.Lo != nil {
		c.Lo, c.Hi = fromJSONNumber(in.Lo), fromJSONNumber(in.Hi)
	}
	return nil
}

// jsonNumber is v, or the string "NaN", "+Inf" or "-Inf", which JSON cannot hold as numbers.
func jsonNumber(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return v
}

// fromJSONNumber reads what jsonNumber writes; anything else is NaN.
func fromJSONNumber(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		switch x {
		case "+Inf":
			return math.Inf(1)
		case "-Inf":
			return math.Inf(-1)
		}
	}
	return math.NaN()
}

// below, above, within and reported build claims: Value < hi, Value > lo, lo < Value < hi, no prediction.
func below(id, statement string, value, hi float64) Claim {
	return Claim{ID: id, Statement: statement, Value: value, Lo: math.Inf(-1), Hi: hi}
}

func above(id, statement string, value, lo float64) Claim {
	return Claim{ID: id, Statement: statement, Value: value, Lo: lo, Hi: math.Inf(1)}
}

func within(id, statement string, value, lo, hi float64) Claim {
	return Claim{ID: id, Statement: statement, Value: value, Lo: lo, Hi: hi}
}

func reported(id, statement string, value float64) Claim {
	return Claim{ID: id, Statement: statement, Value: value, Lo: math.NaN(), Hi: math.NaN()}
}

// perSeed returns c with the values of each seed attached.
func (c Claim) perSeed(values []float64) Claim {
	c.PerSeed = values
	return c
}

// prefixed returns the claims with "prefix/" before each ID and "label: " before each statement (the parts of a
// composite figure).
func prefixed(prefix, label string, claims []Claim) []Claim {
	out := make([]Claim, len(claims))
	for i, c := range claims {
		c.ID, c.Statement = prefix+"/"+c.ID, label+": "+c.Statement
		out[i] = c
	}
	return out
}

// ClaimsFile is what a figure writes beside its image, ResultsDir()/figures/ID.json: the numbers behind its claim
// and the run they come from.
type ClaimsFile struct {
	Figure  string `json:"figure"`
	Scale   Scale  `json:"scale"`
	Backend string `json:"backend"`
	// Version is the revsgd library's version that computed it (revsgd.Version).
	Version string `json:"version"`
	// Parts lists the parts a composite figure ran, by their keys, when it ran only some (Composite.Only); empty
	// otherwise.
	Parts []string `json:"parts,omitempty"`
	// Settings is the figure's Settings text of the run; Title the figure's title, which names stand-in data
	// when the run used one.
	Settings string `json:"settings"`
	Title    string `json:"title,omitempty"`
	// Image is the SHA-256 of the PNG image written with it (ID.png), so that an image and its numbers can be
	// checked to come from the same run.
	Image string `json:"image_sha256,omitempty"`
	// Cost is what computing the figure took in that run, where measured (ReproduceIn).
	Cost   *Cost   `json:"cost,omitempty"`
	Claims []Claim `json:"claims"`
}

// NewClaimsFile collects the claims of an outcome of figure f, run on the named backend.
func NewClaimsFile(f Figure, scale Scale, backend string, o *Outcome) *ClaimsFile {
	file := &ClaimsFile{Figure: f.ID(), Scale: scale, Backend: backend, Version: revsgd.Version,
		Settings: f.Settings(), Title: o.Figure.Title, Cost: o.Cost, Claims: o.Claims}
	if c, ok := f.(*Composite); ok {
		if all, err := New(c.ID(), scale); err == nil && len(all.(*Composite).Keys) != len(c.Keys) {
			file.Parts = c.Keys
		}
	}
	return file
}

// Write writes the file as indented JSON to dir/ID.json and returns its path.
func (f *ClaimsFile) Write(dir string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return "", err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, f.Figure+".json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// ClaimsTable writes claims as a Markdown table: number, measured value, prediction and verdict; then the
// predicted numbers whose verdict is not "holds".
func ClaimsTable(claims []Claim) string {
	var b strings.Builder
	b.WriteString("| claim | measured | predicted | verdict |\n|---|---|---|---|\n")
	for _, c := range claims {
		verdict := "—"
		switch c.Verdict() {
		case Holds:
			verdict = c.verdictText()
		case Fails, Inconclusive:
			verdict = "**" + c.verdictText() + "**"
		}
		fmt.Fprintf(&b, "| %s | %.4g | %s | %s |\n", strings.ReplaceAll(c.Statement, "|", `\|`), c.Value, c.Prediction(), verdict)
	}
	for _, v := range []Verdict{Fails, Inconclusive} {
		var ids []string
		for _, c := range claims {
			if c.Verdict() == v {
				ids = append(ids, c.ID)
			}
		}
		if len(ids) > 0 {
			fmt.Fprintf(&b, "\n**%s** (%d of the predicted numbers; the rule: docs/figures.md, \"Verdicts\"): %s.\n",
				upperFirst(string(v)), len(ids), strings.Join(ids, ", "))
		}
	}
	return b.String()
}

// Reading says in Markdown what the seeds say about a figure's predicted claims: how many hold, are inconclusive
// or fail, then each with its value, prediction and verdict, and why an inconclusive one could not be decided
// when its seeds were too few. Notebooks and `revsgd figure` show it under the figure, in place of prose written
// before the numbers.
func Reading(claims []Claim) string {
	count := map[Verdict]int{}
	var lines []string
	for _, c := range claims {
		v := c.Verdict()
		if v == "" {
			continue
		}
		count[v]++
		line := fmt.Sprintf("- %s: %.3g, predicted %s: **%s**", c.Statement, c.Value, c.Prediction(), c.verdictText())
		if n := len(c.PerSeed); v == Inconclusive && n > 0 && signTail(n, n) > SignTestLevel {
			line += fmt.Sprintf(" — %d seeds cannot decide it: even all of them on one side would happen by chance with "+
				"probability %.2g (more than %g)", n, signTail(n, n), SignTestLevel)
		}
		if v != Holds && c.Why != "" {
			line += " — " + c.Why
		}
		lines = append(lines, line)
	}
	total := count[Holds] + count[Inconclusive] + count[Fails]
	if total == 0 {
		return ""
	}
	head := fmt.Sprintf("**What the seeds say** (the rule: docs/figures.md, \"Verdicts\"): of %d predicted numbers, %d hold, "+
		"%d are inconclusive and %d fail.", total, count[Holds], count[Inconclusive], count[Fails])
	switch {
	case count[Holds] == total:
		head += " The figure shows its claim."
	case count[Fails] > 0:
		head += " The figure contradicts part of its claim at these settings."
	default:
		head += " The figure does not show its claim at these settings: more seeds (or a longer run) could decide it."
	}
	return head + "\n\n" + strings.Join(lines, "\n") + "\n"
}
