package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every `revsgd figure` command in the job templates and in docs/scaling.md uses flags the command has, with
// values it accepts: run with a figure that does not exist, each fails on the figure's name and on nothing before.
func TestScalingCommandsUseRealFlags(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/*/*")
	files = append(files, "../../docs/scaling.md")
	command := regexp.MustCompile(`revsgd figure((?:[^\n]|\\\n)*)`)
	word := regexp.MustCompile(`^[A-Za-z/]+$`)
	placeholder := map[string]string{"-scale": "paper", "-shard": "2/4", "-runs": t.TempDir(), "-out": t.TempDir(),
		"-devices": "2"}
	found := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("\\\n", " ", "\n              ", " ").Replace(string(raw))
		for _, m := range command.FindAllStringSubmatch(text, -1) {
			fields := strings.Fields(strings.Trim(m[1], "`"))
			var args []string
			for i := 0; i < len(fields); i++ {
				name := fields[i]
				if !strings.HasPrefix(name, "-") || name == "-" {
					continue // the figure's name, or the tail of the line
				}
				value := strings.Trim(fields[min(i+1, len(fields)-1)], `"'`+"`")
				// Shell variables and placeholders (i/n, N, DIR) take a concrete value; so do directories.
				if v, ok := placeholder[name]; ok && (strings.Contains(value, "$") || word.MatchString(value) ||
					name == "-runs" || name == "-out") {
					value = v
				}
				args = append(args, name, value)
				i++
			}
			found++
			err := figureCmd(append(args, "no-such-figure"))
			if err == nil || !strings.Contains(err.Error(), "unknown figure") {
				t.Errorf("%s: `revsgd figure%s` → %v (want only the figure's name refused)", f, m[1], err)
			}
		}
	}
	if found < 6 {
		t.Errorf("found %d `revsgd figure` commands in the templates and docs/scaling.md; expected more", found)
	}
}
