"""The `gan-2d` workload of `cargo xtask bench` in PyTorch: one non-saturating GAN step (a
discriminator update, then a generator update) with generator 2-128-128-2 and discriminator
2-128-128-1 (ReLU), batch 256 of eight Gaussians (std 0.02, radius 2), Adam lr 2e-4,
betas (0.5, 0.999), float32, on the CPU.

    python3 bench/peers/gan_2d_step.py [--threads 2]

prints the median, min and max milliseconds per step over 3 s of steps after 20 warm-up steps,
as JSON. Run it next to `cargo xtask bench --workload gan-2d` and quote the ratio.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def eight_gaussians(generator, rows):
    k = torch.randint(0, 8, (rows,), generator=generator).float()
    angle = 2.0 * math.pi * k / 8.0
    centre = torch.stack([2.0 * torch.cos(angle), 2.0 * torch.sin(angle)], dim=1)
    return centre + 0.02 * torch.randn(rows, 2, generator=generator)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = torch.Generator().manual_seed(1)
    g, d = mlp([2, 128, 128, 2]), mlp([2, 128, 128, 1])
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step():
        real = eight_gaussians(rng, 256)
        fake = g(torch.randn(256, 2, generator=rng)).detach()
        d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-d(g(torch.randn(256, 2, generator=rng)))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        return g_loss.item()

    for _ in range(20):
        step()
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds or len(samples) < 20:
        t = time.perf_counter()
        step()
        samples.append(1e3 * (time.perf_counter() - t))
    samples.sort()
    print(json.dumps({
        "workload": "gan-2d",
        "impl": f"torch-{torch.__version__}-ns-gan",
        "metric": "time_per_train_step",
        "median": samples[len(samples) // 2],
        "min": samples[0],
        "max": samples[-1],
        "unit": "ms",
        "calls": len(samples),
    }))


if __name__ == "__main__":
    main()
