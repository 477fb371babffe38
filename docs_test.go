package revsgd_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/revsgd/revsgd/pkg/figures"
)

// docs/figures.md and the README's gallery are exactly what `go run ./cmd/revsgd catalogue` generates from the
// figures' settings and the claim files in docs/gallery: no number in them is typed by hand.
func TestDocsAreGenerated(t *testing.T) {
	docs, err := figures.Docs(".")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range docs {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is not what `go run ./cmd/revsgd catalogue` generates from docs/gallery: run it", path)
		}
	}
}

// Nothing users get refers to a file outside the repository.
func TestNoPathOutsideRepository(t *testing.T) {
	for _, dir := range []string{"README.md", "BENCHMARKS.md", "Dockerfile", "docs", "pkg", "cmd", "scripts", "notebooks", "datasets"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".png") || strings.HasSuffix(path, ".gz") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			// The sibling folder the project was planned in, which users never get.
			sibling := filepath.Join("..", "shared")
			for _, s := range []string{sibling, filepath.Join("shared", "FIGURES.md"), filepath.Join("shared", "DESIGN.md")} {
				if strings.Contains(string(b), s) {
					t.Errorf("%s refers to %s, outside the repository", path, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The paper-scale gallery (docs/gallery/paper, from `scripts/reproduce.sh paper-cpu` and `scripts/update-gallery.sh`)
// holds at least the FashionMNIST figures, and each claims file there is consistent with its image and with the
// code: its image is the one written with it (hash), its settings are what the figure's paper scale is now (with
// the parts it ran), it names the backend and library version and what the run cost, and every verdict is what
// the seed-level rule gives on the numbers stored beside it.
func TestPaperGallery(t *testing.T) {
	dir := figures.GalleryDir(filepath.Join("docs", "gallery"), figures.Paper)
	for _, id := range []string{"fashion-mlp", "intermittent", "late-switch", "adamw"} {
		if _, err := os.Stat(filepath.Join(dir, id+".json")); err != nil {
			t.Errorf("the paper-scale gallery lacks %s: %v", id, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, path := range files {
		id := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(id, func(t *testing.T) { checkPaperClaims(t, dir, id) })
	}
}

func checkPaperClaims(t *testing.T, dir, id string) {
	f, err := figures.ReadClaimsFile(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if f.Figure != id || f.Scale != figures.Paper {
		t.Fatalf("figure %q at scale %q, want %s at paper", f.Figure, f.Scale, id)
	}
	png, err := os.ReadFile(filepath.Join(dir, id+".png"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(png); f.Image != hex.EncodeToString(sum[:]) {
		t.Errorf("the image's hash is %x, the claims file's %q: they come from different runs", sum, f.Image)
	}
	fig, err := figures.New(id, figures.Paper)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Parts) > 0 {
		if err := fig.(*figures.Composite).Only(f.Parts...); err != nil {
			t.Fatal(err)
		}
	}
	if fig.Settings() != f.Settings {
		t.Errorf("the settings the run recorded are not the figure's paper settings now: rerun it\nrecorded: %s\nnow:      %s",
			f.Settings, fig.Settings())
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(f.Version) || f.Backend == "" {
		t.Errorf("version %q, backend %q: the run is not named", f.Version, f.Backend)
	}
	if c := f.Cost; c == nil || c.Seconds <= 0 || c.Cores < 1 || c.Runs < 1 {
		t.Errorf("the run's cost is not recorded: %+v", c)
	}
	raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Claims []struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	judged := 0
	for i, c := range f.Claims {
		want := string(c.Verdict())
		if stored.Claims[i].Verdict != want {
			t.Errorf("%s: stored verdict %q, the rule gives %q on its numbers", c.ID, stored.Claims[i].Verdict, want)
		}
		if want != "" {
			judged++
		}
	}
	if judged == 0 {
		t.Error("no claim carries a verdict")
	}
}
