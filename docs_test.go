package revsgd_test

import (
	"os"
	"path/filepath"
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
