//go:build noxla

package backend

import (
	"errors"

	"github.com/gomlx/compute"
)

const xlaCompiledIn = false

var errNoXLA = errors.New("this binary was built with -tags noxla: rebuild without it (cgo needed) to use XLA")

func newXLA(string) (compute.Backend, error) { return nil, errNoXLA }

// InstallXLA is unavailable in a -tags noxla build.
func InstallXLA(string, bool) error { return errNoXLA }
