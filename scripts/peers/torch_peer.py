#!/usr/bin/env python3
"""The benchmark workloads in a current PyTorch on the CPU, written as a PyTorch engineer would for many small
replays: R replicas batched along a leading axis (torch.bmm / baddbmm through the CPU BLAS), the backward pass
written out for the MLP (no autograd tape to build per step), the SGD update fused into the weight-gradient
product (W.baddbmm_(aᵀ, δ, alpha=−h)), everything in place and preallocated, threads set to the core count, and
the backward curve's replays run by continuous batching: R slots, each refilled with the next replay (from its
seed's θ_0) the moment its replay ends, so no slot computes a masked step except in the final tail.

Before timing, the same maps are replayed from the θ_0 and batches of revsgd's stored runs (--check DIR, from
`revsgd bench -keep DIR`) and the iterates compared (common.compare).

Usage: torch_peer.py [--steps N] [--every K] [--seeds S] [--workload forward,backward] [--replicas R] [--check DIR]
"""
import os

import numpy as np
import torch

import common


class Group:
    """R replicas of the MLP: weights [R, in, out] and biases [R, 1, out], float32."""

    def __init__(self, x, y, slots):
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
        self.r = slots
        self.w = [torch.zeros(slots, i, o) for i, o in zip(common.WIDTHS[:-1], common.WIDTHS[1:])]
        self.b = [torch.zeros(slots, 1, o) for o in common.WIDTHS[1:]]
        self.active = torch.ones(slots, 1, 1)

    def set(self, r, theta):
        for (w, b), dst_w, dst_b in zip(common.unflatten(theta), self.w, self.b):
            dst_w[r].copy_(torch.from_numpy(w))
            dst_b[r, 0].copy_(torch.from_numpy(b))

    def get(self, r):
        return common.flatten([(w[r].numpy(), b[r, 0].numpy()) for w, b in zip(self.w, self.b)])

    @torch.no_grad()
    def step(self, idx):
        """One SGD step of every replica on its batch: idx [R, 8] example indices (int64)."""
        flat = idx.reshape(-1)
        h = [self.x.index_select(0, flat).view(self.r, common.BATCH, -1)]
        zs = []
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = torch.baddbmm(b, h[-1], w)
            if i < len(self.w) - 1:
                zs.append(z)
                h.append(torch.relu(z))
            else:
                h.append(z)
        # δ of the mean cross-entropy: (softmax − one-hot) / B, zero for inactive slots.
        d = torch.softmax(h[-1], dim=2)
        d.view(-1, d.shape[2])[torch.arange(flat.numel()), self.y.index_select(0, flat)] -= 1
        d.mul_(self.active / common.BATCH)
        for i in range(len(self.w) - 1, -1, -1):
            d_prev = torch.bmm(d, self.w[i].transpose(1, 2)).mul_(zs[i - 1] > 0) if i > 0 else None
            self.w[i].baddbmm_(h[i].transpose(1, 2), d, alpha=-common.LR)
            self.b[i].sub_(d.sum(1, keepdim=True), alpha=common.LR)
            d = d_prev


def forward(x, y, theta0s, histories, steps):
    g = Group(x, y, len(theta0s))
    for r, t in enumerate(theta0s):
        g.set(r, t)
    idx = torch.from_numpy(np.stack(histories, axis=1).astype(np.int64))  # [steps, R, 8]
    for s in range(steps):
        g.step(idx[s])
    return [g.get(r) for r in range(len(theta0s))]


def backward(x, y, theta0s, histories, replays, slots, keep):
    """The backward replays (seed index, n) by continuous batching, one map per step; {(seed, n): θ_n} when keep
    is set."""
    g = Group(x, y, slots)
    out = {}

    def start(r, seed):
        if seed is not None:
            g.set(r, theta0s[seed])
        g.active[r] = seed is not None

    def finish(r, seed, n):
        if keep:
            out[(seed, n)] = g.get(r)

    common.continuous_batching(replays, histories, slots, 1, start,
                               lambda idx, active: g.step(torch.from_numpy(idx[0].astype(np.int64))), finish)
    return out


def main():
    torch.set_num_threads(os.cpu_count())
    x, y = common.load_fashion()
    common.main(f"pytorch-{torch.__version__}", torch.get_num_threads(),
                lambda *a: forward(x, y, *a), lambda *a: backward(x, y, *a))


if __name__ == "__main__":
    main()
