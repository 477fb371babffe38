#!/usr/bin/env bash
# Puts the figures of a reproduction (results/figures/, from scripts/reproduce.sh) in the README's gallery: each
# figure's image and claim file (ID.png, ID.json) replace those in docs/gallery of the same or a smaller scale,
# docs/gallery/scales.txt records where each image comes from, and docs/figures.md and the README's gallery are
# regenerated from the claim files (revsgd catalogue). It changes tracked files: review them with git diff.
#
# Usage: scripts/update-gallery.sh [quick|paper]   (the scale results/figures/ was made at; default quick)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

scale=${1:-quick}
case "$scale" in
  quick|paper) ;;
  *) echo "update-gallery: unknown scale '$scale'; use quick or paper" >&2; exit 2 ;;
esac
figures=("$root"/results/figures/*.png)
[[ -e ${figures[0]} ]] || { echo "update-gallery: no figures in results/figures/: run scripts/reproduce.sh first" >&2; exit 1; }

gallery="$root/docs/gallery"
for png in "${figures[@]}"; do
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
echo "update-gallery: docs/gallery, docs/figures.md and README.md updated from results/figures/ (scale $scale)"
