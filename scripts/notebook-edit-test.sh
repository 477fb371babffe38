#!/usr/bin/env bash
# Editing a figure notebook's settings cell changes that figure and nothing else: a copy of the quadratic notebook
# with `e.H = 0.2` uncommented in its settings cell is executed against the results of a notebook run
# ($REVSGD_RESULTS, e.g. scripts/test.sh's); the quadratic's figure, claim file and summary must change, and say h = 0.2,
# and every other file under figures/ must stay byte for byte the same. The original files are put back after.
#
# Usage: REVSGD_RESULTS=DIR scripts/notebook-edit-test.sh   (DIR holds figures/ from a notebook run)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

results=${REVSGD_RESULTS:?set REVSGD_RESULTS to the results of a notebook run}
figs="$results/figures"
[[ -f "$figs/quadratic.json" ]] || { echo "notebook-edit-test: $figs/quadratic.json missing: run the notebooks first" >&2; exit 1; }
work=$(mktemp -d)
edited="notebooks/.edit-test-quadratic.ipynb"   # beside the others: its first cell finds the module at ${GONB_DIR}/..
trap 'cp "$work"/keep/* "$figs"/ 2>/dev/null || true; rm -rf "$work" "$edited"' EXIT
mkdir -p "$work/keep"
cp "$figs"/quadratic.* "$work/keep/"
(cd "$figs" && sha256sum * | sort -k2) > "$work/before"

python3 - "$edited" <<'PY'
import json, sys
nb = json.load(open("notebooks/quadratic.ipynb"))
hits = 0
for cell in nb["cells"]:
    src = "".join(cell["source"])
    if cell["cell_type"] == "code" and "// e.H = 0.2" in src:
        cell["source"] = src.replace("// e.H = 0.2", "e.H = 0.2", 1)
        hits += 1
assert hits == 1, f"the settings cell with '// e.H = 0.2' was found {hits} times"
json.dump(nb, open(sys.argv[1], "w"))
PY
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout="$NOTEBOOK_TIMEOUT" \
  --output-dir "$work" --output edited "$edited" > "$work/log" 2>&1 || { tail -n 30 "$work/log"; exit 1; }
python3 "$root/scripts/check-notebook.py" "$work/edited.ipynb"

(cd "$figs" && sha256sum * | sort -k2) > "$work/after"
changed=$( (diff <(awk '{print $2, $1}' "$work/before") <(awk '{print $2, $1}' "$work/after") || true) |
  awk '/^[<>]/ {print $2}' | sort -u)
expected=$(printf '%s\n' quadratic.json quadratic.md quadratic.png quadratic.svg)
if [[ "$changed" != "$expected" ]]; then
  echo "notebook-edit-test: editing h changed these files, want exactly the quadratic's:"; echo "$changed"; exit 1
fi
grep -q 'h = 0.2 on' "$figs/quadratic.json" || { echo "notebook-edit-test: quadratic.json does not say h = 0.2"; exit 1; }
echo "notebook-edit-test: h = 0.2 in the settings cell changed quadratic.{png,svg,json,md} and nothing else"
