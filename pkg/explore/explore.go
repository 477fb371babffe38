// Package explore analyses the convergence points of stored runs, for notebooks: list the runs of a store, load
// one with its iterates, measure how it converges (step sizes, its backward limit point and the distances to it),
// compare the law of backward limits with late forward iterates, project iterates on their two principal
// directions, and draw all of it as a static figure and as an interactive view (a slider over the evaluated
// steps, in self-contained HTML and JavaScript that needs no network).
package explore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
)

// RunInfo describes one stored run.
type RunInfo struct {
	// Dir is the run's directory.
	Dir string
	// Problem, Model, Order and Rule name what ran; Seed is its seed.
	Problem, Model, Order, Rule string
	Seed                        uint64
	// Steps is the number of steps N; Evaluated the number of evaluated steps, Completed how many are stored.
	Steps, Evaluated, Completed int
	// Iterates says whether θ is stored at the evaluated steps (analysis needs it).
	Iterates bool
	// experiment is the run's configuration without its order and seed; modified when its record last changed.
	experiment string
	modified   time.Time
}

// infoOf describes a stored run.
func infoOf(st *runs.Stored) RunInfo {
	c := st.Config
	info := RunInfo{Dir: st.Dir, Problem: c.Problem.Name, Model: c.Problem.Model, Order: c.Order.Name,
		Rule: c.Rule.Name, Seed: c.Seed, Steps: c.Steps, Evaluated: len(c.Evaluated), Completed: st.Completed,
		Iterates: c.Iterates}
	c.Order, c.Seed = runs.OrderConfig{}, 0
	key, _ := json.Marshal(c) // a plain struct: cannot fail
	info.experiment = string(key)
	for _, name := range []string{"record.json", "config.json"} {
		if fi, err := os.Stat(filepath.Join(st.Dir, name)); err == nil {
			info.modified = fi.ModTime()
			break
		}
	}
	return info
}

// List returns the runs stored under root, sorted by problem, order and seed. A directory that is not a readable
// run is skipped and reported in the error (joined), so one damaged run does not hide the others; one that a
// live process is writing (runs.BeingWritten), whose files may be mid-write, is skipped without an error. A
// root that is a symbolic link is followed.
func List(root string) ([]RunInfo, error) {
	var out []RunInfo
	var errs []error
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		root = resolved
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "config.json" {
			return err
		}
		st, err := runs.ReadDir(filepath.Dir(path))
		if err != nil {
			if !runs.BeingWritten(filepath.Dir(path)) {
				errs = append(errs, err)
			}
			return nil
		}
		out = append(out, infoOf(st))
		return nil
	})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("explore: no run store at %s: run a notebook or scripts/reproduce.sh first", root)
		}
		return nil, err
	}
	slices.SortFunc(out, func(a, b RunInfo) int {
		return strings.Compare(fmt.Sprintf("%s/%s/%s/%020d/%s", a.Problem, a.Model, a.Order, a.Seed, a.Dir),
			fmt.Sprintf("%s/%s/%s/%020d/%s", b.Problem, b.Model, b.Order, b.Seed, b.Dir))
	})
	return out, errors.Join(errs...)
}

// Table writes runs as a Markdown table.
func Table(infos []RunInfo) string {
	var b strings.Builder
	b.WriteString("| problem | model | order | rule | seed | steps | evaluated (stored) | iterates | directory |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range infos {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d (%d) | %v | %s |\n", r.Problem, r.Model, r.Order, r.Rule,
			r.Seed, r.Steps, r.Evaluated, r.Completed, r.Iterates, r.Dir)
	}
	return b.String()
}

// Notes is where Select says what it left out; a notebook shows standard error below the cell.
var Notes io.Writer = os.Stderr

// Select returns the runs of one experiment whose problem and model contain the given strings (empty: any) and
// that keep iterates. Runs belong to one experiment when they differ only in order and seed; when several
// experiments match (e.g. the same problem at two learning rates, or runs of two revsgd versions), Select takes
// the one run most recently and says on Notes which it left out and how they differ.
func Select(infos []RunInfo, problem, model string) []RunInfo {
	groups := map[string][]RunInfo{}
	latest := map[string]time.Time{}
	for _, r := range infos {
		if r.Iterates && r.Completed > 0 && strings.Contains(r.Problem, problem) && strings.Contains(r.Model, model) {
			groups[r.experiment] = append(groups[r.experiment], r)
			if r.modified.After(latest[r.experiment]) {
				latest[r.experiment] = r.modified
			}
		}
	}
	best := ""
	for key := range groups {
		if best == "" || latest[key].After(latest[best]) || latest[key].Equal(latest[best]) && key < best {
			best = key
		}
	}
	var left []string
	for _, key := range slices.Sorted(maps.Keys(groups)) {
		if key != best {
			left = append(left, fmt.Sprintf("%d runs with %s", len(groups[key]), strings.Join(differences(key, best), ", ")))
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(Notes, "explore: %d experiments in the store match problem %q and model %q; taking the %d runs "+
			"computed last, leaving out %s (against the runs taken); name the problem or model more precisely, or use "+
			"another store, to choose\n", len(groups), problem, model, len(groups[best]), strings.Join(left, "; "))
	}
	return groups[best]
}

// differences lists where two experiment keys (JSON objects) differ, as "path value (taken: value)", at most
// three.
func differences(a, b string) []string {
	var x, y any
	json.Unmarshal([]byte(a), &x) // keys are JSON that infoOf wrote
	json.Unmarshal([]byte(b), &y)
	var out []string
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		mx, okx := x.(map[string]any)
		my, oky := y.(map[string]any)
		if okx && oky {
			keys := slices.Sorted(maps.Keys(mx))
			for k := range my {
				if _, ok := mx[k]; !ok {
					keys = append(keys, k)
				}
			}
			for _, k := range keys {
				walk(strings.TrimPrefix(path+"."+k, "."), mx[k], my[k])
			}
			return
		}
		if jx, jy := fmt.Sprint(x), fmt.Sprint(y); jx != jy {
			out = append(out, fmt.Sprintf("%s %s (taken: %s)", path, jx, jy))
		}
	}
	walk("", x, y)
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more differences", len(out)-3))
	}
	return out
}

// Load reads a stored run's trajectory: its iterates at the completed evaluated steps (the run must keep
// iterates) and the run's directory, order, seed and number of steps.
func Load(dir string) (*experiment.Trajectory, error) {
	st, err := runs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if !st.Config.Iterates {
		return nil, fmt.Errorf("explore: %s keeps no iterates (its experiment ran without KeepIterates); only its "+
			"metrics.csv can be analysed", dir)
	}
	c := st.Config
	r := &experiment.Trajectory{Arm: c.Order.Name, Order: c.Order.Name, Seed: c.Seed, N: c.Steps, Dir: dir}
	for _, n := range c.Evaluated {
		if th, ok := st.Iterates[n]; ok {
			r.Steps, r.Iterates = append(r.Steps, n), append(r.Iterates, th)
		}
	}
	return r, nil
}

// LoadAll loads the trajectories of the runs listed.
func LoadAll(infos []RunInfo) ([]*experiment.Trajectory, error) {
	out := make([]*experiment.Trajectory, 0, len(infos))
	for _, info := range infos {
		r, err := Load(info.Dir)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ByOrder splits trajectories by order name, each list sorted by seed.
func ByOrder(rs []*experiment.Trajectory) map[string][]*experiment.Trajectory {
	out := map[string][]*experiment.Trajectory{}
	for _, r := range rs {
		out[r.Order] = append(out[r.Order], r)
	}
	for _, l := range out {
		slices.SortFunc(l, func(a, b *experiment.Trajectory) int { return int(a.Seed) - int(b.Seed) })
	}
	return out
}
