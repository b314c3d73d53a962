"""Several goals with early stopping (issue 26): does successive halving find, with a fraction
of the epochs, a front as good as training every trial fully?

    python bench/multi_objective_halving.py [--seeds 10] [--trials 27] [--eta 3 4]
                                            [--hyperband] [--processes 2]

The built-in trainer on the quickstart's task (4-class spirals, 2,000 points, 400 for
validation; Adam, 2 layers, 27 epochs, the quickstart's space) with two goals:
``val_accuracy`` (maximize) and ``parameters`` (minimize, the network's size, which the trainer
reports when a search names it). Per seed, the same N trials (same seed: the same params,
checked):

- **full**: ``hpsearch.run(config, trials=N, rounds=0, metrics=...)``, every trial 27 epochs;
- **halving**: the same with ``early_stop="halving", min_epochs=3, eta=3`` (and ``--eta 4``,
  ``--hyperband``: ``early_stop="hyperband"``, for comparison).

Epochs: the sum of the final records' ``epochs`` (a stopped trial's epochs reached; a promoted
trial continues from its checkpoint) over N × 27. Hypervolume: of each run's
``pareto_front()`` (its fully trained feasible trials), each a point (1 − val_accuracy,
parameters / P) where P is the largest network the space allows (128 units in both layers:
the same fixed reference for every seed and method), against the reference (1, 1). Ratio =
HV(early stopping) / HV(full). Goal (issue 26): the front found with ≤ 40 % of the epochs has
≥ 95 % of the full-training front's hypervolume in ≥ 8 of 10 seeds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

EPOCHS, MIN_EPOCHS = 27, 3
METRICS = {"val_accuracy": "maximize", "parameters": "minimize"}
SPACE = {
    "learning_rate": {"scale": "log", "min": 1.0e-4, "max": 1.0},
    "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
    "hidden_units": {"scale": "linear", "min": 16, "max": 128, "type": "int"},
    "batch_size": {"choice": [32, 64, 128, 256]},
}
DATA = {"source": "spirals", "classes": 4, "samples": 2000, "noise": 0.2, "val_fraction": 0.2}
SHARE, RATIO, SEEDS_NEEDED = 0.40, 0.95, 8


def max_parameters() -> int:
    """The largest network of the space: 2 inputs, 2 hidden layers of 128 units (BatchNorm,
    the trainer's default), 4 classes — counted by the trainer's own model."""
    from hpsearch.trainer.model import MLP, Architecture

    arch = Architecture(inputs=2, classes=DATA["classes"], layers=2, hidden_units=128)
    return int(MLP(arch, np.random.default_rng(0)).params.size)


def config(seed: int, runs_dir: Path):
    from hpsearch.config import parse_config

    return parse_config(
        {
            "name": f"mo-halving-{seed}",
            "seed": seed,
            "data": {**DATA, "seed": 1000 + seed},
            "model": {"layers": 2, "epochs": EPOCHS, "optimizer": "adam"},
            "space": SPACE,
            "search": {"trials": 1, "metric": "val_accuracy", "direction": "maximize"},
            "run": {"backend": "sequential", "jobs": 1, "runs_dir": str(runs_dir)},
        }
    )


def hv_2d(points: np.ndarray, reference: tuple[float, float] = (1.0, 1.0)) -> float:
    """HV of 2-D points to minimise against ``reference``: a sweep, checked against
    hpsearch.pareto."""
    from hpsearch.pareto import hypervolume as pareto_hv

    if len(points) == 0:
        return 0.0
    rx, ry = reference
    inside = sorted((x, y) for x, y in np.asarray(points).tolist() if x < rx and y < ry)
    volume, best_y = 0.0, ry
    for x, y in inside:
        if y < best_y:
            volume += (rx - x) * (best_y - y)
            best_y = y
    assert abs(volume - pareto_hv(np.asarray(points, float), np.array(reference))) < 1e-9
    return volume


def raw_points(front: list[dict]) -> np.ndarray:
    """(1 − val_accuracy, parameters) of each front point."""
    return np.array([[1.0 - p["val_accuracy"], p["parameters"]] for p in front]).reshape(-1, 2)


def hypervolume(front: list[dict], scale: float) -> float:
    """The bench's HV: (1 − val_accuracy, parameters / scale) against (1, 1)."""
    return hv_2d(raw_points(front) / np.array([1.0, scale]))


def tight_hypervolume(front: list[dict], ideal: np.ndarray, nadir: np.ndarray) -> float:
    """A sharper look: both objectives scaled so the seed's ideal point (the best of each over
    every variant's front) is 0 and its nadir (the worst of each over them) is 1, against
    (1.1, 1.1): the region where the fronts differ, not the whole unit square."""
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return hv_2d((raw_points(front) - ideal) / span, (1.1, 1.1))


def run_one(args) -> tuple:
    """One (seed, variant) run: its epochs, front and params per trial."""
    import hpsearch

    seed, variant, trials = args
    kwargs: dict = {}
    if variant.startswith("halving"):
        kwargs = {"early_stop": "halving", "min_epochs": MIN_EPOCHS, "eta": int(variant[-1])}
    elif variant.startswith("hyperband"):
        kwargs = {"early_stop": "hyperband", "min_epochs": MIN_EPOCHS, "eta": int(variant[-1])}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run = hpsearch.run(
            config(seed, Path(tmp) / "runs"),
            trials=trials,
            rounds=0,
            metrics=METRICS,
            quiet=True,
            **kwargs,
        )
        records = run.trials
        front = [
            {
                "trial": r.trial,
                "val_accuracy": r.metrics["val_accuracy"],
                "parameters": r.metrics["parameters"],
                "epochs": r.epochs,
            }
            for r in run.pareto_front()
        ]
        out = {
            "epochs": sum(r.epochs or 0 for r in records),
            "statuses": {
                s: sum(r.status == s for r in records) for s in {r.status for r in records}
            },
            "full_trained": sum(r.ok and (r.epochs or 0) >= EPOCHS for r in records),
            "front": front,
            "params": {r.trial: dict(r.params) for r in records},
            "max_params_seen": max(
                (r.metrics.get("parameters", 0) for r in records if r.metrics), default=0
            ),
            "best_accuracy_any": max(
                (r.metrics.get("val_accuracy", 0) for r in records if r.ok), default=0
            ),
            "hv": hypervolume(front, max_parameters()),
            "seconds": time.perf_counter() - start,
        }
    return seed, variant, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=27)
    parser.add_argument("--eta", type=int, nargs="+", default=[3])
    parser.add_argument("--hyperband", action="store_true", help="also hyperband (eta 3)")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    variants = ["full"] + [f"halving-eta{e}" for e in args.eta]
    if args.hyperband:
        variants.append("hyperband-eta3")
    scale = max_parameters()
    full_epochs = args.trials * EPOCHS
    start = time.perf_counter()
    jobs = [(s, v, args.trials) for s in range(args.seeds) for v in variants]
    results: dict[tuple[int, str], dict] = {}
    with Pool(args.processes) as pool:
        for seed, variant, out in pool.imap_unordered(run_one, jobs, chunksize=1):
            results[(seed, variant)] = out
    wall = time.perf_counter() - start

    for s in range(args.seeds):
        union = np.vstack([raw_points(results[(s, v)]["front"]) for v in variants])
        ideal, nadir = union.min(axis=0), union.max(axis=0)
        for v in variants:
            results[(s, v)]["tight"] = tight_hypervolume(results[(s, v)]["front"], ideal, nadir)
        for v in variants[1:]:
            same = results[(s, v)]["params"] == results[(s, "full")]["params"]
            assert same, f"seed {s}: {v}'s trials differ from full training's"
        assert max(results[(s, v)]["max_params_seen"] for v in variants) <= scale

    print(
        f"spirals 2,000 points (400 validation), {args.trials} trials × {EPOCHS} epochs "
        f"({full_epochs} epochs fully trained), val_accuracy ↑ and parameters ↓; points "
        f"(1 − val_accuracy, parameters / {scale}), reference (1, 1)"
    )
    for v in variants[1:]:
        print(f"\n### {v} against full training\n")
        print("| seed | epochs share | HV full | HV early-stopped | ratio | ≥ 0.95? | "
              "front size full / early | fully trained (early) | tight ratio |")  # fmt: skip
        print("| ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |")
        both = meets_ratio = 0
        shares, ratios, tights = [], [], []
        for s in range(args.seeds):
            full, early = results[(s, "full")], results[(s, v)]
            share = early["epochs"] / full_epochs
            ratio = early["hv"] / full["hv"] if full["hv"] > 0 else float("nan")
            tight = early["tight"] / full["tight"] if full["tight"] > 0 else float("nan")
            tights.append(tight)
            shares.append(share)
            ratios.append(ratio)
            ok = ratio >= RATIO
            meets_ratio += ok
            both += ok and share <= SHARE
            print(
                f"| {s} | {share:.3f} | {full['hv']:.4f} | {early['hv']:.4f} | {ratio:.4f} | "
                f"{'yes' if ok else 'no'} | {len(full['front'])} / {len(early['front'])} | "
                f"{early['full_trained']} | {tight:.4f} |"
            )
        print(
            f"\n{v}: median epochs share {statistics.median(shares):.3f}, median ratio "
            f"{statistics.median(ratios):.4f}; ratio ≥ {RATIO} in {meets_ratio} of {args.seeds} "
            f"seeds; share ≤ {SHARE} and ratio ≥ {RATIO} in {both} of {args.seeds} "
            f"(goal: ≥ {SEEDS_NEEDED}); tight ratio: median {statistics.median(tights):.4f}, "
            f"≥ {RATIO} in {sum(t >= RATIO for t in tights)} of {args.seeds}"
        )
        if statistics.median(shares) > SHARE:
            print(f"{v}: its epochs share exceeds {SHARE}")

    print(
        "\nStatuses of each run's trials (a diverged trial ends early, so full training's own "
        "epochs can fall short of N × 27), summed over seeds, and each run's epochs:"
    )
    for v in variants:
        counts: dict[str, int] = {}
        for s in range(args.seeds):
            for status, n in results[(s, v)]["statuses"].items():
                counts[status] = counts.get(status, 0) + n
        epochs = [results[(s, v)]["epochs"] for s in range(args.seeds)]
        print(f"- {v}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
              + f"; epochs per seed {min(epochs)}–{max(epochs)} of {full_epochs}")  # fmt: skip
    print("\nFronts (trial: val_accuracy / parameters), full | early-stopped variants:\n")
    for s in range(args.seeds):
        cells = []
        for v in variants:
            front = results[(s, v)]["front"]
            cells.append(
                f"{v}: " + ", ".join(
                    f"{p['trial']}:{p['val_accuracy']:.3f}/{p['parameters']:.0f}" for p in front
                )
            )  # fmt: skip
        print(f"- seed {s}: " + " | ".join(cells))
    seconds = {v: statistics.median(results[(s, v)]["seconds"] for s in range(args.seeds))
               for v in variants}  # fmt: skip
    print("\nmedian seconds per run: " + ", ".join(f"{v} {t:.1f}" for v, t in seconds.items()))
    print(f"wall time {wall:.0f} s ({args.processes} processes)")


if __name__ == "__main__":
    main()
