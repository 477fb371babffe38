#!/usr/bin/env python3
"""The reference PyTorch implementation of the benchmark workloads, written as a careful PyTorch user would:
data preallocated as tensors, batches taken with index_select, updates under torch.no_grad, threads set to the
core count. Same problem as `revsgd bench`: FashionMNIST (normalised as revsgd does), MLP 784-256-256-10 with
ReLU and PyTorch's default initialisation, softmax cross-entropy, SGD with lr 0.025, batch 8.

Workloads:
  forward   SEEDS runs of STEPS SGD steps
  backward  for each seed, the backward curve evaluated every EVERY steps: for n = EVERY, 2·EVERY, …, STEPS,
            restart from θ_0 and apply the batches B_n, B_{n−1}, …, B_1

Prints one JSON line per workload.

Usage: bench_torch.py [--steps N] [--every K] [--seeds S] [--workload forward,backward]
"""
import argparse, json, os, resource, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import common  # the data and the batch histories, shared with the peers


def model():
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))


def step(net, params, x, y, idx, lr):
    xb, yb = x.index_select(0, idx), y.index_select(0, idx)
    loss = torch.nn.functional.cross_entropy(net(xb), yb)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workload", default="forward,backward")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    x, y = common.load_fashion()
    x, y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    lr = 0.025
    for w in a.workload.split(","):
        maps = 0
        start = time.perf_counter()
        for seed in range(1, a.seeds + 1):
            torch.manual_seed(seed)
            net = model()
            params = list(net.parameters())
            theta0 = [p.detach().clone() for p in params]
            h = torch.from_numpy(common.history(seed, a.steps, x.shape[0]).astype(np.int64))
            if w == "forward":
                for s in range(a.steps):
                    step(net, params, x, y, h[s], lr)
                maps += a.steps
            elif w == "backward":
                for n in range(a.every, a.steps + 1, a.every):
                    with torch.no_grad():
                        for p, p0 in zip(params, theta0):
                            p.copy_(p0)
                    for k in range(n, 0, -1):
                        step(net, params, x, y, h[k - 1], lr)
                    maps += n
            else:
                sys.exit("bench_torch: unknown workload " + w)
        secs = time.perf_counter() - start
        print(json.dumps({"workload": w, "backend": "pytorch-" + torch.__version__, "model": "mlp-784-256-256-10-relu",
                          "seeds": a.seeds, "steps": a.steps, "every": a.every if w == "backward" else 0,
                          "threads": torch.get_num_threads(), "update_maps": maps, "seconds": secs,
                          "maps_per_second": maps / secs,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
