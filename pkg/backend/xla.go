//go:build !noxla

package backend

import (
	"errors"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
)

const xlaCompiledIn = true

// newXLA constructs the XLA backend with the given plugin configuration, without downloading anything. With no
// configuration it takes the first installed plugin that loads, in go-xla's order of preference (CUDA, then CPU):
// an image with both plugins runs on a machine without a GPU.
func newXLA(config string) (compute.Backend, error) {
	xla.EnableAutoInstall(false)
	if config != "" {
		return xla.New(config)
	}
	plugins := xla.GetAvailablePlugins()
	if len(plugins) == 0 {
		return nil, errors.New("no PJRT plugin is installed")
	}
	var errs []error
	for _, p := range plugins {
		b, err := xla.New(p)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// CUDAPluginVersion is the version of JAX's CUDA 13 PJRT plugin that InstallXLA installs with cuda set; it is the
// one revsgd's GPU numbers were measured with (BENCHMARKS.md).
const CUDAPluginVersion = "0.11.2"

// InstallXLA downloads and installs the XLA PJRT plugins into installPath ("" for the default, ~/.local/lib): the
// CPU plugin, and the CUDA plugin where an NVIDIA GPU is present or when cuda is set (e.g. building an image on a
// machine without a GPU). It needs internet access; it is the only place revsgd downloads plugins.
func InstallXLA(installPath string, cuda bool) error {
	if err := installer.AutoInstall(installPath, true, installer.Normal); err != nil {
		return err
	}
	if !cuda {
		return nil
	}
	if installPath == "" {
		var err error
		if installPath, err = installer.DefaultHomeLibPath(); err != nil {
			return err
		}
	}
	return installer.CudaInstall("cuda13", CUDAPluginVersion, filepath.Join(installPath, "go-xla"), true, installer.Normal)
}
