// Package backend chooses the GoMLX compute backend that runs revsgd's graphs, and never crashes doing so.
//
// The rule, applied by New:
//
//   - GOMLX_BACKEND set: it is honoured as GoMLX does ("go", "xla", "xla:cuda", "xla:/abs/path/plugin.so", …),
//     except that an unknown backend name is an error that lists the compiled-in backends instead of a panic, and
//     the XLA backend does not download plugins (see below).
//   - GOMLX_BACKEND unset: XLA if it is compiled in and a PJRT plugin is installed and loads; otherwise the pure-Go
//     backend.
//
// Either way one line on standard error says which backend runs and how to get XLA.
//
// Nothing is downloaded at run time unless the user asks for it: XLA's automatic plugin installation is switched
// off, and InstallXLA (the "revsgd install-xla" command) is the explicit way to fetch the plugins.
//
// Both backends are compiled in by default, which needs cgo; build with -tags noxla for a cgo-free binary with the
// pure-Go backend alone.
//
// The pure-Go backend runs its operations one after the other ("go:ops_sequential"), each still spread over the
// cores, unless the configuration says "ops_parallel": in compute v0.1.2, running independent operations at once
// can deadlock when two of them saturate the worker pool together (seen training the ResNets; it costs 2–8% of
// speed to avoid).
package backend

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // The pure-Go backend, always available.
)

// EnvVar is the environment variable that selects a backend, shared with GoMLX.
const EnvVar = compute.ConfigEnvVar

// GoName is the name of the pure-Go backend.
const GoName = "go"

// XLAName is the name of the XLA/PJRT backend.
const XLAName = "xla"

// HowToGetXLA is the advice printed when the pure-Go backend runs.
const HowToGetXLA = "for XLA (CPU or GPU) run `go run ./cmd/revsgd install-xla` once, see README"

// Choice describes the backend New picked and why.
type Choice struct {
	// Backend is the backend to build graphs on.
	Backend compute.Backend
	// Config is the configuration string it was built from, e.g. "go" or "xla:cuda".
	Config string
	// Reason says why this backend was chosen, in a few words.
	Reason string
}

// Name returns the short name of the chosen backend: "go" or "xla".
func (c Choice) Name() string {
	if IsGo(c.Backend) {
		return GoName
	}
	return XLAName
}

// IsGo reports whether b is the pure-Go backend (whose Name is "Go Backend" in GoMLX).
func IsGo(b compute.Backend) bool {
	return strings.HasPrefix(strings.ToLower(b.Name()), GoName)
}

// ShapeDependent reports whether a replica's numbers on b depend on the shapes of the graph it runs in — on how
// many replicas share its lockstep group — as on XLA, which chooses vectorisation and summation orders by shape.
// revsgd then runs every group of an experiment at one fixed width (replay.Engine.SetWidth). The pure-Go
// backend computes each replica alike in any group (its one matrix kernel, see kernels.go).
func ShapeDependent(b compute.Backend) bool { return !IsGo(b) }

// OnCPU reports whether b computes on the host's CPU cores: the pure-Go backend, or XLA with its CPU plugin. Sizes
// chosen for a device's memory and parallelism (lockstep groups, evaluation calls) differ between a CPU, whose
// caches reward small working sets, and an accelerator, which needs large calls to be busy.
func OnCPU(b compute.Backend) bool { return IsGo(b) || onXLACPU(b) }

// String is the one line New prints: the backend as a run's identity names it, and why it was chosen.
func (c Choice) String() string {
	line := fmt.Sprintf("revsgd: backend %s (%s)", Identity(c.Backend), c.Reason)
	if c.Name() == GoName {
		line += "; " + HowToGetXLA
	}
	return line
}

// Announce is where New writes its one line. Set it to io.Discard to silence it.
var Announce io.Writer = os.Stderr

// New chooses and constructs a backend following the package's rule, and announces it.
func New() (Choice, error) {
	c, err := choose(os.Getenv(EnvVar), os.LookupEnv)
	if err != nil {
		return Choice{}, err
	}
	fmt.Fprintln(Announce, c.String())
	return c, nil
}

// Another starts a new instance of the chosen backend, with its own devices and memory: several instances of the
// pure-Go backend (which has one device) stand in for the devices of a host, one engine each.
func (c Choice) Another() (compute.Backend, error) {
	d, err := fromConfig(c.Config)
	return d.Backend, err
}

// Compiled lists the names of the backends compiled into this binary.
func Compiled() []string {
	names := compute.List()
	slices.Sort(names)
	return names
}

// choose implements New without printing. config is the value of GOMLX_BACKEND ("" when unset).
func choose(config string, lookup func(string) (string, bool)) (Choice, error) {
	if _, set := lookup(EnvVar); set && config != "" {
		return fromConfig(config)
	}
	if xlaCompiledIn {
		if b, err := newXLA(""); err == nil {
			return Choice{Backend: b, Config: XLAName, Reason: "PJRT plugin " + pluginPath(b)}, nil
		}
	}
	b, err := compute.NewWithConfig(GoConfig(""))
	if err != nil {
		return Choice{}, fmt.Errorf("revsgd: the pure-Go backend failed to start: %w", err)
	}
	reason := "no XLA PJRT plugin installed"
	if !xlaCompiledIn {
		reason = "built with -tags noxla"
	}
	return Choice{Backend: b, Config: GoName, Reason: reason}, nil
}

// fromConfig builds the backend named by an explicit configuration string.
func fromConfig(config string) (Choice, error) {
	name, options, _ := strings.Cut(config, ":")
	if isXLA(name) && !xlaCompiledIn {
		return Choice{}, fmt.Errorf("%s=%q: this binary was built with -tags noxla; rebuild without it (cgo needed) "+
			"to use XLA, or set %s=go", EnvVar, config, EnvVar)
	}
	if !slices.Contains(compute.List(), name) {
		return Choice{}, fmt.Errorf("%s=%q names an unknown backend %q: this binary has %s; set %s=go for the "+
			"pure-Go backend, or %s=xla for XLA", EnvVar, config, name, strings.Join(Compiled(), ", "), EnvVar, EnvVar)
	}
	var (
		b   compute.Backend
		err error
	)
	switch {
	case isXLA(name):
		b, err = newXLA(options)
	case name == GoName:
		b, err = compute.NewWithConfig(GoConfig(options))
	default:
		b, err = compute.NewWithConfig(config)
	}
	if err != nil {
		hint := ""
		if isXLA(name) {
			hint = "; " + HowToGetXLA + ", or unset " + EnvVar + " to fall back to the pure-Go backend"
		}
		return Choice{}, fmt.Errorf("%s=%q: backend failed to start: %w%s", EnvVar, config, err, hint)
	}
	return Choice{Backend: b, Config: config, Reason: "set by " + EnvVar}, nil
}

// GoConfig returns the configuration of the pure-Go backend for the given options (comma-separated, as after
// "go:"), with ops_sequential added unless the options choose an execution mode.
func GoConfig(options string) string {
	if !strings.Contains(options, "ops_parallel") && !strings.Contains(options, "ops_sequential") {
		if options != "" {
			options += ","
		}
		options += "ops_sequential"
	}
	return GoName + ":" + options
}

// isXLA reports whether name is one of the names the XLA backend registers.
func isXLA(name string) bool {
	switch name {
	case XLAName, "stablehlo", "hlo", "shlo":
		return true
	}
	return false
}
