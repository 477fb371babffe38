#!/usr/bin/env bash
# The main job: sets up what is missing (scripts/setup.sh), then executes every notebook headlessly at the chosen
# scale, writing the executed notebooks to results/notebooks/ and the figures (PNG and SVG) to results/figures/.
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

bash scripts/setup.sh
export REVSGD_SCALE=$scale REVSGD_RESULTS="$root/results"
run_notebooks "$root/results/notebooks" notebooks/*.ipynb
echo "reproduce: figures in results/figures/, executed notebooks in results/notebooks/ (scale $scale)"
