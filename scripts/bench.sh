#!/usr/bin/env bash
# The benchmarks, in one command on one machine: revsgd and the reference PyTorch implementation
# (scripts/bench_torch.py, Debian's python3-torch, installed when missing) on the same two workloads — forward SGD
# and a full backward curve of the FashionMNIST MLP 784-256-256-10 at batch 8, N steps evaluated every 10, 5 seeds —
# then the replica engine's `go test -bench` at R = 1, 8, 32, 128, and the peak memory of a backward curve at N/2
# and N. Prints a table with the ratios, writes results/bench/bench.jsonl, and rewrites the CPU table of
# BENCHMARKS.md.
#
# Usage: scripts/bench.sh [N]      (default 1000; the full run takes about an hour on two CPU cores)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
steps=${1:-1000}
out="$root/results/bench"
mkdir -p "$out"

bash scripts/setup.sh >/dev/null
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench: installing Debian's python3-torch"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
go build -o "$out/revsgd" ./cmd/revsgd
export GOMLX_BACKEND=${GOMLX_BACKEND:-go}

: >"$out/bench.jsonl"
echo "bench: revsgd ($GOMLX_BACKEND), N = $steps"
# One process per workload, so that each peak memory is that workload's alone.
for args in "forward $steps" "backward $steps" "backward $((steps / 2))"; do
  set -- $args
  "$out/revsgd" bench -workload "$1" -steps "$2" -every 10 -seeds 5 2>/dev/null | tee -a "$out/bench.jsonl"
done
echo "bench: PyTorch, N = $steps"
/usr/bin/python3 scripts/bench_torch.py --workload forward,backward --steps "$steps" --every 10 --seeds 5 | tee -a "$out/bench.jsonl"
echo "bench: replica engine"
go test -run XXX -bench EngineReplicas -benchtime 20x ./pkg/replay/ | grep Benchmark | tee "$out/engine.txt"

/usr/bin/python3 - "$out" "$steps" <<'PY'
import json, os, platform, re, subprocess, sys, datetime
out, steps = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(os.path.join(out, "bench.jsonl")) if l.startswith("{")]
def get(backend_prefix, workload, n):
    for r in rows:
        if r["backend"].startswith(backend_prefix) and r["workload"] == workload and r["steps"] == n:
            return r
ours = {w: get("go", w, steps) or get("xla", w, steps) for w in ("forward", "backward")}
torch = {w: get("pytorch", w, steps) for w in ("forward", "backward")}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
lines = [f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} — measured {datetime.date.today()} by "
         f"`scripts/bench.sh {steps}`. revsgd on the {ours['forward']['backend']} backend (GOEXPERIMENT=simd), "
         f"PyTorch {torch['forward']['backend'].split('-', 1)[1]} (Debian) with {torch['forward']['threads']} threads.", "",
         "| workload | revsgd | PyTorch | revsgd ÷ PyTorch time |", "|---|---|---|---|"]
for w, label in (("forward", f"forward SGD, 5 seeds × {steps} steps"), ("backward", f"backward curve to {steps}, every 10, 5 seeds")):
    o, t = ours[w], torch[w]
    lines.append(f"| {label} ({o['update_maps']} maps) | {o['seconds']:.1f} s, {o['maps_per_second']:.0f} maps/s | "
                 f"{t['seconds']:.1f} s, {t['maps_per_second']:.0f} maps/s | {o['seconds'] / t['seconds']:.2f} |")
half = get("go", "backward", steps // 2) or get("xla", "backward", steps // 2)
lines += ["", f"Peak memory of revsgd's backward curve (resident, whole process, data set included): "
          f"{half['peak_rss_mb']:.0f} MiB at N = {steps // 2}, {ours['backward']['peak_rss_mb']:.0f} MiB at N = {steps}.", "",
          "Replica engine, one lockstep step of R replicas (`go test -bench EngineReplicas ./pkg/replay/`):", "", "```"]
lines += [l.rstrip() for l in open(os.path.join(out, "engine.txt"))]
lines += ["```"]
table = "\n".join(lines)
print("\n" + table)
md = open("BENCHMARKS.md").read()
begin, end = "<!-- bench.sh: begin -->", "<!-- bench.sh: end -->"
if begin in md:
    md = md[:md.index(begin) + len(begin)] + "\n" + table + "\n" + md[md.index(end):]
    open("BENCHMARKS.md", "w").write(md)
PY
