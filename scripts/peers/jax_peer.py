#!/usr/bin/env python3
"""The benchmark workloads in JAX on the CPU, written as a JAX engineer would: the update map jitted, replicas
batched by vmap, steps by lax.scan, the parameters' buffers donated, and the backward curve's replays run by
continuous batching — R slots, each refilled with the next replay (from its seed's θ_0) the moment its replay
ends, so no slot computes a masked step except in the final tail. Replays are stepped L = gcd of their lengths
maps per call, which makes every replay end on a call boundary.

Before timing, the same maps are replayed from the θ_0 and batches of revsgd's stored runs (--check DIR, from
`revsgd bench -keep DIR`) and the iterates compared (common.compare).

Usage: jax_peer.py [--steps N] [--every K] [--seeds S] [--workload forward,backward] [--replicas R] [--check DIR]
"""
import math, os

import numpy as np
import jax
import jax.numpy as jnp

import common


def make(x, y):
    """The jitted functions of the problem on data x, y (kept on the device)."""
    X, Y = jnp.asarray(x), jnp.asarray(y)

    def loss(params, idx):
        h = X[idx]
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h)
        return -jnp.mean(jnp.take_along_axis(logp, Y[idx][:, None], axis=1))

    def step(params, idx):
        g = jax.grad(loss)(params, idx)
        return jax.tree_util.tree_map(lambda p, d: p - common.LR * d, params, g)

    group_step = jax.vmap(step)

    def masked(params, xs):
        idx, active = xs
        new = group_step(params, idx)
        keep = lambda n, o: jnp.where(active.reshape((-1,) + (1,) * (n.ndim - 1)), n, o)
        return jax.tree_util.tree_map(keep, new, params), None

    def run_chunk(params, idx, active):
        """Applies len(idx) lockstep steps: idx [L, R, 8] batch indices, active [L, R]."""
        params, _ = jax.lax.scan(masked, params, (idx, active))
        return params

    def put(params, slot, theta):
        return jax.tree_util.tree_map(lambda p, t: p.at[slot].set(t), params, theta)

    return jax.jit(run_chunk, donate_argnums=0), jax.jit(put, donate_argnums=0)


def stack(thetas):
    """Flat θs [R, P] as the stacked parameter tree."""
    layers = [common.unflatten(t) for t in thetas]
    return tuple((jnp.asarray(np.stack([l[i][0] for l in layers])), jnp.asarray(np.stack([l[i][1] for l in layers])))
                 for i in range(len(layers[0])))


def slot_theta(params, r):
    return common.flatten([(np.asarray(w[r]), np.asarray(b[r])) for w, b in params])


def forward(fns, theta0s, histories, steps):
    """Forward SGD of every seed in lockstep; returns θ_steps per seed."""
    run_chunk, _ = fns
    params = stack(theta0s)
    idx = np.stack([h[:steps] for h in histories], axis=1)  # [steps, R, 8]
    params = run_chunk(params, jnp.asarray(idx), jnp.ones((steps, len(theta0s)), bool))
    jax.block_until_ready(params)
    return [slot_theta(params, r) for r in range(len(theta0s))]


def backward(fns, theta0s, histories, replays, slots, keep):
    """The backward replays (seed index, n) by continuous batching over `slots` slots, stepped the gcd of their
    lengths maps per call; returns {(seed, n): θ_n} when keep is set."""
    run_chunk, put = fns
    params = stack([theta0s[0]] * slots)
    out = {}

    def start(r, seed):
        nonlocal params
        if seed is not None:
            params = put(params, r, tuple((jnp.asarray(w), jnp.asarray(b)) for w, b in common.unflatten(theta0s[seed])))

    def step(idx, active):
        nonlocal params
        params = run_chunk(params, jnp.asarray(idx), jnp.asarray(active))

    def finish(r, seed, n):
        if keep:
            out[(seed, n)] = slot_theta(params, r)

    common.continuous_batching(replays, histories, slots, math.gcd(*(n for _, n in replays)), start, step, finish)
    jax.block_until_ready(params)
    return out


def main():
    x, y = common.load_fashion()
    fns = make(x, y)
    common.main(f"jax-{jax.__version__}-{jax.default_backend()}", os.cpu_count(),
                lambda *a: forward(fns, *a), lambda *a: backward(fns, *a))


if __name__ == "__main__":
    main()
