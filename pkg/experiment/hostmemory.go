package experiment

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/revsgd/revsgd/pkg/models"
)

// HostBytes estimates the host memory an experiment holds from its start, before any update map runs: every
// seed's θ_0 (float64, and its warm-up run's), every seed's batch history (int32), each arm's plan of replays
// (the steps of its replays: Σ n over the evaluated steps n for a backward-type order, N for forward), and the
// trajectories (each evaluated step's metrics, and θ where iterates are kept). The engine's device memory and
// the data set come on top; the estimate is what grows with the seeds, the steps and the evaluated steps.
func (s *Spec) HostBytes() (int64, error) {
	base := s.baseBytes()
	if base > 1<<50 { // beyond any machine: the evaluated steps are not even listed
		return base, nil
	}
	evaluated, err := s.evaluated()
	if err != nil {
		return 0, fmt.Errorf("experiment: %w", err)
	}
	seeds, steps := int64(len(s.Seeds)), int64(s.Steps)
	params := int64(models.NumParams(s.Problem.Model))
	var sum int64
	for _, n := range evaluated {
		sum += int64(n)
	}
	plans := int64(0)
	for _, a := range s.Arms {
		if a.Order != nil && a.Order.Name() == "forward" {
			plans += steps * 8
		} else {
			plans += (sum + steps) * 8
		}
	}
	perPoint := int64(4 * 8)
	if s.KeepIterates {
		perPoint += params * 8
	}
	curves := seeds * int64(len(s.Arms)) * int64(len(evaluated)) * perPoint
	return base + plans + curves, nil
}

// baseBytes is the part of HostBytes that needs no list of the evaluated steps: θ_0s and batch histories.
func (s *Spec) baseBytes() int64 {
	seeds, steps := float64(len(s.Seeds)), float64(s.Steps)
	theta0 := seeds * float64(models.NumParams(s.Problem.Model)) * 8
	if s.WarmUp != nil {
		theta0 *= 2
	}
	b := theta0 + seeds*steps*float64(max(s.BatchSize, 1))*4
	return int64(min(b, 1<<62))
}

// availableBytes is the host memory available to a new allocation (Linux's MemAvailable), or 0 when unknown.
var availableBytes = func() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// checkHostMemory refuses, before anything is allocated, an experiment whose HostBytes exceed 80% of the
// available host memory, saying both and what to lower.
func (s *Spec) checkHostMemory() error {
	avail := availableBytes()
	if avail <= 0 {
		return nil
	}
	limit := 0.8 * float64(avail)
	need := s.baseBytes() // first without listing the evaluated steps, which may be too many to list
	if float64(need) <= limit {
		var err error
		if need, err = s.HostBytes(); err != nil {
			return err
		}
	}
	if float64(need) <= limit {
		return nil
	}
	return fmt.Errorf("experiment: this experiment would hold about %.1f GiB of host memory before its first update "+
		"map (θ_0s, batch histories, plans of replays, trajectories: %d seeds, N = %d, %d arms), more than 80%% of the "+
		"%.1f GiB available: lower the seeds, the steps or the evaluated steps", float64(need)/(1<<30), len(s.Seeds),
		s.Steps, len(s.Arms), float64(avail)/(1<<30))
}
