//go:build !noxla

package backend

import (
	"errors"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
)

const xlaCompiledIn = true

// newXLA constructs the XLA backend with the given plugin configuration ("" for the best installed plugin),
// without downloading anything.
func newXLA(config string) (compute.Backend, error) {
	xla.EnableAutoInstall(false)
	if config == "" && len(xla.GetAvailablePlugins()) == 0 {
		return nil, errors.New("no PJRT plugin is installed")
	}
	return xla.New(config)
}

// InstallXLA downloads and installs the XLA PJRT plugins for this machine (the CPU plugin, and the CUDA plugin
// where an NVIDIA GPU is present) into installPath ("" for the default, ~/.local/lib/go-xla). It needs internet
// access; it is the only place revsgd downloads plugins.
func InstallXLA(installPath string) error {
	return installer.AutoInstall(installPath, true, installer.Normal)
}
