//go:build !noxla

package backend

// The C allocator keeps the memory XLA frees, for XLA's next execution. XLA's CPU runtime allocates every
// execution's output and temporary buffers afresh (one block of 519 MiB for a step of 8 replicas of the
// quick-scale ResNet-18) and frees them afterwards. With glibc's defaults, a thread's allocation above 64 MiB is
// mapped and unmapped each time, so every page of it was faulted in again at every step: 27% of the time went to
// the kernel. One arena (the heap all threads share), no mapped chunks and a trim threshold of 1 GiB keep the
// memory in the process (measured in BENCHMARKS.md). The settings must precede the first allocation of any
// thread, which a Go function cannot guarantee: a C constructor makes them when a binary with the XLA backend
// starts. The cost: memory XLA freed stays with the process.

/*
#include <malloc.h>

__attribute__((constructor)) static void revsgd_keep_allocations(void) {
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
	"github.com/gomlx/go-xla/pjrt"
)

const xlaCompiledIn = true

// newXLA constructs the XLA backend with the given plugin configuration, without downloading anything. With no
// configuration it takes the first installed plugin that loads, in go-xla's order of preference (CUDA, then CPU):
// an image with both plugins runs on a machine without a GPU.
func newXLA(config string) (compute.Backend, error) {
	xla.EnableAutoInstall(false)
	if config != "" {
		if isCPUPlugin(config) {
			return newCPU(config, 1)
		}
		return xla.New(config)
	}
	plugins := xla.GetAvailablePlugins()
	if len(plugins) == 0 {
		return nil, errors.New("no PJRT plugin is installed")
	}
	var errs []error
	for _, p := range plugins {
		var b compute.Backend
		var err error
		if pjrt.IsCUDAName(p) {
			b, err = xla.New(p)
		} else {
			b, err = newCPU(p, 1)
		}
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// MaxISAFlag is the XLA flag revsgd adds to XLA_FLAGS before XLA's CPU plugin starts (on amd64, unless XLA_FLAGS
// already sets it): the code XLA generates for the CPU may use AVX but not the fused multiply-adds of AVX2 and
// AVX-512. XLA vectorises an element-wise loop by its shape, and with FMA the vector body and the scalar
// remainder round differently (a·b+c once, or twice), so the same replica's numbers changed with the size of its
// lockstep group (float64 and float32, by an ulp per map; found by TestReplicasAreIndependent). Without FMA every
// element rounds the same way whatever the shape. Matrix products and convolutions run in the plugin's compiled
// kernels, which the flag does not touch: the FashionMNIST MLP's update maps ran as fast (within the noise of
// repeated measurements, BENCHMARKS.md).
const MaxISAFlag = "--xla_cpu_max_isa=AVX"

// noContraction adds MaxISAFlag to XLA_FLAGS (see there). XLA reads XLA_FLAGS once, when the plugin first starts.
func noContraction() error {
	if runtime.GOARCH != "amd64" {
		return nil
	}
	flags := os.Getenv("XLA_FLAGS")
	if strings.Contains(flags, "xla_cpu_max_isa") {
		return nil
	}
	return os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" "+MaxISAFlag))
}

// xlaIdentity names an XLA backend for a run's identity: "xla/" and its plugin — the wheel revsgd installed it
// from ("xla/cpu/lammps-jax-pjrt-cpu==0.11.2"), else its PJRT API version ("xla/cuda/pjrt-0.104") — and XLA_FLAGS
// where the user set any.
func xlaIdentity(b compute.Backend) string {
	x, ok := b.(*xla.Backend)
	if !ok {
		return b.Name()
	}
	name := x.PluginName()
	platform := "cpu"
	if x.IsCUDA() {
		platform = "cuda"
	} else if !x.IsCPU() {
		platform = filepath.Base(name)
	}
	p, err := pjrt.GetPlugin(name)
	if err != nil {
		return XLAName + "/" + platform
	}
	id := PluginOrigin(p.Path())
	if id == "" {
		major, minor := p.Version()
		id = fmt.Sprintf("pjrt-%d.%d", major, minor)
	}
	id = XLAName + "/" + platform + "/" + id
	// XLA's flags can change its numbers; those revsgd sets itself (MaxISAFlag on the CPU) are implied.
	if flags := strings.TrimSpace(os.Getenv("XLA_FLAGS")); flags != "" && !(platform == "cpu" && flags == MaxISAFlag) {
		id += " XLA_FLAGS=" + flags
	}
	return id
}

// pluginPath returns the file of an XLA backend's plugin.
func pluginPath(b compute.Backend) string {
	if x, ok := b.(*xla.Backend); ok {
		if p, err := pjrt.GetPlugin(x.PluginName()); err == nil {
			return p.Path()
		}
	}
	return b.Name()
}

// onXLACPU reports whether b is the XLA backend running on the host's CPU.
func onXLACPU(b compute.Backend) bool {
	x, ok := b.(*xla.Backend)
	return ok && x.IsCPU()
}

// XLACPU starts XLA's CPU plugin with the given number of host devices, each running its own executions (runs
// spread over devices, revsgd figure -devices N): the plugin GOMLX_BACKEND names when it names a CPU plugin
// ("xla:/path/to/a_cpu_plugin.so"), else the installed one. It downloads nothing.
func XLACPU(devices int) (compute.Backend, error) {
	xla.EnableAutoInstall(false)
	plugin := "cpu"
	if name, config, _ := strings.Cut(os.Getenv(EnvVar), ":"); isXLA(name) && isCPUPlugin(config) {
		plugin = config
	}
	return newCPU(plugin, devices)
}

// isCPUPlugin reports whether an XLA configuration ("cpu", "/path/to/pjrt_c_api_cpu_plugin.so", with options)
// names a CPU plugin.
func isCPUPlugin(config string) bool {
	plugin, _, _ := strings.Cut(config, ",")
	return strings.Contains(strings.ToLower(filepath.Base(plugin)), "cpu")
}

// newCPU starts a CPU plugin (config: its name or path, with go-xla's options) with the given number of host
// devices. The plugin would otherwise make 4 on any machine; revsgd asks for one unless told otherwise (-devices),
// since one engine already keeps the cores busy: on two cores the quick fashion-mlp figure took 12.2 s on one
// device, 15.7 s on two and 24.2 s on four (BENCHMARKS.md).
func newCPU(config string, devices int) (compute.Backend, error) {
	if devices < 1 {
		return nil, fmt.Errorf("XLA CPU: %d devices; at least one", devices)
	}
	if err := noContraction(); err != nil {
		return nil, err
	}
	return xla.NewWithOptions(config, pjrt.NamedValuesMap{"cpu_device_count": int64(devices)})
}

// InstallXLA installs the XLA PJRT plugins into installPath/go-xla (installPath "" for the default, ~/.local/lib,
// where backend.New finds them): the CPU plugin (CPUPlugin, through pip), and the CUDA plugin where an NVIDIA GPU
// is present or when cuda is set (e.g. building an image on a machine without a GPU). It needs access to the
// Python package index; it is the only place revsgd downloads plugins, and it does nothing where the pinned CPU
// plugin is already installed.
func InstallXLA(installPath string, cuda bool, log io.Writer) error {
	if installPath == "" {
		var err error
		if installPath, err = installer.DefaultHomeLibPath(); err != nil {
			return err
		}
	}
	dir := filepath.Join(installPath, "go-xla")
	if _, err := CPUPlugin.InstallFromWheel(dir, log); err != nil {
		return err
	}
	if !cuda && !installer.HasNvidiaGPU() {
		return nil
	}
	return installCUDA(dir, log)
}
