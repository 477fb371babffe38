#!/usr/bin/env bash
# The benchmarks, in one command on one machine: revsgd on XLA's CPU plugin (its default backend) and on the
# pure-Go backend, and its peers — JAX and a current PyTorch on the CPU, written as their best engineers would
# (scripts/peers/: replicas batched, continuous batching of replays, jit or fused in-place updates), pinned in
# scripts/peers/requirements.txt and installed into tools/peers — on the same two workloads: forward SGD and a
# full backward curve of the FashionMNIST MLP 784-256-256-10 at batch 8, N steps evaluated every 10, 5 seeds; each
# peer at its own default group size and at 8 replicas, the better of the two counting. Each peer is first checked
# against revsgd's stored iterates (same θ_0 and batches → the same θ to float32 rounding). Then the convnets:
# revsgd's SGD maps of ResNet-18 and VGG-11 (width 1, batch 8, 8 replicas, forward SGD; the steady rate from two
# runs of different length, the rest reported as set-up and compilation) against PyTorch eager (one replica after
# another) and PyTorch's vmap over 8 replicas. Then the replica engine's `go test -bench` at R = 1, 8, 32, 128, the
# machine's memory bandwidth and the memory-bound limit of a map, the peak memory of a backward curve at N/2 and
# N, and the quick fashion-mlp figure on 1 and 2 host devices of XLA's CPU plugin. Prints a table with the ratios, writes results/bench/bench.jsonl, and rewrites the CPU table of
# BENCHMARKS.md. BENCH_DEBIAN_TORCH=1 adds Debian's PyTorch 1.13 in a one-replay-at-a-time loop
# (scripts/bench_torch.py; slow).
#
# Usage: scripts/bench.sh [N]      (default 1000; about 30 minutes on two CPU cores, plus the peers'
#                                   installation the first time)
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
unset GOMLX_BACKEND   # revsgd's default, XLA's CPU plugin; the pure-Go rows set it
peers=(jax_peer.py torch_peer.py)

echo "bench: checking the peers against revsgd's iterates"
rm -rf "$out/check"
"$out/revsgd" bench -workload forward,backward -steps 50 -every 10 -seeds 1 -keep "$out/check" >/dev/null 2>&1
: >"$out/check.jsonl"
for p in "${peers[@]}"; do
  "$venv/bin/python" "scripts/peers/$p" --check "$out/check" --workload "" | tee -a "$out/check.jsonl"
done

: >"$out/bench.jsonl"
# One process per workload, so that each peak memory is that workload's alone.
for backend in xla go; do
  echo "bench: revsgd ($backend), N = $steps"
  with=(); [[ $backend == go ]] && with=(GOMLX_BACKEND=go)
  for args in "forward $steps" "backward $steps" "backward $((steps / 2))"; do
    set -- $args
    [[ $backend == go && $2 != "$steps" ]] && continue   # the peak memory at N/2 is measured on XLA
    env "${with[@]}" "$out/revsgd" bench -workload "$1" -steps "$2" -every 10 -seeds 5 2>/dev/null |
      tee -a "$out/bench.jsonl"
  done
done
for p in "${peers[@]}"; do
  for r in 50 8; do
    echo "bench: $p, N = $steps, $r replicas"
    for w in forward backward; do
      "$venv/bin/python" "scripts/peers/$p" --workload "$w" --steps "$steps" --every 10 --seeds 5 --replicas "$r" |
        tee -a "$out/bench.jsonl"
    done
  done
done
if [[ ${BENCH_DEBIAN_TORCH:-0} == 1 ]]; then
  echo "bench: Debian's PyTorch, one replay at a time, N = $steps"
  /usr/bin/python3 scripts/bench_torch.py --workload forward,backward --steps "$steps" --every 10 --seeds 5 | tee -a "$out/bench.jsonl"
fi
echo "bench: convnets, width 1, batch 8"
for m in resnet18 vgg11; do
  for k in 2 12; do   # the steady rate is the difference of the two runs (compilation and set-up cancel)
    "$out/revsgd" bench -model "$m" -width 1 -workload forward -seeds 8 -steps "$k" 2>/dev/null | tee -a "$out/bench.jsonl"
  done
  "$venv/bin/python" scripts/peers/torch_convnets.py --model "$m" --width 1 --replicas 1 --steps 20 --ways eager |
    tee -a "$out/bench.jsonl"
  "$venv/bin/python" scripts/peers/torch_convnets.py --model "$m" --width 1 --replicas 8 --steps 3 --ways vmap |
    tee -a "$out/bench.jsonl"
done
echo "bench: the quick fashion-mlp figure on 1 and 2 host devices of XLA's CPU plugin"
for d in 1 2; do
  /usr/bin/time -f "%e %M" -o "$out/devices.time" "$out/revsgd" figure -runs "" -out "$out/devices-$d" -devices "$d" \
    fashion-mlp >/dev/null 2>&1
  read -r secs kb <"$out/devices.time"
  # The claims files compared without their cost (the run's wall time).
  same=$(python3 -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:]); [x.pop("cost", None) for x in (a, b)]; print(str(a == b).lower())' \
    "$out/devices-1/fashion-mlp.json" "$out/devices-$d/fashion-mlp.json")
  echo "{\"workload\": \"figure-devices\", \"backend\": \"xla\", \"devices\": $d, \"seconds\": $secs, \"peak_rss_mb\": $((kb / 1024)), \"same_claims_as_one_device\": $same}" |
    tee -a "$out/bench.jsonl"
done
echo "bench: replica engine and memory bandwidth"
go test -run XXX -bench 'EngineReplicas|MemoryBandwidth' -benchtime 20x ./pkg/replay/ | grep Benchmark | tee "$out/engine.txt"

/usr/bin/python3 - "$out" "$steps" <<'PY'
import json, os, platform, re, sys, datetime
out, steps = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(os.path.join(out, "bench.jsonl")) if l.startswith("{")]
checks = [json.loads(l) for l in open(os.path.join(out, "check.jsonl")) if l.startswith("{")]
ours = lambda r: r["backend"].startswith(("go", "xla"))
def get(prefix, workload, n):
    for r in rows:
        if r["backend"].startswith(prefix) and r["workload"] == workload and r["steps"] == n and "model" in r and r["model"].startswith("mlp"):
            return r
engine = open(os.path.join(out, "engine.txt")).read()
gbs = float(re.search(r"([0-9.]+) GB/s", engine).group(1))
bound = float(re.search(r"([0-9.]+) mlp-maps/s-bound", engine).group(1))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
names = {"jax": "JAX (jit, vmap, scan, continuous batching)", "pytorch-1.": "PyTorch (Debian, one replay at a time)",
         "pytorch-2.": "PyTorch (bmm, fused updates, continuous batching)"}
def label(b):
    if b.startswith("xla"):
        return "revsgd, XLA CPU"
    if b.startswith("go"):
        return "revsgd, pure Go"
    return next((f"{v} {b.split('-')[1]}" for k, v in names.items() if b.startswith(k)), b)
xla = {w: get("xla", w, steps) for w in ("forward", "backward")}
lines = [f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} — measured {datetime.date.today()} by "
         f"`scripts/bench.sh {steps}`, everything in the same command. revsgd on {xla['forward']['backend']} and on "
         f"{get('go', 'forward', steps)['backend']}; each peer with {os.cpu_count()} threads, at its default group of "
         f"50 replicas and at 8 (both rows shown), checked first against revsgd's iterates (largest relative "
         f"difference: " + ", ".join(f"{label(c['check'])} {c['order']} {c['max_relative_difference']:.1e}" for c in checks) + ").", "",
         "| workload | implementation | replicas | time | update maps/s | share of the memory-bound limit | revsgd XLA's rate ÷ its rate |",
         "|---|---|---|---|---|---|---|"]
best, jax = {}, {}
for w, title in (("forward", f"forward SGD, 5 seeds × {steps} steps"), ("backward", f"backward curve to {steps}, every 10, 5 seeds")):
    mine = [r for r in rows if r["workload"] == w and r["steps"] == steps and r.get("model", "").startswith("mlp")]
    mine.sort(key=lambda r: (not r["backend"].startswith("xla"), not ours(r), r["backend"], r.get("replicas", 0)))
    for r in mine:
        ratio = "" if r is xla[w] else f"{xla[w]['maps_per_second'] / r['maps_per_second']:.2f}"
        lines.append(f"| {title} ({r['update_maps']} maps) | {label(r['backend'])} | {r.get('replicas') or 'auto'} | "
                     f"{r['seconds']:.1f} s | {r['maps_per_second']:.0f} | {r['maps_per_second'] / bound:.0%} | {ratio} |")
    others = [r for r in mine if not ours(r)]
    if others:
        best[w] = max(others, key=lambda r: r["maps_per_second"])
    js = [r for r in others if r["backend"].startswith("jax")]
    if js:
        jax[w] = max(js, key=lambda r: r["maps_per_second"])
lines += [""]
for w in ("forward", "backward"):
    if w in best:
        b = best[w]
        lines.append(f"- {w}: revsgd on XLA CPU runs at {xla[w]['maps_per_second'] / b['maps_per_second']:.2f}× the rate of "
                     f"the best peer ({label(b['backend'])}, {b['replicas']} replicas)"
                     + (f" and {xla[w]['maps_per_second'] / jax[w]['maps_per_second']:.2f}× that of the best JAX configuration "
                        f"({jax[w]['replicas']} replicas)" if w in jax else "") + ".")
half = get("xla", "backward", steps // 2)
lines += [f"- Memory bandwidth (a copy on every core, bytes read + written): {gbs:.1f} GB/s. An update map of the MLP "
          f"must read and write its 269 322 parameters at least once (2.15 MB), so no implementation whose replicas "
          f"do not fit in the caches exceeds {bound:.0f} maps/s.",
          f"- Peak memory of revsgd's backward curve on XLA CPU (resident, whole process, data set included): "
          f"{half['peak_rss_mb']:.0f} MiB at N = {steps // 2}, {xla['backward']['peak_rss_mb']:.0f} MiB at N = {steps}.", ""]
# Convnets: revsgd's steady rate from the difference of a short and a long run.
lines += ["Convnets, SGD update maps at batch 8, width 1 (revsgd: forward SGD of 8 seeds in lockstep, the steady rate "
          "from a 2-step and a 12-step run, the rest of the short run being set-up and compilation):", "",
          "| model | implementation | replicas | update maps/s | set-up and compilation | revsgd XLA's rate ÷ its rate |",
          "|---|---|---|---|---|---|"]
for m in ("resnet18", "vgg11"):
    runs = sorted((r for r in rows if ours(r) and r.get("model", "").startswith(m + "-w1-")), key=lambda r: r["steps"])
    if len(runs) < 2:
        continue
    short, long = runs[0], runs[-1]
    rate = (long["update_maps"] - short["update_maps"]) / (long["seconds"] - short["seconds"])
    setup = short["seconds"] - short["update_maps"] / rate
    lines.append(f"| {m} | revsgd, XLA CPU ({short.get('path', '')}) | {short['replicas'] or 'auto'} | {rate:.2f} | {setup:.0f} s | |")
    for r in rows:
        if r["workload"] == "convnet-sgd" and r["model"] == f"{m}-w1":
            way = r["backend"].rsplit("-", 1)[1]
            lines.append(f"| {m} | PyTorch {r['backend'].split('-')[1]} ({way}) | {r['replicas']} | {r['maps_per_second']:.2f} | | "
                         f"{rate / r['maps_per_second']:.2f} |")
devs = [r for r in rows if r["workload"] == "figure-devices"]
if devs:
    lines += ["", "The quick fashion-mlp figure (`revsgd figure -devices N fashion-mlp`) on N host devices of XLA's CPU "
              "plugin, one engine per device, each with its own copy of the data:", "",
              "| devices | wall time | peak memory | claims file equal to one device's |", "|---|---|---|---|"]
    lines += [f"| {r['devices']} | {r['seconds']:.1f} s | {r['peak_rss_mb']} MiB | {'yes' if r['same_claims_as_one_device'] else 'no'} |" for r in devs]
lines += ["", "Replica engine, one lockstep step of R replicas, and the bandwidth "
          "(`go test -bench 'EngineReplicas|MemoryBandwidth' ./pkg/replay/`, on XLA CPU):", "", "```"]
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
