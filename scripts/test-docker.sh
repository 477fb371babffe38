#!/usr/bin/env bash
# Builds the Dockerfile's CPU image and uses it: starts a Docker daemon of its own (Debian's docker.io, installed if
# missing, on a data directory outside the clone that keeps its cache between runs: $REVSGD_DOCKER_DIR, default
# /var/lib/revsgd-docker), makes the base image with debootstrap from this machine's Debian mirror when it has
# none (Docker's public registry may be out of reach), builds the image (CIFAR=no: CIFAR's site may be out of
# reach too), runs JupyterLab in a container, and drives a notebook there in a real browser (scripts/browser-
# test.cjs: run all cells, the figure rendered, the saved notebook checked; screenshot in results/test/docker/).
# With --cuda it also builds the CUDA variant (GPU=cuda), which cannot run without a GPU; with --build-only it
# builds and stops there (e.g. to fill the daemon's cache ahead of a later full run). Then it stops what it
# started. Needs root (it starts the daemon), re-running
# itself with sudo -E otherwise. Prints its wall time.
#
# The README's Docker lines are the ones this script runs, with the base image and the build arguments above:
#
#   docker build -t revsgd . && docker run --rm -p 8888:8888 revsgd
#
# Usage: scripts/test-docker.sh [--cuda] [--build-only]
set -euo pipefail
if (($(id -u) != 0)); then
  exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
cd "$root"
cuda=0 build_only=0
for arg in "$@"; do
  case $arg in
    --cuda) cuda=1 ;;
    --build-only) build_only=1 ;;
    *) echo "test-docker: unknown argument $arg; use --cuda and/or --build-only" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
say() { echo "docker test: $*"; }

dir=${REVSGD_DOCKER_DIR:-/var/lib/revsgd-docker}
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null || [[ ! -x /usr/bin/docker ]]; then
  say "installing Debian's docker.io and debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
fi
# Debian's client: it speaks this daemon's API (a newer client found first on the PATH may not).
docker=/usr/bin/docker
export DOCKER_HOST=unix://$dir/docker.sock
mkdir -p "$dir/data" "$dir/exec" "$root/results/test/docker"
out=$root/results/test/docker
container=revsgd-test-$$

stop() {
  local rc=$?
  "$docker" rm -f "$container" >/dev/null 2>&1 || true
  rm -f "$root/docker/ca-certificates/machine.crt"
  if [[ -f $dir/dockerd.pid ]]; then
    kill "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [[ -f $dir/dockerd.pid ]] || break; sleep 0.2; done
  fi
  umount "$dir/exec/netns/default" 2>/dev/null || true
  ((rc == 0)) || { say "FAILED; the daemon's log:"; tail -n 15 "$dir/dockerd.log" || true; }
  say "daemon stopped ($(( $(date +%s) - start )) s in all)"
}
trap stop EXIT
trap 'exit 143' TERM INT   # stopped from outside: still stop the daemon

if ! "$docker" version >/dev/null 2>&1; then
  dockerd --storage-driver=overlay2 --iptables=false --bridge=none --data-root="$dir/data" \
    --exec-root="$dir/exec" --pidfile="$dir/dockerd.pid" --host="$DOCKER_HOST" >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 60); do "$docker" version >/dev/null 2>&1 && break; sleep 0.5; done
fi
"$docker" version --format 'docker test: daemon {{.Server.Version}}'

base=local/debian:12   # built with --build-arg BASE=local/debian --build-arg BASE_TAG=12
if ! "$docker" image inspect "$base" >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n $mirror ]] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  say "making the base image $base with debootstrap (bookworm, minbase) from this machine's Debian mirror"
  rm -rf "$dir/rootfs"
  debootstrap --variant=minbase bookworm "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1
  tar -C "$dir/rootfs" -c . | "$docker" import - "$base" >/dev/null
  rm -rf "$dir/rootfs"
fi

# The build trusts what this machine trusts (a proxy that inspects TLS included).
cp /etc/ssl/certs/ca-certificates.crt "$root/docker/ca-certificates/machine.crt"
t=$(date +%s)
"$docker" build -q --network host --build-arg BASE="${base%:*}" --build-arg BASE_TAG="${base#*:}" --build-arg CIFAR=no -t revsgd:test . >/dev/null
say "built revsgd:test from the Dockerfile in $(( $(date +%s) - t )) s"
if ((cuda)); then
  t=$(date +%s)
  "$docker" build -q --network host --build-arg BASE="${base%:*}" --build-arg BASE_TAG="${base#*:}" --build-arg CIFAR=no --build-arg GPU=cuda \
    -t revsgd-gpu:test . >/dev/null
  say "built the CUDA variant revsgd-gpu:test in $(( $(date +%s) - t )) s (it cannot run without a GPU)"
fi
((build_only)) && exit 0

# JupyterLab in the container, as the image's default command starts it, on a free port of the host network.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
"$docker" run -d --network host --name "$container" -e REVSGD_SCALE=quick -e REVSGD_RESULTS=/tmp/results \
  revsgd:test jupyter lab --ip=127.0.0.1 --port="$port" --no-browser --allow-root \
  --ServerApp.token="$token" --ServerApp.root_dir=/revsgd >/dev/null
for _ in $(seq 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/api?token=$token" && break
  sleep 0.5
done
curl -s -o /dev/null "http://127.0.0.1:$port/api?token=$token" || { "$docker" logs "$container" | tail; exit 1; }
say "JupyterLab serves from the container on port $port"

# A notebook driven in the browser, on a copy inside the container.
nb=quadratic
"$docker" exec "$container" cp "notebooks/$nb.ipynb" "notebooks/docker-test-$nb.ipynb"
browser_tools
NODE_PATH="$root/tools/node/node_modules" node scripts/browser-test.cjs \
  "http://127.0.0.1:$port/lab/workspaces/docker-test-$nb/tree/notebooks/docker-test-$nb.ipynb?reset&token=$token" \
  "$out/$nb.png"
"$docker" cp "$container:/revsgd/notebooks/docker-test-$nb.ipynb" "$out/$nb.ipynb"
python3 scripts/check-notebook.py "$out/$nb.ipynb"
say "the $nb notebook ran in the container's JupyterLab; screenshot $out/$nb.png"
