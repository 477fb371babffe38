#!/usr/bin/env bash
# The main job: sets up what is missing (scripts/setup.sh), then reproduces the figures at the chosen scale into
# results/: figures (PNG, SVG, Markdown and the claims' JSON, which records the run's settings, backend, version and
# time) in results/figures/, runs in the run store results/runs/ (an interrupted reproduction resumes from it). It
# writes nothing that git tracks: scripts/update-gallery.sh puts the figures in the README's gallery, a separate,
# explicit step.
#
# Usage: scripts/reproduce.sh [quick|paper-cpu|paper]
#   quick      every notebook, headlessly, at quick scale (executed notebooks in results/notebooks/); minutes
#   paper-cpu  at the paper's settings, every figure whose paper scale fits two CPU cores, with `revsgd figure`:
#              quadratic, regression-mlp, stationary, fashion-mlp, baselines, stopping, intermittent,
#              late-switch, lie-bracket and adamw's MLP part (-parts mlp) — about an hour on two cores; each
#              figure's time is in docs/figures.md. Not lr-sweep (fashion-mlp's cost at each of its learning
#              rates) nor the convnets, which need a GPU.
#   paper      every notebook at the paper's settings (meant for XLA on a GPU)
# The backend follows GOMLX_BACKEND (see README); unset, XLA is used where its plugin is installed, else pure Go.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

scale=${1:-quick}
case "$scale" in
  quick|paper|paper-cpu) ;;
  *) echo "reproduce: unknown scale '$scale'; use quick (CPU, minutes), paper-cpu (the paper's settings of the figures that fit two CPU cores, about an hour) or paper (every figure at the paper's settings, for a GPU)" >&2; exit 2 ;;
esac

tracked_before=$(git status --porcelain 2>/dev/null || true)
bash scripts/setup.sh
if [[ $scale == paper-cpu ]]; then
  mkdir -p results/bin
  go build -o results/bin/revsgd ./cmd/revsgd
  # Two lanes, as the notebooks run (XLA keeps about one core of two busy per process), which share no runs:
  # regression-mlp and stopping share runs, so do fashion-mlp, baselines and stopping, and intermittent and
  # late-switch. Each line of a lane's progress is prefixed with its lane.
  lane() {
    local name=$1; shift
    results/bin/revsgd figure -scale paper -runs results/runs -out results/figures "$@" 2>&1 | sed -u "s/^/[$name] /"
    return "${PIPESTATUS[0]}"
  }
  lane1() { lane lane1 quadratic regression-mlp fashion-mlp baselines stopping; }
  lane2() { lane lane2 intermittent late-switch stationary lie-bracket && lane lane2 -parts mlp adamw; }
  failed=0
  lane1 & one=$!
  lane2 & two=$!
  wait "$one" || failed=1
  wait "$two" || failed=1
  ((failed == 0)) || { echo "reproduce: a figure failed (above); run the command again to resume from the run store" >&2; exit 1; }
else
  export REVSGD_SCALE=$scale REVSGD_RESULTS="$root/results"
  run_notebooks "$root/results/notebooks" $(notebooks_in_order)
fi

if [[ "$(git status --porcelain 2>/dev/null || true)" != "$tracked_before" ]]; then
  echo "reproduce: this run changed files git sees (a fault: it writes only under results/):" >&2
  git status --short >&2
  exit 1
fi
echo "reproduce: figures in results/figures/ (scale $scale), the runs in results/runs/; to put them in the README's"
echo "reproduce: gallery (docs/gallery, tracked by git), run scripts/update-gallery.sh"
