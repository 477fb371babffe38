// Package backendtest gives tests the pure-Go backend, shared across the tests of a package.
package backendtest

import (
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
