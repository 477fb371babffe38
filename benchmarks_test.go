package revsgd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every row of BENCHMARKS.md's convnet table is what the raw benchmark output it names says: the line of
// BenchmarkConvNetStep/<model>/<path>/R=<R> reports exactly the update maps/s of the row.
func TestBenchmarksMatchRawOutputs(t *testing.T) {
	md, err := os.ReadFile("BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	begin, end := strings.Index(text, "<!-- convnets: begin -->"), strings.Index(text, "<!-- convnets: end -->")
	if begin < 0 || end < begin {
		t.Fatal("BENCHMARKS.md has no convnets table between its markers")
	}
	rows := 0
	for _, line := range strings.Split(text[begin:end], "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		rows++
		model, path, r, rate, file := strings.Trim(cells[0], "`"), cells[1], cells[2], cells[4], cells[5]
		raw, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil {
			t.Fatalf("row %s/%s/R=%s: %v", model, path, r, err)
		}
		name := "BenchmarkConvNetStep/" + model + "/" + path + "/R=" + r + "-"
		found := false
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, name) {
				found = true
				if f := strings.Fields(l); len(f) < 6 || f[len(f)-2] != rate || f[len(f)-1] != "maps/s" {
					t.Errorf("%s: the table says %s maps/s, %s says %q", name, rate, file, l)
				}
			}
		}
		if !found {
			t.Errorf("%s: no such line in %s", name, file)
		}
	}
	if rows == 0 {
		t.Error("the convnets table has no rows")
	}
}

// A fenced block of BENCHMARKS.md that follows a line "<!-- raw: PATH -->" is the file PATH, verbatim: the numbers
// quoted from it cannot drift from the measurement.
func TestBenchmarksQuoteRawFilesVerbatim(t *testing.T) {
	md, err := os.ReadFile("BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, part := range strings.Split(string(md), "<!-- raw: ")[1:] {
		path, rest, _ := strings.Cut(part, " -->\n")
		body, ok := strings.CutPrefix(rest, "```\n")
		body, _, closed := strings.Cut(body, "```")
		if !ok || !closed {
			t.Errorf("the raw block of %s is not a fenced block right after its marker", path)
			continue
		}
		raw, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		if body != string(raw) {
			t.Errorf("BENCHMARKS.md's block differs from %s", path)
		}
		blocks++
	}
	if blocks == 0 {
		t.Error("no raw block")
	}
}
