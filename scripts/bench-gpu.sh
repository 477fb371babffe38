#!/usr/bin/env bash
# Runs the benchmark workloads on XLA with an NVIDIA GPU, then (unless --no-figure) the paper-scale
# cifar10-resnet18 figure, printing update maps per second and GPU memory. For a machine with a GPU.
#
# Usage: scripts/bench-gpu.sh [--binary PATH] [--no-figure] [--steps N]
#
# The XLA backend is taken from $GOMLX_BACKEND if set; otherwise from the CUDA PJRT plugin installed by
# `go run ./cmd/revsgd install-xla`, or, with no download at all, from the plugin of a Python JAX with CUDA
# (the jax-cuda13-pjrt package) if one is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="" figure=1 steps=1000
while (($#)); do
  case "$1" in
    --binary) bin=$2; shift 2 ;;
    --no-figure) figure=0; shift ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "bench-gpu: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$bin" ]]; then
  bin=$(mktemp -d)/revsgd
  go build -o "$bin" ./cmd/revsgd
fi

if [[ -z "${GOMLX_BACKEND:-}" ]]; then
  plugin=$(python3 - <<'PY' 2>/dev/null || true
import glob, os
try:
    import jax_plugins.xla_cuda13 as p
    print(glob.glob(os.path.join(os.path.dirname(p.__file__), "xla_cuda_plugin.so"))[0])
except Exception:
    pass
PY
)
  if [[ -n "$plugin" ]]; then
    export GOMLX_BACKEND="xla:$plugin"
    # The plugin loads CUDA's libraries from the nvidia-* Python packages.
    site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
    export LD_LIBRARY_PATH="$(ls -d "$site"/nvidia/*/lib | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export GOPJRT_CUDA_CHECKS=0  # the libraries are found through LD_LIBRARY_PATH, not beside the plugin
  else
    export GOMLX_BACKEND=xla:cuda
  fi
fi
echo "bench-gpu: GOMLX_BACKEND=$GOMLX_BACKEND"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

run() {
  local t0; t0=$(date +%s%N)
  "$bin" "$@" &
  local pid=$! peak=0 m
  while kill -0 $pid 2>/dev/null; do
    m=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 || echo 0)
    ((m > peak)) && peak=$m
    sleep 0.5
  done
  wait $pid
  echo "bench-gpu: $* — $(( ($(date +%s%N) - t0) / 1000000 )) ms, peak GPU memory ${peak} MiB"
}
"$bin" backend
run bench -model mlp -workload forward,backward -steps "$steps" -every 10 -seeds 5
run bench -model resnet18 -workload forward -steps 100 -seeds 5
run bench -model resnet18 -workload backward -steps 100 -every 10 -seeds 5
if ((figure)); then
  run figure -scale paper cifar10-resnet18
fi
