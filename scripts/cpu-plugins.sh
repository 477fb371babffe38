#!/usr/bin/env bash
# Compares the PJRT CPU plugins on the package index (pinned with their hashes below), the measurement behind
# pkg/backend.CPUPlugin: for each, its PJRT API version, whether a replica's numbers are those it has alone
# (pkg/replay's fixed-width and independence tests, run on that plugin), and the FashionMNIST MLP's backward curve
# (revsgd bench, 8 replicas) twice, alternating plugins. Writes docs/benchmarks/xla-cpu-plugins-DATE.txt, which
# BENCHMARKS.md quotes.
#
# Usage: scripts/cpu-plugins.sh [N]     (backward curve to N, default 300; about 5 minutes on two cores)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
steps=${1:-300}
bash scripts/setup.sh >/dev/null
plugins=(
  "xla-cpu-pjrt==0.0.1 55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so"
  "lammps-jax-pjrt-cpu==0.11.2 1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1 lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so"
  "fastatomstruct-xla-cpu==2026.6.23 88b1c430b341b4bea40a37420311c9c75db6e22b46d2ff95b6986577bee6afe9 fastatomstruct_xla_cpu/libpjrt_cpu.so"
)
work="$root/results/cpu-plugins"
mkdir -p "$work"
go build -o "$work/revsgd" ./cmd/revsgd
go test -c -o "$work/replay.test" ./pkg/replay
paths=()
for p in "${plugins[@]}"; do
  set -- $p
  dir="$work/${1%%==*}"
  if [[ ! -f "$dir/$3" ]]; then
    echo "$1 --hash=sha256:$2" > "$work/req.txt"
    tools/jupyter/bin/pip download -q --no-deps --only-binary=:all: --require-hashes -d "$dir" -r "$work/req.txt"
    (cd "$dir" && python3 -m zipfile -e ./*.whl .)
  fi
  paths+=("$dir/$3")
done
out="docs/benchmarks/xla-cpu-plugins-$(date +%F).txt"
{
  echo "# scripts/cpu-plugins.sh $steps on $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(date +%F)"
  echo "# plugin | PJRT API | determinism tests (TestFixedWidthMakesNumbersIndependent, TestReplicasAreIndependent, TestStepFromRestartsReplicas) | backward curve to $steps every 10, 5 seeds, 8 replicas: update maps/s, two runs"
  declare -A rates
  for round in 1 2; do
    for i in "${!plugins[@]}"; do
      rate=$(GOMLX_BACKEND="xla:${paths[$i]}" "$work/revsgd" bench -workload backward -steps "$steps" -seeds 5 \
        -replicas 8 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["maps_per_second"]))')
      rates[$i]="${rates[$i]:-}${rates[$i]:+, }$rate"
    done
  done
  for i in "${!plugins[@]}"; do
    set -- ${plugins[$i]}
    api=$(GOMLX_BACKEND="xla:${paths[$i]}" "$work/revsgd" backend 2>/dev/null | grep -o 'v0\.[0-9]*' | head -1)
    if GOMLX_BACKEND="xla:${paths[$i]}" REVSGD_REQUIRE_XLA=1 "$work/replay.test" \
        -test.run 'TestFixedWidthMakesNumbersIndependent|TestReplicasAreIndependent|TestStepFromRestartsReplicas' \
        >"$work/tests-$i.log" 2>&1; then
      verdict=pass
    else
      verdict="failed: $(grep -o -- '--- FAIL: Test[A-Za-z]*' "$work/tests-$i.log" | cut -c11- | paste -sd, -) (results/cpu-plugins/tests-$i.log)"
    fi
    echo "$1 | $api | $verdict | ${rates[$i]}"
  done
} | tee "$out"
echo "cpu-plugins: wrote $out"
