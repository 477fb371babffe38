#!/usr/bin/env bash
# The test command: sets up what is missing (scripts/setup.sh), then runs go vet, the Go tests on the pure-Go
# backend (also the cgo-free -tags noxla build), every notebook headlessly at quick scale, a notebook with an
# edited settings cell (scripts/notebook-edit-test.sh), the figures' claims
# (pkg/figures TestClaims, on the runs the notebooks stored), the Dockerfile lint, and one notebook in a real
# browser (headless Chromium). Any failure fails.
#
# Usage: scripts/test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

bash scripts/setup.sh
export GOMLX_BACKEND=go   # tests and notebooks run on the pure-Go backend

echo "== go vet"
go vet ./...
go vet -tags noxla ./...
echo "== cgo-free build"
CGO_ENABLED=0 go build -tags noxla ./...
echo "== go test (-short: every test but the figures' claims, which run after the notebooks)"
go test -count=1 -short ./...
echo "== notebooks at quick scale"
rm -rf "$root/results/test"   # compute everything afresh: the run store must not hide a failure
export REVSGD_SCALE=quick REVSGD_RESULTS="$root/results/test"
run_notebooks "$root/results/test/notebooks" $(notebooks_in_order)
echo "== editing a notebook's settings cell changes that figure and nothing else"
bash scripts/notebook-edit-test.sh
echo "== the figures' claims at quick scale (re-plotted from the runs the notebooks stored)"
go test -count=1 -timeout 60m -run 'TestClaims$' ./pkg/figures
echo "== Dockerfile lint"
node_tools
tools/node/node_modules/.bin/dockerfilelint Dockerfile
echo "== notebooks in JupyterLab in a real browser"
bash scripts/browser-test.sh   # quadratic and convergence-points, in JupyterLab
echo "== all tests passed"
