#!/usr/bin/env bash
# Puts the figures of a reproduction (results/figures/, from scripts/reproduce.sh) in the README's gallery: each
# figure's image and claims file (ID.png, ID.json) go to docs/gallery/ when the claims file says it was run at quick
# scale, to docs/gallery/paper/ when at paper scale, replacing the figure's files there; then docs/figures.md and
# the README's gallery are regenerated from the claims files (revsgd catalogue), which show the paper-scale image
# where there is one. It changes tracked files: review them with git diff.
#
# Usage: scripts/update-gallery.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

if (($# > 0)); then
  echo "update-gallery: takes no arguments: each figure's scale is read from its claims file" >&2
  exit 2
fi
figures=("$root"/results/figures/*.png)
[[ -e ${figures[0]} ]] || { echo "update-gallery: no figures in results/figures/: run scripts/reproduce.sh first" >&2; exit 1; }

gallery="$root/docs/gallery"
for png in "${figures[@]}"; do
  id=$(basename "$png" .png)
  json="$root/results/figures/$id.json"
  scale=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["scale"])' "$json")
  case "$scale" in
    quick) dest=$gallery ;;
    paper) dest=$gallery/paper ;;
    *) echo "update-gallery: $json: unknown scale '$scale'" >&2; exit 1 ;;
  esac
  mkdir -p "$dest"
  cp "$png" "$json" "$dest/"
  echo "update-gallery: $id ($scale) -> ${dest#$root/}"
done
go run ./cmd/revsgd catalogue   # docs/figures.md and the README's gallery, from the claims files in docs/gallery
echo "update-gallery: docs/gallery, docs/figures.md and README.md updated from results/figures/"
