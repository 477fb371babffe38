// Package backendtest gives tests the pure-Go backend, shared across the tests of a package.
package backendtest

import (
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // The pure-Go backend.
	"github.com/revsgd/revsgd/pkg/backend"
)

var (
	once    sync.Once
	shared  compute.Backend
	initErr error
)

// Go returns the pure-Go backend as revsgd configures it (backend.GoConfig), failing the test if it cannot start.
func Go(tb testing.TB) compute.Backend {
	tb.Helper()
	once.Do(func() { shared, initErr = compute.NewWithConfig(backend.GoConfig("")) })
	if initErr != nil {
		tb.Fatalf("pure-Go backend: %v", initErr)
	}
	return shared
}

var (
	selectedOnce sync.Once
	selected     compute.Backend
	selectedErr  error
)

// Selected returns the backend that GOMLX_BACKEND names (backend.New's rule), or the pure-Go backend when it is
// unset, so that a test binary built here can run its tests again on XLA where XLA is installed.
func Selected(tb testing.TB) compute.Backend {
	tb.Helper()
	if _, set := os.LookupEnv(backend.EnvVar); !set {
		return Go(tb)
	}
	selectedOnce.Do(func() {
		var c backend.Choice
		c, selectedErr = backend.New()
		selected = c.Backend
	})
	if selectedErr != nil {
		tb.Fatalf("backend from %s: %v", backend.EnvVar, selectedErr)
	}
	return selected
}
