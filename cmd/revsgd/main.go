// Command revsgd reproduces the figures of the figure catalogue and manages the XLA backend.
//
//	revsgd figure [-scale quick|paper] [-out DIR] ID...   run figures and write DIR/ID.png, DIR/ID.svg, DIR/ID.md
//	revsgd figures                                         list the figure ids
//	revsgd store locks [-clear] [DIR]                      list a run store's lock files; -clear removes those left by killed processes
//	revsgd store pack -o FILE [DIR]                        pack a run store to carry it elsewhere and resume it there
//	revsgd store unpack [-into DIR] FILE...                unpack it (FILE... the parts of a split archive, in order)
//	revsgd backend                                         say which backend would run
//	revsgd fetch [-dir DIR] NAME...                        download data sets (fashion-mnist, cifar10, cifar100)
//	revsgd bench [-workload forward,backward] [-model mlp|resnet18] ...   time the benchmark workloads
//	revsgd install-xla [-path DIR] [-cuda]                 install the XLA PJRT plugins (pip; CUDA where a GPU is)
//
// The data directory is $REVSGD_DATA, or ~/.cache/revsgd/datasets; -dir overrides it for fetch.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/data"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/figures"
	"github.com/revsgd/revsgd/pkg/order"
	"github.com/revsgd/revsgd/pkg/runs"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "revsgd:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  revsgd figure [-scale quick|paper] [-out DIR] ID...   run figures, write DIR/ID.png, .svg and .md
  revsgd figures                                         list the figure ids
  revsgd catalogue [-root DIR]                           regenerate docs/figures.md and the README's gallery
                                                         from docs/gallery/ID.json
  revsgd store locks [-clear] [DIR]                      list the lock files of a run store (default results/runs);
                                                         -clear removes those no process holds
  revsgd store pack -o FILE [DIR]                        pack a run store (no θ_0s, no checkpoints) to resume it
                                                         on another machine
  revsgd store unpack [-into DIR] FILE...                unpack such an archive (or its parts, in order) into a store
  revsgd backend                                         say which backend would run
  revsgd fetch [-dir DIR] NAME...                        download data sets (fashion-mnist, cifar10, cifar100)
  revsgd bench [-workload forward,backward] [-model mlp|resnet18] ...   time the benchmark workloads
  revsgd install-xla [-path DIR] [-cuda]                 install the XLA PJRT plugins (pip; CUDA where a GPU is)`

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "figure":
		return figureCmd(args[1:])
	case "figures":
		fmt.Println(strings.Join(figures.IDs(), "\n"))
		return nil
	case "catalogue":
		fs := flag.NewFlagSet("catalogue", flag.ContinueOnError)
		root := fs.String("root", ".", "the repository's root")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		docs, err := figures.Docs(*root)
		if err != nil {
			return err
		}
		for path, text := range docs {
			if err := os.WriteFile(filepath.Join(*root, path), []byte(text), 0o644); err != nil {
				return err
			}
			fmt.Println("catalogue: wrote", filepath.Join(*root, path))
		}
		return nil
	case "backend":
		c, err := backend.New()
		if err != nil {
			return err
		}
		fmt.Println(c.Backend.Description())
		return nil
	case "bench":
		return benchCmd(args[1:])
	case "store":
		return storeCmd(args[1:], os.Stdout)
	case "fetch":
		fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
		dir := fs.String("dir", data.Dir(), "data directory (default $"+data.DirEnvVar+" or the user cache)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return fmt.Errorf("name the data sets to fetch: %s", strings.Join(data.Datasets(), ", "))
		}
		// Interrupted or terminated, a fetch stops and removes its partial download.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		for _, name := range fs.Args() {
			if err := data.Fetch(ctx, name, *dir, os.Stdout); err != nil {
				return err
			}
			fmt.Printf("fetch: %s is in %s\n", name, *dir)
		}
		return nil
	case "install-xla":
		fs := flag.NewFlagSet("install-xla", flag.ContinueOnError)
		path := fs.String("path", "", "install directory (default ~/.local/lib)")
		cuda := fs.Bool("cuda", false, "also install the CUDA plugin, even without a GPU on this machine")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return backend.InstallXLA(*path, *cuda, os.Stderr)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// maxSeeds bounds -seeds: each seed is a run in memory and in the store.
const maxSeeds = 10000

// maxDeviceMemoryGiB bounds -device-memory: 64 TiB, far beyond any device.
const maxDeviceMemoryGiB = 1 << 16

// deviceMemoryBytes converts -device-memory (GiB; 0: automatic) to bytes, refusing what is not a finite number
// from 0 to maxDeviceMemoryGiB.
func deviceMemoryBytes(gib float64) (int64, error) {
	if !(gib >= 0 && gib <= maxDeviceMemoryGiB) { // NaN fails both
		return 0, fmt.Errorf("-device-memory must be 0 (automatic) or the GiB of memory of one device, at most "+
			"%d, got %g", maxDeviceMemoryGiB, gib)
	}
	return int64(gib * (1 << 30)), nil
}

// overrides reads the figure command's -steps, -every, -seeds and -orders (those set on the command line).
func overrides(set map[string]bool, steps, every, seeds int, orders string) (figures.Overrides, error) {
	switch {
	case set["steps"] && steps < 1:
		return figures.Overrides{}, fmt.Errorf("-steps must be a positive number of update maps, got %d", steps)
	case set["every"] && every < 1:
		return figures.Overrides{}, fmt.Errorf("-every must be a positive evaluation interval, got %d", every)
	case set["seeds"] && (seeds < 1 || seeds > maxSeeds):
		return figures.Overrides{}, fmt.Errorf("-seeds must be between 1 and %d, got %d", maxSeeds, seeds)
	case set["orders"] && strings.TrimSpace(orders) == "":
		return figures.Overrides{}, fmt.Errorf("-orders is empty; name the orders, e.g. forward,backward")
	}
	o := figures.Overrides{Steps: steps, Every: every, Seeds: seeds}
	if set["orders"] {
		for _, name := range strings.Split(orders, ",") {
			ord, err := order.ByName(strings.TrimSpace(name))
			if err != nil {
				return figures.Overrides{}, err
			}
			o.Orders = append(o.Orders, ord)
		}
	}
	return o, nil
}

// figureCommand is what `revsgd figure` was asked to do, read and checked from its arguments.
type figureCommand struct {
	figs              []figures.Figure
	scale             figures.Scale
	out, store, shard string
	replicas, devices int
	memBytes          int64
	shardOf           *experiment.Shard
}

// parseFigureCommand reads and checks `revsgd figure`'s arguments and builds its figures with their overrides,
// computing and writing nothing but the flags' usage on a bad flag, to usage (FuzzFigureCommand calls it with
// any arguments).
func parseFigureCommand(args []string, usage io.Writer) (*figureCommand, error) {
	fs := flag.NewFlagSet("figure", flag.ContinueOnError)
	fs.SetOutput(usage)
	scaleName := fs.String("scale", string(figures.Quick), "quick or paper")
	out := fs.String("out", "results/figures", "directory for the figure files")
	store := fs.String("runs", "results/runs", "run store directory (\"\" keeps nothing)")
	steps := fs.Int("steps", 0, "override the number of steps N of every run (0: the figure's)")
	every := fs.Int("every", 0, "override the evaluation interval (0: the figure's)")
	seeds := fs.Int("seeds", 0, "override the number of seeds (0: the figure's)")
	orders := fs.String("orders", "", "override the composition orders, e.g. forward,backward (figures that compare orders)")
	parts := fs.String("parts", "", "run only these parts of a figure made of parts, e.g. mlp for adamw (its parts: mlp, resnet18)")
	replicas := fs.Int("replicas", 0, "lockstep group size (0: from -device-memory if given, else automatic)")
	memory := fs.Float64("device-memory", 0, "GiB of device memory to size lockstep groups for (0: automatic)")
	devices := fs.Int("devices", 0, "devices to spread the runs over (0: every device of the backend, e.g. all GPUs; "+
		"the pure-Go backend has one, and more start extra engines on the CPU)")
	shardText := fs.String("shard", "", "i/n: run as shard i of n processes sharing the run store -runs (e.g. a "+
		"Slurm array task); see docs/scaling.md")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c := &figureCommand{out: *out, store: *store, shard: *shardText, replicas: *replicas, devices: *devices}
	if *shardText != "" {
		var err error
		if c.shardOf, err = experiment.ParseShard(*shardText); err != nil {
			return nil, err
		}
		if *store == "" {
			return nil, fmt.Errorf("-shard needs a run store shared by the shards: set -runs to a directory they all see")
		}
	}
	if *devices < 0 {
		return nil, fmt.Errorf("-devices must be 0 (every device of the backend) or positive, got %d", *devices)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if *replicas < 0 {
		return nil, fmt.Errorf("-replicas must be 0 (automatic) or positive, got %d", *replicas)
	}
	var err error
	if c.memBytes, err = deviceMemoryBytes(*memory); err != nil {
		return nil, err
	}
	if c.scale, err = figures.ParseScale(*scaleName); err != nil {
		return nil, err
	}
	ids := fs.Args()
	if len(ids) == 0 {
		return nil, fmt.Errorf("name the figures to run (%s)", strings.Join(figures.IDs(), ", "))
	}
	over, err := overrides(set, *steps, *every, *seeds, *orders)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		f, err := figures.New(id, c.scale)
		if err != nil {
			return nil, err
		}
		if err := f.Override(over); err != nil {
			return nil, err
		}
		if *parts != "" {
			composite, ok := f.(*figures.Composite)
			if !ok {
				return nil, fmt.Errorf("-parts: %s is not made of parts (adamw is)", id)
			}
			if err := composite.Only(strings.Split(*parts, ",")...); err != nil {
				return nil, err
			}
		}
		c.figs = append(c.figs, f)
	}
	return c, nil
}

func figureCmd(args []string) error {
	c, err := parseFigureCommand(args, os.Stderr)
	if err != nil {
		return err
	}
	if c.shardOf == nil {
		if err := writable(c.out); err != nil {
			return err
		}
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	devs, err := devicesFor(choice, c.devices)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, f := range c.figs {
		start := time.Now()
		fmt.Printf("%s: running at scale %s\n", f.ID(), c.scale)
		env := experiment.Runner{Backend: choice.Backend, Progress: experiment.PrintProgress(os.Stdout, 10*time.Second),
			Replicas: c.replicas, DeviceMemory: c.memBytes, Devices: devs, Shard: c.shardOf}
		if c.store != "" {
			env.Store = &runs.Store{Root: c.store}
		}
		if _, err := figures.ReproduceIn(ctx, f, c.scale, env, c.out); err != nil {
			return fmt.Errorf("%s: %w", f.ID(), err)
		}
		if c.shardOf != nil {
			// Every shard reaches this point with the same complete store; one final run writes the figure.
			fmt.Printf("%s: shard %s done in %s: every run of the figure is in %s; run `revsgd figure` without "+
				"-shard (same -runs and settings) to write the figure\n", f.ID(), c.shard,
				time.Since(start).Round(time.Millisecond), c.store)
			continue
		}
		fmt.Printf("%s: done in %s\n", f.ID(), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// writable checks, before anything is computed, that the figure files can be written in dir (created if
// missing): a figure that could not be written after hours of runs would lose them where -runs is "".
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-out %s: %w; choose a directory you can write", dir, err)
	}
	f, err := os.CreateTemp(dir, ".revsgd-write-test-*")
	if err != nil {
		return fmt.Errorf("-out %s: cannot write there (%w); choose a directory you can write", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// devicesFor returns the devices runs are spread over: n = 0, every device of the backend; otherwise n of them.
// XLA's CPU plugin, which starts with one host device, is started again with n; another backend with fewer
// devices than n (the pure-Go backend has one) gets more instances of itself, each an engine of its own.
func devicesFor(choice backend.Choice, n int) ([]experiment.Device, error) {
	devs := experiment.Devices(choice.Backend)
	if n == 0 || n == len(devs) {
		return devs, nil
	}
	if n < len(devs) {
		return devs[:n], nil
	}
	if backend.OnCPU(choice.Backend) && !backend.IsGo(choice.Backend) {
		b, err := backend.XLACPU(n) // one client with n host devices
		if err != nil {
			return nil, err
		}
		return experiment.Devices(b), nil
	}
	if len(devs) > 1 {
		return nil, fmt.Errorf("-devices %d: the backend has %d devices", n, len(devs))
	}
	for len(devs) < n {
		b, err := choice.Another()
		if err != nil {
			return nil, err
		}
		devs = append(devs, experiment.Device{Backend: b})
	}
	return devs, nil
}
