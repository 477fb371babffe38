package explore

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/experiment"
)

// RunAndLoad runs an experiment on the default backend (backend.New: it says which), printing progress, and
// loads its runs from the experiment's store: the way to analyse a model of one's own. The spec needs a Store and
// KeepIterates.
func RunAndLoad(spec *experiment.Spec) ([]*Run, error) {
	if spec.Store == nil || !spec.KeepIterates {
		return nil, fmt.Errorf("explore: set the spec's Store and KeepIterates: the analysis reads the stored iterates")
	}
	choice, err := backend.New()
	if err != nil {
		return nil, err
	}
	spec.Progress = experiment.PrintProgress(os.Stdout, 10*time.Second)
	res, err := experiment.Run(context.Background(), choice.Backend, spec)
	if err != nil {
		return nil, err
	}
	var rs []*Run
	for _, c := range res.Curves {
		r, err := Load(c.Dir)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// Analyse compares the forward and backward runs among rs (paired by seed), projects the second half of every
// run (Run.Late), and shows the
// comparison's summary, the figure and the interactive view (named by id, unique in the notebook). It returns
// the comparison.
func Analyse(rs []*Run, id string) (*Convergence, error) {
	by := ByOrder(rs)
	c, err := Compare(by["forward"], by["backward"])
	if err != nil {
		return nil, err
	}
	var late []*Run
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
	return c, Show(c.Summary(), fig, view)
}
