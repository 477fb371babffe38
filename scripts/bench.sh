#!/usr/bin/env bash
# The benchmarks, in one command on one machine: revsgd and its peers — JAX and a current PyTorch on the CPU,
# written as their best engineers would (scripts/peers/: replicas batched, continuous batching of replays, jit or
# fused in-place updates), pinned in scripts/peers/requirements.txt and installed into tools/peers — on the same
# two workloads: forward SGD and a full backward curve of the FashionMNIST MLP 784-256-256-10 at batch 8, N steps
# evaluated every 10, 5 seeds. Each peer is first checked against revsgd's stored iterates (same θ_0 and batches
# → the same θ to float32 rounding); then everything is timed, one process per workload. Then the replica engine's
# `go test -bench` at R = 1, 8, 32, 128, the machine's memory bandwidth and the memory-bound limit of a map, and
# the peak memory of a backward curve at N/2 and N. Prints a table with the ratios, writes
# results/bench/bench.jsonl, and rewrites the CPU table of BENCHMARKS.md. BENCH_DEBIAN_TORCH=1 adds Debian's
# PyTorch 1.13 in a one-replay-at-a-time loop (scripts/bench_torch.py; slow).
#
# Usage: scripts/bench.sh [N]      (default 1000; the full run takes about 40 minutes on two CPU cores, plus the
#                                   peers' installation the first time)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
steps=${1:-1000}
out="$root/results/bench"
mkdir -p "$out"

bash scripts/setup.sh >/dev/null
venv="$root/tools/peers"
stamp="$venv/requirements.txt"
if ! cmp -s scripts/peers/requirements.txt "$stamp"; then
  echo "bench: installing the peers into $venv (scripts/peers/requirements.txt)"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r scripts/peers/requirements.txt
  cp scripts/peers/requirements.txt "$stamp"
fi
if [[ ${BENCH_DEBIAN_TORCH:-0} == 1 ]] && ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench: installing Debian's python3-torch"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
go build -o "$out/revsgd" ./cmd/revsgd
export GOMLX_BACKEND=${GOMLX_BACKEND:-go}
peers=(jax_peer.py torch_peer.py)

echo "bench: checking the peers against revsgd's iterates"
rm -rf "$out/check"
"$out/revsgd" bench -workload forward,backward -steps 50 -every 10 -seeds 1 -keep "$out/check" >/dev/null 2>&1
: >"$out/check.jsonl"
for p in "${peers[@]}"; do
  "$venv/bin/python" "scripts/peers/$p" --check "$out/check" --workload "" | tee -a "$out/check.jsonl"
done

: >"$out/bench.jsonl"
echo "bench: revsgd ($GOMLX_BACKEND), N = $steps"
# One process per workload, so that each peak memory is that workload's alone.
for args in "forward $steps" "backward $steps" "backward $((steps / 2))"; do
  set -- $args
  "$out/revsgd" bench -workload "$1" -steps "$2" -every 10 -seeds 5 2>/dev/null | tee -a "$out/bench.jsonl"
done
for p in "${peers[@]}"; do
  echo "bench: $p, N = $steps"
  for w in forward backward; do
    "$venv/bin/python" "scripts/peers/$p" --workload "$w" --steps "$steps" --every 10 --seeds 5 | tee -a "$out/bench.jsonl"
  done
done
if [[ ${BENCH_DEBIAN_TORCH:-0} == 1 ]]; then
  echo "bench: Debian's PyTorch, one replay at a time, N = $steps"
  /usr/bin/python3 scripts/bench_torch.py --workload forward,backward --steps "$steps" --every 10 --seeds 5 | tee -a "$out/bench.jsonl"
fi
echo "bench: replica engine and memory bandwidth"
go test -run XXX -bench 'EngineReplicas|MemoryBandwidth' -benchtime 20x ./pkg/replay/ | grep Benchmark | tee "$out/engine.txt"

/usr/bin/python3 - "$out" "$steps" <<'PY'
import json, os, platform, re, sys, datetime
out, steps = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(os.path.join(out, "bench.jsonl")) if l.startswith("{")]
checks = [json.loads(l) for l in open(os.path.join(out, "check.jsonl")) if l.startswith("{")]
def get(prefix, workload, n):
    for r in rows:
        if r["backend"].startswith(prefix) and r["workload"] == workload and r["steps"] == n:
            return r
ours = {w: get("go", w, steps) or get("xla", w, steps) for w in ("forward", "backward")}
peers = sorted({r["backend"] for r in rows if not r["backend"].startswith(("go", "xla"))})
engine = open(os.path.join(out, "engine.txt")).read()
gbs = float(re.search(r"([0-9.]+) GB/s", engine).group(1))
bound = float(re.search(r"([0-9.]+) mlp-maps/s-bound", engine).group(1))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
names = {"jax": "JAX (jit, vmap, scan, continuous batching)", "pytorch-1.": "PyTorch (Debian, one replay at a time)",
         "pytorch-2.": "PyTorch (bmm, fused updates, continuous batching)"}
def label(b):
    return next((f"{v} {b.split('-')[1]}" for k, v in names.items() if b.startswith(k)), b)
lines = [f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} — measured {datetime.date.today()} by "
         f"`scripts/bench.sh {steps}`, everything in the same command. revsgd on the {ours['forward']['backend']} "
         f"backend (GOEXPERIMENT=simd); each peer with {os.cpu_count()} threads, checked first against revsgd's "
         f"iterates (largest relative difference: " +
         ", ".join(f"{label(c['check'])} {c['order']} {c['max_relative_difference']:.1e}" for c in checks) + ").", "",
         "| workload | implementation | time | update maps/s | share of the memory-bound limit | revsgd's time ÷ its time |",
         "|---|---|---|---|---|---|"]
best = {}
for w, title in (("forward", f"forward SGD, 5 seeds × {steps} steps"), ("backward", f"backward curve to {steps}, every 10, 5 seeds")):
    o = ours[w]
    impls = [("revsgd", o)] + [(label(b), get(b, w, steps)) for b in peers]
    for name, r in impls:
        if r is None:
            continue
        ratio = "" if name == "revsgd" else f"{o['seconds'] / r['seconds']:.2f}"
        lines.append(f"| {title} ({r['update_maps']} maps) | {name} | {r['seconds']:.1f} s | {r['maps_per_second']:.0f} | "
                     f"{r['maps_per_second'] / bound:.0%} | {ratio} |")
    others = [r for _, r in impls[1:] if r]
    if others:
        best[w] = min(others, key=lambda r: r["seconds"])
half = get("go", "backward", steps // 2) or get("xla", "backward", steps // 2)
lines += [""]
for w in ("forward", "backward"):
    if w in best:
        lines.append(f"- {w}: revsgd runs in {ours[w]['seconds'] / best[w]['seconds']:.2f}× the time of the best peer "
                     f"({label(best[w]['backend'])}).")
lines += [f"- Memory bandwidth (a copy on every core, bytes read + written): {gbs:.1f} GB/s. An update map of the MLP "
          f"must read and write its 269 322 parameters at least once (2.15 MB), so no implementation whose replicas "
          f"do not fit in the caches exceeds {bound:.0f} maps/s."]
if "backward" in best:
    goal = 2 * best["backward"]["maps_per_second"]
    lines += [f"- Twice the best peer's backward rate is {goal:.0f} maps/s, {goal / bound:.2f}× the memory-bound limit"
              + (": no implementation on this machine can reach it unless its replicas stay in the caches."
                 if goal > bound else ".")]
lines += [f"- Peak memory of revsgd's backward curve (resident, whole process, data set included): "
          f"{half['peak_rss_mb']:.0f} MiB at N = {steps // 2}, {ours['backward']['peak_rss_mb']:.0f} MiB at N = {steps}.", "",
          "Replica engine, one lockstep step of R replicas, and the bandwidth "
          "(`go test -bench 'EngineReplicas|MemoryBandwidth' ./pkg/replay/`):", "", "```"]
lines += [l.rstrip() for l in engine.splitlines()]
lines += ["```"]
table = "\n".join(lines)
print("\n" + table)
md = open("BENCHMARKS.md").read()
begin, end = "<!-- bench.sh: begin -->", "<!-- bench.sh: end -->"
if begin in md:
    md = md[:md.index(begin) + len(begin)] + "\n" + table + "\n" + md[md.index(end):]
    open("BENCHMARKS.md", "w").write(md)
PY
