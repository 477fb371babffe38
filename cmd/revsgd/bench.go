package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/schedule"
	"github.com/revsgd/revsgd/pkg/update"
)

// benchResult is one line of `revsgd bench` output.
type benchResult struct {
	Workload string  `json:"workload"`
	Backend  string  `json:"backend"`
	Model    string  `json:"model"`
	Seeds    int     `json:"seeds"`
	Steps    int     `json:"steps"`
	Every    int     `json:"every,omitempty"`
	Replicas int     `json:"replicas"`
	Maps     int     `json:"update_maps"`
	Seconds  float64 `json:"seconds"`
	MapsPerS float64 `json:"maps_per_second"`
	// PeakRSSMB is the process's peak resident memory so far (VmHWM), in MiB.
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// peakRSS returns the process's peak resident set size in MiB, from /proc/self/status (0 where unavailable).
func peakRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%g", &kb)
			return kb / 1024
		}
	}
	return 0
}

// benchCmd times the benchmark workloads: "forward" (forward SGD, seeds in lockstep), "backward" (a full
// backward curve evaluated every -every steps), each on the FashionMNIST MLP at batch 8, or with -model
// resnet18 on stand-in CIFAR-10 images. It prints one JSON line per workload.
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	workload := fs.String("workload", "forward,backward", "workloads to run: forward, backward")
	modelName := fs.String("model", "mlp", "mlp (FashionMNIST, 784-256-256-10) or resnet18 (stand-in CIFAR-10, width -width)")
	width := fs.Float64("width", 1, "resnet18 width multiplier")
	steps := fs.Int("steps", 1000, "steps N")
	every := fs.Int("every", 10, "backward: evaluation interval")
	seeds := fs.Int("seeds", 5, "seeds")
	replicas := fs.Int("replicas", 0, "lockstep group size (0: automatic)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	var p *problem.Problem
	switch *modelName {
	case "mlp":
		train, err := data.LoadFashionMNIST("train")
		if err != nil {
			return err
		}
		p = &problem.Problem{Name: "fashion-mnist", Model: models.MLP{Widths: []int{784, 256, 256, 10}, Activation: models.ReLUActivation},
			Loss: problem.CrossEntropy{}, Train: train}
	case "resnet18":
		dir, err := os.MkdirTemp("", "revsgd-bench-cifar")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := data.WriteCIFARStandIn(data.CIFAR10, dir, 2048, 16, 1); err != nil {
			return err
		}
		train, err := data.LoadCIFAR(data.CIFAR10, dir, "train", false)
		if err != nil {
			return err
		}
		p = &problem.Problem{Name: "cifar10-stand-in", Model: models.ResNet{Depth: 18, Channels: 3, Classes: 10, Width: *width},
			Loss: problem.CrossEntropy{}, Train: train}
	default:
		return fmt.Errorf("unknown model %q: use mlp or resnet18", *modelName)
	}
	for _, w := range splitList(*workload) {
		spec := &experiment.Spec{Problem: p, Rule: update.SGD{LearningRate: 0.025}, Seeds: experiment.SeedRange(*seeds),
			Steps: *steps, BatchSize: 8, DType: dtypes.Float32, Replicas: *replicas}
		switch w {
		case "forward":
			spec.Orders, spec.Schedule = []order.Order{order.Forward{}}, schedule.List{*steps}
		case "backward":
			spec.Orders, spec.Schedule = []order.Order{order.Backward{}}, schedule.Every(*every)
		default:
			return fmt.Errorf("unknown workload %q: use forward or backward", w)
		}
		start := time.Now()
		res, err := experiment.Run(context.Background(), choice.Backend, spec)
		if err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		r := benchResult{Workload: w, Backend: choice.Config, Model: p.Model.Name(), Seeds: *seeds, Steps: *steps,
			Replicas: *replicas, Maps: res.Stats.Applied, Seconds: secs, MapsPerS: float64(res.Stats.Applied) / secs,
			PeakRSSMB: peakRSS()}
		if w == "backward" {
			r.Every = *every
		}
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
