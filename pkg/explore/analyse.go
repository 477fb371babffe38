package explore

import (
	"context"
	"fmt"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/display"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
)

// RunAndLoad runs an experiment on the default backend (backend.New: it says which), printing progress, with
// store as its run store (runs already there are read, not recomputed), and returns its trajectories: the way to
// analyse a model of one's own. The spec needs KeepIterates: the analysis reads the iterates.
func RunAndLoad(spec *experiment.Spec, store *runs.Store) ([]*experiment.Trajectory, error) {
	if store == nil || !spec.KeepIterates {
		return nil, fmt.Errorf("explore: give a run store and set the spec's KeepIterates: the analysis reads the stored iterates")
	}
	choice, err := backend.New()
	if err != nil {
		return nil, err
	}
	runner := experiment.Runner{Backend: choice.Backend, Store: store, Progress: display.Progress()}
	res, err := runner.Run(context.Background(), spec)
	if err != nil {
		return nil, err
	}
	return res.Trajectories, nil
}

// Analyse compares the forward and backward runs among rs (paired by seed), projects the second half of every
// run (Trajectory.Late), and shows the comparison's summary, the figure and the interactive view (named by id, unique in the notebook). It returns
// the comparison.
func Analyse(rs []*experiment.Trajectory, id string) (*Convergence, error) {
	by := ByOrder(rs)
	c, err := Compare(by["forward"], by["backward"])
	if err != nil {
		return nil, err
	}
	var late []*experiment.Trajectory
	for _, r := range rs {
		if l := r.Late(0.5); len(l.Steps) > 0 {
			late = append(late, l)
		}
	}
	pr, err := Project(late)
	if err != nil {
		return nil, err
	}
	fig, err := Figure(rs, c, pr)
	if err != nil {
		return nil, err
	}
	view, err := Interactive(pr, id)
	if err != nil {
		return nil, err
	}
	return c, display.Show(c.Summary(), fig, view)
}
