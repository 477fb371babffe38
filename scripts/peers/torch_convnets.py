#!/usr/bin/env python3
"""The convnet benchmark in a current PyTorch on the CPU: SGD update maps of ResNet-18 or VGG-11 (the CIFAR variants
of the pytorch-cifar code, as revsgd's models.ResNet and models.VGG: 3×3 stem without max-pooling, basic blocks,
1×1 shortcuts with batch normalisation; VGG with biased 3×3 convolutions, batch normalisation and one linear layer),
at a width multiplier, batch 8 of 32×32×3 images, 10 classes, float32, learning rate 0.025, batch normalisation
from the batch's statistics (no running averages: every map depends on θ and its batch alone, as revsgd's).

Two ways, as a PyTorch engineer would try them:
  eager  R replicas, one after another: forward, autograd backward, an in-place SGD step (torch.optim.SGD with
         foreach), channels-last memory format;
  vmap   the R replicas batched: torch.func.vmap over torch.func.grad of a functional_call, one stacked update.
Prints one JSON line per way with the update maps per second over --steps maps per replica, after --warmup.

Usage: torch_convnets.py --model resnet18|vgg11 [--width 1] [--replicas 1] [--steps 20] [--warmup 3] [--ways eager,vmap]
"""
import argparse, json, os, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, CLASSES, LR = 8, 10, 0.025


def scaled(c, width):
    return max(1, int(c * width + 0.5))


def bn(c):
    return nn.BatchNorm2d(c, track_running_stats=False)


class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = bn(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), bn(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, width):
        super().__init__()
        cin = scaled(64, width)
        self.stem = nn.Sequential(nn.Conv2d(3, cin, 3, 1, 1, bias=False), bn(cin), nn.ReLU())
        blocks = []
        for stage in range(4):
            planes = scaled(64 << stage, width)
            for b in range(2):
                blocks.append(Block(cin, planes, 2 if b == 0 and stage > 0 else 1))
                cin = planes
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, CLASSES)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.classifier(x.mean((2, 3)))


class VGG11(nn.Module):
    def __init__(self, width):
        super().__init__()
        layers, cin = [], 3
        for c in (64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0):
            if c == 0:
                layers.append(nn.MaxPool2d(2))
                continue
            c = scaled(c, width)
            layers += [nn.Conv2d(cin, c, 3, 1, 1), bn(c), nn.ReLU()]
            cin = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin, CLASSES)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def make(model, width):
    return {"resnet18": ResNet18, "vgg11": VGG11}[model](width)


def eager(args, data):
    nets = [make(args.model, args.width).to(memory_format=torch.channels_last) for _ in range(args.replicas)]
    opts = [torch.optim.SGD(n.parameters(), lr=LR, foreach=True) for n in nets]

    def step(i):
        for r, (net, opt) in enumerate(zip(nets, opts)):
            x, y = data(i, r)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(x.contiguous(memory_format=torch.channels_last)), y).backward()
            opt.step()
    return step


def vmapped(args, data):
    from torch.func import functional_call, grad, stack_module_state, vmap
    nets = [make(args.model, args.width) for _ in range(args.replicas)]
    params, _ = stack_module_state(nets)
    base = make(args.model, args.width).to("meta")

    def loss(p, x, y):
        return F.cross_entropy(functional_call(base, p, (x,)), y)

    g = vmap(grad(loss))

    def step(i):
        xs, ys = zip(*(data(i, r) for r in range(args.replicas)))
        grads = g(params, torch.stack(xs), torch.stack(ys))
        with torch.no_grad():
            for k in params:
                params[k].sub_(grads[k], alpha=LR)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet18", choices=["resnet18", "vgg11"])
    ap.add_argument("--width", type=float, default=1)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--ways", default="eager,vmap")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    images = torch.randn(2048, 3, 32, 32)
    labels = torch.randint(0, CLASSES, (2048,))
    gen = torch.Generator().manual_seed(2)
    order = torch.randint(0, 2048, (args.warmup + args.steps, args.replicas, BATCH), generator=gen)

    def data(i, r):
        idx = order[i, r]
        return images[idx], labels[idx]

    for way in args.ways.split(","):
        step = {"eager": eager, "vmap": vmapped}[way](args, data)
        for i in range(args.warmup):
            step(i)
        start = time.perf_counter()
        for i in range(args.warmup, args.warmup + args.steps):
            step(i)
        secs = time.perf_counter() - start
        maps = args.steps * args.replicas
        print(json.dumps({"workload": "convnet-sgd", "backend": f"pytorch-{torch.__version__}-{way}",
                          "model": f"{args.model}-w{args.width:g}", "replicas": args.replicas, "steps": args.steps,
                          "threads": torch.get_num_threads(), "update_maps": maps, "seconds": secs,
                          "maps_per_second": maps / secs,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
