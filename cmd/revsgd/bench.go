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
	"github.com/revsgd/revsgd/pkg/evaluation"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/models"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/problem"
	"github.com/revsgd/revsgd/pkg/runs"
	"github.com/revsgd/revsgd/pkg/update"
)

// benchResult is one line of `revsgd bench` output.
type benchResult struct {
	Workload string `json:"workload"`
	Backend  string `json:"backend"`
	Model    string `json:"model"`
	Seeds    int    `json:"seeds"`
	Steps    int    `json:"steps"`
	Every    int    `json:"every,omitempty"`
	Replicas int    `json:"replicas"`
	// Path is the convolution path of a convnet.
	Path     string  `json:"path,omitempty"`
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

// maxBenchWidth bounds bench -width: ResNet-18 at width 16 has about 2.9 billion parameters.
const maxBenchWidth = 16

// benchCmd times the benchmark workloads: "forward" (forward SGD, seeds in lockstep), "backward" (a full
// backward curve evaluated every -every steps), on the FashionMNIST MLP or a CIFAR convnet (ResNet-18, ResNet-50,
// VGG-11) on generated stand-in CIFAR images, batch 8, float32. It prints one JSON line per workload.
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	workload := fs.String("workload", "forward,backward", "workloads to run: forward, backward")
	modelName := fs.String("model", "mlp", "mlp (FashionMNIST, 784-256-256-10), resnet18, resnet50 or vgg11 (stand-in CIFAR-10, width -width)")
	width := fs.Float64("width", 1, "convnets: width multiplier")
	pathName := fs.String("path", "auto", "convnets: convolution path, auto, patches or grouped")
	steps := fs.Int("steps", 1000, "steps N")
	every := fs.Int("every", 10, "backward: evaluation interval")
	seeds := fs.Int("seeds", 5, "seeds")
	replicas := fs.Int("replicas", 0, "lockstep group size (0: from -device-memory if given, else automatic)")
	memory := fs.Float64("device-memory", 0, "GiB of device memory to size lockstep groups for (0: automatic)")
	keep := fs.String("keep", "", "store the runs, iterates included, in this run store (for checking other implementations against them; it slows the runs down)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *steps <= 0 || *every <= 0 || *seeds <= 0 || *replicas < 0 || !(*width > 0) {
		return fmt.Errorf("bench: -steps, -every, -seeds and -width must be positive, -replicas non-negative")
	}
	if *seeds > maxSeeds || *width > maxBenchWidth {
		return fmt.Errorf("bench: -seeds %d and -width %g: at most %d seeds and width %d (each seed is a replica in "+
			"memory; a convnet's parameters grow with the square of its width)", *seeds, *width, maxSeeds, maxBenchWidth)
	}
	memBytes, err := deviceMemoryBytes(*memory)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if len(splitList(*workload)) == 0 {
		return fmt.Errorf("bench: -workload names no workload: use forward, backward or forward,backward")
	}
	path, err := parsePath(*pathName)
	if err != nil {
		return err
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	p, err := benchProblem(*modelName, *width, path)
	if err != nil {
		return err
	}
	rule := update.SGD{LearningRate: 0.025}
	r := *replicas
	if r == 0 && memBytes > 0 {
		if r, err = experiment.ReplicasForMemory(choice.Backend, p, rule, 8, memBytes); err != nil {
			return err
		}
	}
	for _, w := range splitList(*workload) {
		spec := &experiment.Spec{Problem: p, Seeds: experiment.SeedRange(*seeds),
			Steps: *steps, BatchSize: 8, DType: dtypes.Float32}
		runner := experiment.Runner{Backend: choice.Backend, Devices: []experiment.Device{{Backend: choice.Backend}},
			Replicas: r, Progress: experiment.PrintProgress(os.Stderr, 30*time.Second)}
		if *keep != "" {
			runner.Store, spec.KeepIterates = &runs.Store{Root: *keep}, true
		}
		switch w {
		case "forward":
			spec.Arms, spec.Evaluated = experiment.Orders(rule, order.Forward{}), evaluation.List{*steps}
		case "backward":
			spec.Arms, spec.Evaluated = experiment.Orders(rule, order.Backward{}), evaluation.Every(*every)
		default:
			return fmt.Errorf("unknown workload %q: use forward or backward", w)
		}
		start := time.Now()
		res, err := runner.Run(context.Background(), spec)
		if err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		line := benchResult{Workload: w, Backend: backend.Identity(choice.Backend), Model: p.Model.Name(), Seeds: *seeds, Steps: *steps,
			Replicas: r, Maps: res.Stats.Applied, Seconds: secs, MapsPerS: float64(res.Stats.Applied) / secs,
			PeakRSSMB: peakRSS()}
		if _, conv := p.Model.(models.Calibrated); conv {
			line.Path = path.String()
		}
		if w == "backward" {
			line.Every = *every
		}
		out, _ := json.Marshal(line)
		fmt.Println(string(out))
	}
	return nil
}

// parsePath reads a convolution path name.
func parsePath(name string) (models.ConvolutionPath, error) {
	for _, p := range []models.ConvolutionPath{models.AutoPath, models.PatchPath, models.GroupedPath} {
		if p.String() == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown convolution path %q: use auto, patches or grouped", name)
}

// benchProblem builds the benchmark problem of a model name: the FashionMNIST MLP, or a convnet on 2048
// generated stand-in CIFAR-10 images (timing does not depend on the pixels).
func benchProblem(name string, width float64, path models.ConvolutionPath) (*problem.Problem, error) {
	var m models.Model
	switch name {
	case "mlp":
		train, err := data.LoadFashionMNIST("train")
		if err != nil {
			return nil, err
		}
		return &problem.Problem{Name: "fashion-mnist", Model: models.MLP{Widths: []int{784, 256, 256, 10},
			Activation: models.ReLUActivation}, Loss: problem.CrossEntropy{}, Train: train}, nil
	case "resnet18", "resnet50":
		depth := 18
		if name == "resnet50" {
			depth = 50
		}
		m = models.ResNet{Depth: depth, Channels: 3, Classes: 10, Width: width, Path: path}
	case "vgg11":
		m = models.VGG{Depth: 11, Channels: 3, Classes: 10, Width: width, Path: path}
	default:
		return nil, fmt.Errorf("unknown model %q: use mlp, resnet18, resnet50 or vgg11", name)
	}
	dir, err := os.MkdirTemp("", "revsgd-bench-cifar")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := data.WriteCIFARStandIn(data.CIFAR10, dir, 2048, 16, 1); err != nil {
		return nil, err
	}
	train, err := data.LoadCIFAR(data.CIFAR10, dir, "train", false)
	if err != nil {
		return nil, err
	}
	return &problem.Problem{Name: "cifar10-stand-in", Model: m, Loss: problem.CrossEntropy{}, Train: train}, nil
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
