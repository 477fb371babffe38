// Package backendtest gives tests their backends, each started once per test binary and shared by its tests:
// the backend revsgd would choose (Default), the pure-Go backend (Go), and XLA's CPU plugin with a given number
// of host devices (XLACPU).
package backendtest

import (
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // The pure-Go backend.
	"github.com/revsgd/revsgd/pkg/backend"
)

// RequireXLAEnv, set to 1, makes a missing XLA CPU plugin fail the tests that need it instead of skipping them:
// scripts/test.sh sets it, after installing the plugin.
const RequireXLAEnv = "REVSGD_REQUIRE_XLA"

var (
	once    sync.Once
	shared  compute.Backend
	initErr error
)

// Go returns the pure-Go backend as revsgd configures it (backend.GoConfig), failing the test if it cannot start.
// Tests of what is particular to that backend use it; the others use Default.
func Go(tb testing.TB) compute.Backend {
	tb.Helper()
	once.Do(func() { shared, initErr = compute.NewWithConfig(backend.GoConfig("")) })
	if initErr != nil {
		tb.Fatalf("pure-Go backend: %v", initErr)
	}
	return shared
}

var (
	defaultOnce sync.Once
	defaultB    compute.Backend
	defaultErr  error
)

// Default returns the backend revsgd chooses (backend.New): the one GOMLX_BACKEND names, else XLA where a PJRT
// plugin is installed (the CPU plugin, after scripts/setup.sh), else the pure-Go backend. So `go test ./...` runs
// on XLA CPU where it is installed, and GOMLX_BACKEND=go runs the same tests on the pure-Go backend.
func Default(tb testing.TB) compute.Backend {
	tb.Helper()
	defaultOnce.Do(func() {
		var c backend.Choice
		if c, defaultErr = backend.New(); defaultErr == nil {
			defaultB = c.Backend
		}
	})
	if defaultErr != nil {
		tb.Fatalf("backend: %v", defaultErr)
	}
	if backend.IsGo(defaultB) {
		return Go(tb) // one pure-Go backend per test binary, whichever way it was asked for
	}
	return defaultB
}

var (
	xlaMu  sync.Mutex
	xlaCPU = map[int]compute.Backend{}
)

// XLACPU returns XLA's CPU plugin with the given number of host devices. Where no CPU plugin is
// installed the test is skipped — or fails, when RequireXLAEnv is set — with the command that installs it.
//
// The plugin makes as many host devices as its client is created with (backend.XLACPU); one client is kept per
// device count.
func XLACPU(tb testing.TB, devices int) compute.Backend {
	tb.Helper()
	xlaMu.Lock()
	defer xlaMu.Unlock()
	if b := xlaCPU[devices]; b != nil {
		return b
	}
	b, err := backend.XLACPU(devices)
	if err != nil {
		if os.Getenv(RequireXLAEnv) == "1" {
			tb.Fatalf("XLA CPU plugin: %v", err)
		}
		tb.Skipf("XLA CPU plugin not available (%v): scripts/setup.sh installs it", err)
	}
	xlaCPU[devices] = b
	return b
}
