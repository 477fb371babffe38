#!/usr/bin/env bash
# The main job: sets up what is missing (scripts/setup.sh), then executes every notebook headlessly at the chosen
# scale, writing the executed notebooks to results/notebooks/ and the figures (PNG, SVG, Markdown and the claims'
# JSON) to results/figures/. It writes nothing that git tracks: scripts/update-gallery.sh puts the figures in the
# README's gallery, a separate, explicit step.
#
# Usage: scripts/reproduce.sh [quick|paper]      (default: quick; paper is meant for XLA on a GPU)
# The backend follows GOMLX_BACKEND (see README); unset, XLA is used where its plugin is installed, else pure Go.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

scale=${1:-quick}
case "$scale" in
  quick|paper) ;;
  *) echo "reproduce: unknown scale '$scale'; use quick (CPU, minutes) or paper (the paper's settings)" >&2; exit 2 ;;
esac

tracked_before=$(git status --porcelain 2>/dev/null || true)
bash scripts/setup.sh
export REVSGD_SCALE=$scale REVSGD_RESULTS="$root/results"
run_notebooks "$root/results/notebooks" $(notebooks_in_order)

if [[ "$(git status --porcelain 2>/dev/null || true)" != "$tracked_before" ]]; then
  echo "reproduce: this run changed files git sees (a fault: it writes only under results/):" >&2
  git status --short >&2
  exit 1
fi
echo "reproduce: figures in results/figures/, executed notebooks in results/notebooks/ (scale $scale); to put them in"
echo "reproduce: the README's gallery (docs/gallery, tracked by git), run scripts/update-gallery.sh"
