#!/usr/bin/env bash
# Runs a notebook in a real browser: starts the Jupyter notebook server that scripts/setup.sh installs on
# localhost, drives headless Chromium (Debian's, with playwright-core from the npm registry) to run all cells of
# notebooks/quadratic.ipynb, checks the figure rendered and no cell failed, keeps a screenshot in
# results/test/browser/, and stops the server.
#
# Usage: scripts/browser-test.sh [NOTEBOOK]   (default quadratic)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

nb=${1:-quadratic}
out="$root/results/test/browser"
mkdir -p "$out" tools/node

if ! command -v chromium >/dev/null; then
  echo "browser test: installing Debian's chromium"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
node_tools

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
REVSGD_RESULTS="$root/results/test/browser" REVSGD_SCALE=quick GOMLX_BACKEND=go \
  jupyter notebook --no-browser --ip=127.0.0.1 --port="$port" --NotebookApp.token="$token" --allow-root \
  --notebook-dir="$root" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -s -o /dev/null "http://127.0.0.1:$port/api?token=$token" && break
  sleep 1
done
# A copy of the notebook, so that the browser's saves do not touch the repository's file.
cp "notebooks/$nb.ipynb" "notebooks/browser-test-$nb.ipynb"
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -f "notebooks/browser-test-$nb.ipynb"' EXIT
NODE_PATH="$root/tools/node/node_modules" node scripts/browser-test.cjs \
  "http://127.0.0.1:$port/notebooks/notebooks/browser-test-$nb.ipynb?token=$token" "$out/$nb.png"
