"""What the peers share: the benchmark problem, its data, and revsgd's runs to check against.

The problem is `revsgd bench`'s: FashionMNIST (pixels scaled to [0, 1], then standardised with mean 0.2860 and
standard deviation 0.3530), the MLP 784-256-256-10 with ReLU, softmax cross-entropy averaged over the batch,
SGD with learning rate 0.025, batch 8, float32.

A run that revsgd stored (`revsgd bench -keep DIR`) gives θ_0, the batch indices B_1 … B_n and θ at the evaluated
steps; each peer replays the same maps from the same θ_0 and must reach the same θ to float32 rounding before it
is timed. revsgd's flat θ is, layer by layer, the weights [in, out] row-major, then the biases.
"""
import argparse, glob, gzip, json, os, resource, sys, time

import numpy as np

WIDTHS = (784, 256, 256, 10)
LR = 0.025
BATCH = 8


def load_fashion():
    """The FashionMNIST training images [60000, 784] float32 (normalised as revsgd does) and labels int32."""
    dirs = [os.path.join(os.environ.get("REVSGD_DATA", os.path.expanduser("~/.cache/revsgd/datasets")), "fashion-mnist"),
            "/usr/share/datasets/fashion-mnist"]
    for d in dirs:
        p = os.path.join(d, "train-images-idx3-ubyte.gz")
        if os.path.exists(p):
            with gzip.open(p) as f:
                x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
            with gzip.open(os.path.join(d, "train-labels-idx1-ubyte.gz")) as f:
                y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
            x = ((x.astype(np.float64) / 255 - 0.2860) / 0.3530).astype(np.float32)
            return x, y.astype(np.int32)
    sys.exit("peers: FashionMNIST not found in " + " or ".join(dirs))


def unflatten(theta):
    """revsgd's flat θ as [(W1, b1), (W2, b2), (W3, b3)], float32."""
    out, k = [], 0
    for i, o in zip(WIDTHS[:-1], WIDTHS[1:]):
        w = theta[k:k + i * o].reshape(i, o)
        k += i * o
        b = theta[k:k + o]
        k += o
        out.append((w.astype(np.float32), b.astype(np.float32)))
    assert k == len(theta), (k, len(theta))
    return out


def flatten(layers):
    return np.concatenate([np.concatenate([np.asarray(w).ravel(), np.asarray(b).ravel()]) for w, b in layers])


def init(seed):
    """PyTorch's default initialisation of the MLP (uniform ±1/√fan_in), flat, float32; for timing only."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, o in zip(WIDTHS[:-1], WIDTHS[1:]):
        bound = 1 / np.sqrt(i)
        parts.append(rng.uniform(-bound, bound, i * o + o))
    return np.concatenate(parts).astype(np.float32)


def history(seed, steps, m):
    """Shuffled batches of 8, reshuffled each epoch: the batch indices [steps, 8]; for timing only."""
    rng = np.random.default_rng(seed)
    per = m // BATCH
    out = np.empty((steps, BATCH), dtype=np.int32)
    perm = None
    for s in range(steps):
        if s % per == 0:
            perm = rng.permutation(m)
        out[s] = perm[(s % per) * BATCH:(s % per + 1) * BATCH]
    return out


def stored_run(store, order):
    """The run of an order that `revsgd bench -keep` stored: θ_0, the batches [n, 8], the evaluated steps and θ
    there (float32 rows of iterates.npy)."""
    dirs = sorted(glob.glob(os.path.join(store, "*", order, "seed-*")))
    if not dirs:
        sys.exit(f"peers: no {order} run in {store}; make one with revsgd bench -keep {store}")
    d = dirs[0]
    cfg = json.load(open(os.path.join(d, "config.json")))
    theta0 = np.load(os.path.join(d, "theta0.npy"))
    batches = np.load(os.path.join(d, "batches.npy")).astype(np.int32)
    iterates = np.load(os.path.join(d, "iterates.npy"))
    return theta0, batches, cfg["evaluated"], iterates


def compare(name, order, got, want, steps):
    """Checks a peer's θ at the evaluated steps against revsgd's: the largest difference must be within float32
    rounding of a few hundred maps (1e-4 of the parameters' scale). Exits on a mismatch."""
    worst = 0.0
    for n, g, w in zip(steps, got, want):
        d = float(np.max(np.abs(np.asarray(g, dtype=np.float64) - w)))
        worst = max(worst, d / max(1.0, float(np.max(np.abs(w)))))
    ok = worst <= 1e-4
    print(json.dumps({"check": name, "order": order, "steps": list(steps), "max_relative_difference": worst,
                      "agrees": ok}), flush=True)
    if not ok:
        sys.exit(f"peers: {name} disagrees with revsgd's {order} iterates (max relative difference {worst:.3g})")


def result(workload, backend, seeds, steps, every, maps, secs, threads, **extra):
    line = {"workload": workload, "backend": backend, "model": "mlp-784-256-256-10-relu", "seeds": seeds,
            "steps": steps, "every": every if workload == "backward" else 0, "threads": threads,
            "update_maps": maps, "seconds": secs, "maps_per_second": maps / secs,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    line.update(extra)
    print(json.dumps(line), flush=True)


def backward_replays(seeds, steps, every):
    """The backward curve's replays: (seed index, n) for n = every, 2·every, …, steps, longest first."""
    reps = [(s, n) for s in range(seeds) for n in range(every, steps + 1, every)]
    reps.sort(key=lambda r: -r[1])
    return reps


def continuous_batching(replays, histories, slots, chunk, start, step, finish):
    """Runs backward replays (seed index, n) in `slots` slots by continuous batching: the moment a slot's replay
    ends, the slot starts the next one. Replays are stepped `chunk` maps per call, chunk dividing every n.

    start(r, seed) puts θ_0 of seed into slot r (seed None: the slot stays empty from now on);
    step(idx, active) applies the maps, idx [chunk, slots, 8] batch indices and active [chunk, slots];
    finish(r, seed, n) is called when slot r has reached θ_n of seed, before the slot starts another replay."""
    queue = list(replays)
    state = [None] * slots  # per slot: [seed, n, maps applied]

    def refill(r):
        state[r] = [*queue.pop(0), 0] if queue else None
        start(r, state[r][0] if state[r] else None)

    for r in range(slots):
        refill(r)
    while any(st is not None for st in state):
        idx = np.zeros((chunk, slots, BATCH), np.int32)
        active = np.zeros((chunk, slots), bool)
        for r, st in enumerate(state):
            if st is not None:
                s, n, k = st
                # The next maps are B_{n−k}, B_{n−k−1}, …: rows n−k−1 down to n−k−chunk of the history.
                idx[:, r] = histories[s][n - k - chunk:n - k][::-1]
                active[:, r] = True
        step(idx, active)
        for r, st in enumerate(state):
            if st is not None:
                st[2] += chunk
                if st[2] == st[1]:
                    finish(r, st[0], st[1])
                    refill(r)


def main(backend, threads, forward, backward):
    """A peer's command line: checks against revsgd's stored runs (--check), then times the workloads.

    forward(theta0s, histories, steps) returns θ_steps of each seed; backward(theta0s, histories, replays, slots,
    keep) runs the replays (seed index, n) and, with keep, returns {(seed index, n): θ_n}."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workload", default="forward,backward")
    ap.add_argument("--replicas", type=int, default=50)
    ap.add_argument("--check", default="")
    a = ap.parse_args()
    if a.check:
        theta0, batches, steps, iterates = stored_run(a.check, "forward")
        got = forward([theta0.astype(np.float32)], [batches[:steps[-1]]], steps[-1])
        compare(backend, "forward", got, [iterates[-1]], [steps[-1]])
        theta0, batches, steps, iterates = stored_run(a.check, "backward")
        out = backward([theta0.astype(np.float32)], [batches], [(0, n) for n in sorted(steps, reverse=True)],
                       min(a.replicas, len(steps)), True)
        compare(backend, "backward", [out[(0, n)] for n in steps], iterates, steps)
    for w in filter(None, a.workload.split(",")):
        start = time.perf_counter()
        theta0s = [init(s) for s in range(1, a.seeds + 1)]
        histories = [history(s, a.steps, 60000) for s in range(1, a.seeds + 1)]
        if w == "forward":
            forward(theta0s, histories, a.steps)
            maps = a.seeds * a.steps
        elif w == "backward":
            replays = backward_replays(a.seeds, a.steps, a.every)
            backward(theta0s, histories, replays, a.replicas, False)
            maps = sum(n for _, n in replays)
        else:
            raise SystemExit(f"peers: unknown workload {w}")
        result(w, backend, a.seeds, a.steps, a.every, maps, time.perf_counter() - start, threads,
               replicas=a.replicas if w == "backward" else a.seeds)
