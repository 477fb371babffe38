#!/usr/bin/env bash
# Runs notebooks in a real browser: starts JupyterLab (tools/jupyter, from scripts/setup.sh) on localhost, drives
# headless Chromium (Debian's, with playwright-core from the npm registry) to open each notebook, run all its cells
# and save it; checks in the page that the figures rendered and, for convergence-points, that moving the slider of
# its interactive view redraws it; checks the saved notebooks (no cell failed: scripts/check-notebook.py); keeps
# screenshots in results/test/browser/; and stops the server. The notebooks compute afresh, into a run store that
# is removed at the end.
#
# Usage: scripts/browser-test.sh [NOTEBOOK...]   (default: quadratic convergence-points)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

nbs=("$@")
((${#nbs[@]})) || nbs=(quadratic convergence-points)
out="$root/results/test/browser"
mkdir -p "$out" tools/node
# A fresh run store, in memory where there is room (lib.sh's in_memory), removed at the end.
rm -rf "$out/runs"
memory_store=$(in_memory "$out/runs")

browser_tools

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
copies=()
for nb in "${nbs[@]}"; do copies+=("notebooks/browser-test-$nb.ipynb"); done
cleanup() {
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -f "${copies[@]}"
  if [[ -n "$memory_store" ]]; then rm -rf "$memory_store" "$out/runs"; fi
}
REVSGD_RESULTS="$out" REVSGD_SCALE=quick \
  jupyter lab --no-browser --ip=127.0.0.1 --port="$port" --ServerApp.token="$token" --allow-root \
  --ServerApp.root_dir="$root" >"$out/server.log" 2>&1 &
server=$!
trap cleanup EXIT
for _ in $(seq 60); do
  curl -s -o /dev/null "http://127.0.0.1:$port/api?token=$token" && break
  sleep 1
done
urls=()
for nb in "${nbs[@]}"; do
  # A copy, so that the browser's save does not touch the repository's notebook.
  cp "notebooks/$nb.ipynb" "notebooks/browser-test-$nb.ipynb"
  # Each notebook in a workspace of its own, reset, so that JupyterLab does not restore the previous one beside it.
  urls+=("http://127.0.0.1:$port/lab/workspaces/browser-test-$nb/tree/notebooks/browser-test-$nb.ipynb?reset&token=$token"
         "$out/$nb.png")
done
NODE_PATH="$root/tools/node/node_modules" node scripts/browser-test.cjs "${urls[@]}"
mkdir -p "$out/saved"
for nb in "${nbs[@]}"; do cp "notebooks/browser-test-$nb.ipynb" "$out/saved/$nb.ipynb"; done
python3 scripts/check-notebook.py "$out"/saved/*.ipynb
