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
run_notebooks "$root/results/notebooks" $(notebooks_in_order)

# The README's gallery (docs/gallery): this run's figures and their claim files (ID.json) replace those of the
# same or a smaller scale, and docs/gallery/scales.txt records where each image comes from.
gallery="$root/docs/gallery"
for png in "$root"/results/figures/*.png; do
  id=$(basename "$png" .png)
  have=$(awk -v id="$id" '$1 == id {print $2}' "$gallery/scales.txt" 2>/dev/null)
  if [[ "$scale" == paper || "$have" != paper ]]; then
    cp "$png" "$gallery/$id.png"
    cp "$root/results/figures/$id.json" "$gallery/$id.json"
    grep -v "^$id " "$gallery/scales.txt" > "$gallery/scales.txt.new" || true
    echo "$id $scale ${GOMLX_BACKEND:-auto} $(date +%F)" >> "$gallery/scales.txt.new"
    { grep '^#' "$gallery/scales.txt.new"; grep -v '^#' "$gallery/scales.txt.new" | sort; } > "$gallery/scales.txt"
    rm "$gallery/scales.txt.new"
  fi
done
go run ./cmd/revsgd catalogue   # docs/figures.md and the README's gallery, from docs/gallery/ID.json
echo "reproduce: figures in results/figures/ and docs/gallery/, executed notebooks in results/notebooks/ (scale $scale)"
