//go:build noxla

package backend

import (
	"errors"
	"io"

	"github.com/gomlx/compute"
)

const xlaCompiledIn = false

var errNoXLA = errors.New("this binary was built with -tags noxla: rebuild without it (cgo needed) to use XLA")

func newXLA(string) (compute.Backend, error) { return nil, errNoXLA }

// InstallXLA is unavailable in a -tags noxla build.
func InstallXLA(string, bool, io.Writer) error { return errNoXLA }

// XLACPU is unavailable in a -tags noxla build.
func XLACPU(int) (compute.Backend, error) { return nil, errNoXLA }

func xlaIdentity(b compute.Backend) string { return b.Name() }

func onXLACPU(compute.Backend) bool { return false }

func pluginPath(b compute.Backend) string { return b.Name() }
