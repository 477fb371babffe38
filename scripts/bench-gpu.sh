#!/usr/bin/env bash
# Runs the benchmark workloads on XLA with an NVIDIA GPU — the FashionMNIST MLP, then ResNet-18, VGG-11 and
# ResNet-50 (width 1, batch 8, float32, lockstep groups sized from the GPU's memory) — and then, unless
# --no-figure, the paper-scale convnet figures (on the FashionMNIST stand-in where the real CIFAR is absent), in
# pieces: within --budget seconds in all, each figure keeping what it computed in the run store, so that the next
# call (on the next GPU machine) resumes it. Prints one JSON line per workload (update maps per second) and the
# GPU's peak memory. For a machine with a GPU.
#
# Usage: scripts/bench-gpu.sh [--binary PATH] [--no-figure] [--steps N] [--models "mlp resnet18 vgg11 resnet50"]
#                             [--figures "cifar10-resnet18 cifar10-vgg cifar100-resnet adamw"] [--scale paper]
#                             [--budget SECONDS] [--resume DIR] [--pack DIR] [--out DIR]
#
# A GPU machine lent for a few minutes, whose files are lost when it goes back, runs the figures in pieces:
#
#   scripts/bench-gpu.sh --budget 420 --pack "$OUT"                      # first piece
#   scripts/bench-gpu.sh --models "" --resume carried --budget 540 --pack "$OUT"   # the next, and so on
#
# --pack DIR writes DIR/store.tgz.part-00, -01, … (the run store as `revsgd store pack` packs it: metrics,
# records, batch histories, no θ_0s or checkpoints; split in parts of 15 MB) and DIR/figures.tgz (the figures
# that finished: ID.png, .svg, .md, .json); bring them back and keep them (the parts in a directory that
# travels with the next call, e.g. one named carried/, ignored by git). --resume DIR unpacks DIR/store.tgz.part-*
# into the run store first. A finished figure goes to the gallery with `tar -xzf figures.tgz -C docs/gallery/paper`.
#
# The XLA backend is taken from $GOMLX_BACKEND if set; otherwise from the CUDA PJRT plugin installed by
# `go run ./cmd/revsgd install-xla`, or, with no download at all, from the plugin of a Python JAX with CUDA
# (the jax-cuda13-pjrt package) if one is installed. The run store is --out/runs (default results/gpu/runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="" figure=1 steps=100 models="mlp resnet18 vgg11 resnet50" budget=0 out=results/gpu
figs="cifar10-resnet18 cifar10-vgg cifar100-resnet adamw" scale=paper resume="" pack=""
while (($#)); do
  case "$1" in
    --binary) bin=$2; shift 2 ;;
    --no-figure) figure=0; shift ;;
    --steps) steps=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --figures) figs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --budget|--figure-timeout) budget=$2; shift 2 ;;
    --resume) resume=$2; shift 2 ;;
    --pack) pack=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "bench-gpu: unknown argument $1" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
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
# Lockstep groups are sized for the GPU's total memory (experiment.ReplicasForMemory).
mem_mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -1 || echo 0)
mem_gib=$(awk -v m="${mem_mib:-0}" 'BEGIN { printf "%.1f", m / 1024 }')

run() {
  local t0; t0=$(date +%s%N)
  "$@" &
  local pid=$! peak=0 m
  while kill -0 $pid 2>/dev/null; do
    m=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 || echo 0)
    ((m > peak)) && peak=$m
    sleep 0.5
  done
  local rc=0
  wait $pid || rc=$?
  echo "bench-gpu: ${*#"$bin" } — $(( ($(date +%s%N) - t0) / 1000000 )) ms, peak GPU memory ${peak} MiB, exit $rc"
}
"$bin" backend
for m in $models; do
  case $m in
    mlp) run "$bin" bench -model mlp -workload forward,backward -steps 1000 -every 10 -seeds 5 ;;
    resnet50) run "$bin" bench -model resnet50 -workload backward -steps $((steps / 2)) -every 10 -seeds 5 -device-memory "$mem_gib" ;;
    *) run "$bin" bench -model "$m" -workload backward -steps "$steps" -every 10 -seeds 5 -device-memory "$mem_gib" ;;
  esac
done
if [[ -n "$resume" ]]; then
  parts=("$resume"/store.tgz.part-*)
  if [[ -e "${parts[0]}" ]]; then
    "$bin" store unpack -into "$out/runs" "${parts[@]}"
  else
    echo "bench-gpu: --resume $resume holds no store.tgz.part-*: starting afresh" >&2
  fi
fi
if ((figure)); then
  for id in $figs; do
    args=(figure -scale "$scale" -runs "$out/runs" -out "$out/figures" -device-memory "$mem_gib" "$id")
    if ((budget > 0)); then
      left=$((budget - ($(date +%s) - start)))
      if ((left < 30)); then
        echo "bench-gpu: $id not started: the budget of $budget s is spent"
        continue
      fi
      # Stopped at the budget (SIGINT), the figure keeps what it computed in the run store; a later call resumes.
      run timeout --signal=INT "$left" "$bin" "${args[@]}"
    else
      run "$bin" "${args[@]}"
    fi
  done
fi
if [[ -n "$pack" && -d "$out/runs" ]]; then
  mkdir -p "$pack"
  rm -f "$pack"/store.tgz.part-*
  "$bin" store pack -o "$pack/store.tgz" "$out/runs"
  split -b 15m -d -a 2 "$pack/store.tgz" "$pack/store.tgz.part-"
  rm "$pack/store.tgz"
  if compgen -G "$out/figures/*.json" >/dev/null; then
    tar -czf "$pack/figures.tgz" -C "$out/figures" .
  fi
  ls -l "$pack"
fi
