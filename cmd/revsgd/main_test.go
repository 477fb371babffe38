package main

import (
	"strings"
	"testing"
)

// Bad overrides of `revsgd figure` are refused with what was wrong, before anything is computed (they were
// silently ignored: -steps -5 ran the defaults).
func TestFigureOverridesAreChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"figure", "-steps", "-5", "-seeds", "1", "fashion-mlp"}, "-steps must be a positive"},
		{[]string{"figure", "-steps", "-5", "quadratic"}, "classification figures only"},
		{[]string{"figure", "-every", "0", "fashion-mlp"}, "-every must be a positive"},
		{[]string{"figure", "-seeds", "-1", "fashion-mlp"}, "-seeds must be between 1 and 10000"},
		{[]string{"figure", "-seeds", "1000000000", "fashion-mlp"}, "-seeds must be between 1 and 10000"},
		{[]string{"figure", "-steps", "10", "-every", "20", "fashion-mlp"}, "exceeds the 10 steps"},
		{[]string{"figure", "-orders", " ", "fashion-mlp"}, "-orders is empty"},
		{[]string{"figure", "-orders", "forward,sideways", "fashion-mlp"}, "unknown composition order"},
	} {
		err := run(append(c.args[:1:1], append([]string{"-runs", "", "-out", t.TempDir()}, c.args[1:]...)...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
