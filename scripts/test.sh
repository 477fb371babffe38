#!/usr/bin/env bash
# The test command: sets up what is missing (scripts/setup.sh, which installs XLA's CPU plugin), then runs go vet,
# the Go tests on XLA's CPU plugin (the backend revsgd chooses; a missing plugin fails them), those of the packages
# that compute (backend, replay, experiment, lie) again on the pure-Go backend, the cgo-free -tags noxla build and
# its backend tests, the Slurm job template on a one-node Slurm cluster (scripts/test-slurm.sh), every notebook headlessly at quick scale on XLA, a notebook with an edited settings cell
# (scripts/notebook-edit-test.sh), the figures' claims (pkg/figures TestClaims, on the runs the notebooks stored),
# the Dockerfile lint, two notebooks in a real browser (headless Chromium), and the Docker image built from the
# Dockerfile with a notebook run in its JupyterLab (scripts/test-docker.sh). Any failure fails; each part prints
# its wall time. The image builds in the background while the notebooks run, at the lowest CPU priority (its
# daemon started under nice 19), so that it takes the cores only when the notebooks leave them idle and its
# downloads overlap their computing; the Docker part at the end then finds it in the daemon's cache. (Building
# it at normal priority from the start was tried: on two cores its compiling slowed the Go tests by as much as it
# saved — go test 487 s instead of about 200.)
#
# Usage: scripts/test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

tracked_before=$(git status --porcelain 2>/dev/null || true)
bash scripts/setup.sh
unset GOMLX_BACKEND               # the backend revsgd chooses: XLA's CPU plugin, which setup.sh installed
export REVSGD_REQUIRE_XLA=1       # tests that need the plugin fail without it instead of skipping

# part NAME starts a part of the run: it prints the wall time of the previous one, then the name and the clock.
last=$SECONDS
part() {
  echo "   ($((SECONDS - last)) s)"
  last=$SECONDS
  echo "== $* ($(date +%T))"
}

part "go vet"
go vet ./...
go vet -tags noxla ./pkg/backend/...   # the only files the tag selects (every package builds with it below)
part "go test on XLA CPU (-short: every test but the figures' claims, which run after the notebooks)"
go run ./cmd/revsgd backend >/dev/null   # prints the backend line
go test -count=1 -short ./...
part "go test on the pure-Go backend (the packages that compute), and the cgo-free build"
# Tests that name their backends (pure Go and XLA's CPU plugin side by side) ran in full above; here they would
# compute the same again, so they are skipped.
explicit='TestDevicesGiveTheSameRuns|TestXLAAgreesWithPureGo|TestFixedWidthMakesNumbersIndependent'
GOMLX_BACKEND=go go test -count=1 -short -skip "^($explicit)\$" ./pkg/backend/... ./pkg/replay/... ./pkg/experiment/... ./pkg/lie/...
CGO_ENABLED=0 go build -tags noxla ./...
CGO_ENABLED=0 go test -count=1 -short -tags noxla ./pkg/backend/...
part "the Slurm template, submitted to a one-node Slurm cluster (an array of 3 shards, one requeued)"
bash scripts/test-slurm.sh
part "notebooks at quick scale"
rm -rf "$root/results/test"   # compute everything afresh: the run store must not hide a failure
# The run store in memory where there is room (lib.sh's in_memory); removed when the test ends, pass or fail.
memory_store=$(in_memory "$root/results/test/runs")
if [[ -n "$memory_store" ]]; then echo "the notebooks' run store: results/test/runs, linked to $memory_store (in memory)"; fi
docker_log="$root/results/test/docker-build.log"
nice -n 19 bash scripts/test-docker.sh --build-only >"$docker_log" 2>&1 &
docker_build=$!
echo "the Docker image builds in the background (nice 19; log: results/test/docker-build.log)"
finish() {
  kill "$docker_build" 2>/dev/null && wait "$docker_build" 2>/dev/null   # stops the daemon it started
  if [[ -n "$memory_store" ]]; then rm -rf "$memory_store"; fi
}
trap finish EXIT
export REVSGD_SCALE=quick REVSGD_RESULTS="$root/results/test"
run_notebooks "$root/results/test/notebooks" $(notebooks_in_order)
part "editing a notebook's settings cell changes that figure and nothing else"
bash scripts/notebook-edit-test.sh
part "the figures' claims at quick scale (re-plotted from the runs the notebooks stored)"
REVSGD_CLAIMS=1 go test -count=1 -timeout 60m -run 'TestClaims$' ./pkg/figures
part "Dockerfile lint"
node_tools
tools/node/node_modules/.bin/dockerfilelint Dockerfile
part "notebooks in JupyterLab in a real browser"
bash scripts/browser-test.sh   # quadratic and convergence-points, in JupyterLab
part "the Docker image: built from the Dockerfile, JupyterLab served from a container, a notebook run there in a browser"
if wait "$docker_build"; then
  grep '^docker test: ' "$docker_log"
else
  echo "the background build failed (log below); building again:"; tail -n 20 "$docker_log"
fi
bash scripts/test-docker.sh
part "the run left every file git tracks as it found it (the notebooks write only under results/)"
tracked_after=$(git status --porcelain 2>/dev/null || true)
if [[ "$tracked_after" != "$tracked_before" ]]; then
  echo "test: files git sees changed during the run:"; diff <(echo "$tracked_before") <(echo "$tracked_after") || true
  exit 1
fi
part "all tests passed in $SECONDS s, setup included"
