"""The `stlsq` workload of `cargo xtask bench` in PySINDy: `pysindy.optimizers.STLSQ` with
threshold 0.1 and alpha 0.05 (PySINDy's defaults, as `Stlsq::default()`) on 10^5 rows x 20
terms with 3 targets: Theta standard normal, four terms per target of magnitude in [0.5, 2),
Y = Theta Xi^T + 0.1 noise (numpy's generator, so the same sizes and structure as the Rust
workload, not the same numbers).

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python3 bench/peers/stlsq.py

prints the median, min and max milliseconds per fit over at least 3 fits and 2 s after one
warm-up fit, as JSON, and whether the support was recovered.
"""

import json
import time

import numpy as np
import pysindy as ps

rows, terms, targets = 100_000, 20, 3
rng = np.random.default_rng(2024)
theta = rng.standard_normal((rows, terms))
xi = np.zeros((targets, terms))
for k in range(targets):
    for j in range(4):
        xi[k, (7 * k + 5 * j) % terms] = rng.choice([-1.0, 1.0]) * (0.5 + 1.5 * rng.random())
y = theta @ xi.T + 0.1 * rng.standard_normal((rows, targets))


def fit():
    opt = ps.STLSQ(threshold=0.1, alpha=0.05)
    opt.fit(theta, y)
    return opt.coef_


fit()
samples = []
start = time.perf_counter()
while len(samples) < 3 or time.perf_counter() - start < 2.0:
    t0 = time.perf_counter()
    coef = fit()
    samples.append(1e3 * (time.perf_counter() - t0))
samples.sort()
support = bool(np.all((coef != 0) == (xi != 0)))
print(json.dumps({
    "impl": "pysindy-" + ps.__version__ + "-stlsq",
    "median": samples[len(samples) // 2],
    "min": samples[0],
    "max": samples[-1],
    "unit": "ms",
    "calls": len(samples),
    "support_recovered": support,
}))
