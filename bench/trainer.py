"""Training speed of hpsearch's NumPy trainer against PyTorch on the CPU, one BLAS thread.

    python bench/trainer.py [--repeats 7]

Case 1, digits-sized: [64, 64] hidden units with BatchNorm + ReLU, Adam, float32, on 1,437 × 64
(10 classes), batch 32 / 64 / 256: samples per second over whole epochs, median of the repeats
after a warm-up epoch. Target: ≥ 2.5× PyTorch.

Case 2, large: [256, 256] on 20,000 × 100, batch 1024: the same, plus the "BLAS ceiling", the
time of the step's matrix products alone (3 forward, 3 weight-gradient, 2 input-gradient),
measured in the same run. Target: ≥ 80 % of the ceiling.

PyTorch is optional: without it its columns say so.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

from hpsearch.trainer import MLP, Architecture  # noqa: E402
from hpsearch.trainer.optimizers import Adam  # noqa: E402
from hpsearch.trainer.train import run_epoch  # noqa: E402


def dataset(rows: int, features: int, classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    y = rng.integers(0, classes, rows)
    return x, y


def digits_or_random():
    try:
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x = ((x - x.mean(0)) / (x.std(0) + 1e-8))[:1437].astype(np.float32)
        return x, y[:1437], "digits"
    except ImportError:
        x, y = dataset(1437, 64, 10)
        return x, y, "random 1437x64"


def median_epoch_seconds(contenders: dict, repeats: int) -> dict[str, float]:
    """Median seconds per epoch of each contender, timed round-robin after one warm-up each.

    Interleaving the contenders spreads any slowdown of the machine over all of them.
    """
    for run in contenders.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def numpy_epoch(x, y, hidden, batch):
    rng = np.random.default_rng(0)
    model = MLP(
        Architecture(
            inputs=x.shape[1], classes=int(y.max()) + 1, layers=len(hidden), hidden_units=hidden[0]
        ),
        rng,
        np.float32,
    )
    opt = Adam(model.params.size, np.float32, 0.9, 0.999, 1e-8)
    return lambda: run_epoch(model, opt, x, y, batch, 1e-3, 0.0, rng)


def torch_epoch(x, y, hidden, batch):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers, width = [], x.shape[1]
    for units in hidden:
        layers += [
            torch.nn.Linear(width, units, bias=False),
            torch.nn.BatchNorm1d(units),
            torch.nn.ReLU(),
        ]
        width = units
    layers.append(torch.nn.Linear(width, int(y.max()) + 1))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def epoch():
        order = torch.randperm(len(xt))
        xs, ys = xt[order], yt[order]
        total, correct = 0.0, 0
        for start in range(0, len(xs), batch):
            xb, yb = xs[start : start + batch], ys[start : start + batch]
            if len(xb) == 1:
                continue
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            correct += int((out.argmax(1) == yb).sum())
        return total, correct

    return epoch


def blas_ceiling_epoch(x, y, hidden, batch):
    """Only the matrix products of each training step, with the trainer's shapes and dtype."""
    rng = np.random.default_rng(0)
    widths = [x.shape[1], *hidden, int(y.max()) + 1]
    weights = [
        rng.standard_normal((a, b)).astype(np.float32) for a, b in itertools.pairwise(widths)
    ]
    grads = [np.empty_like(w) for w in weights]

    def epoch():
        for start in range(0, len(x), batch):
            acts = [x[start : start + batch]]
            for w in weights:
                acts.append(acts[-1] @ w)
            g = acts[-1]
            for i in reversed(range(len(weights))):
                np.matmul(acts[i].T, g, out=grads[i])
                if i:
                    g = g @ weights[i].T

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None

    print(
        f"numpy {np.__version__}, torch {torch_version or 'not installed'}, 1 BLAS thread, "
        f"median of {args.repeats} epochs after a warm-up\n"
    )
    x, y, name = digits_or_random()
    print(f"case 1: [64, 64] BatchNorm+ReLU, Adam, float32, on {name} ({len(x)} x {x.shape[1]})")
    print(f"{'batch':>6} {'hpsearch samples/s':>19} {'torch samples/s':>16} {'ratio':>7}  target")
    for batch in (32, 64, 256):
        contenders = {"ours": numpy_epoch(x, y, [64, 64], batch)}
        if torch_version:
            contenders["torch"] = torch_epoch(x, y, [64, 64], batch)
        seconds = median_epoch_seconds(contenders, args.repeats)
        ours = len(x) / seconds["ours"]
        if torch_version:
            theirs = len(x) / seconds["torch"]
            print(f"{batch:>6} {ours:>19,.0f} {theirs:>16,.0f} {ours / theirs:>6.2f}x  >= 2.5x")
        else:
            print(f"{batch:>6} {ours:>19,.0f} {'-':>16} {'-':>7}  (PyTorch not installed)")

    x, y = dataset(20_000, 100, 10)
    print("\ncase 2: [256, 256] BatchNorm+ReLU, Adam, float32, on 20,000 x 100, batch 1024")
    contenders = {
        "matmuls only (ceiling)": blas_ceiling_epoch(x, y, [256, 256], 1024),
        "hpsearch": numpy_epoch(x, y, [256, 256], 1024),
    }
    if torch_version:
        contenders["torch"] = torch_epoch(x, y, [256, 256], 1024)
    seconds = median_epoch_seconds(contenders, args.repeats)
    print(f"{'':>22} {'samples/s':>10} {'epoch ms':>9}")
    for name, s in seconds.items():
        print(f"{name:>22} {len(x) / s:>10,.0f} {s * 1e3:>9.1f}")
    ours, ceiling = seconds["hpsearch"], seconds["matmuls only (ceiling)"]
    line = f"\nhpsearch at {ceiling / ours:.0%} of the BLAS ceiling (target >= 80%)"
    if torch_version:
        line += f"; {seconds['torch'] / ours:.2f}x PyTorch"
    print(line)


if __name__ == "__main__":
    main()
