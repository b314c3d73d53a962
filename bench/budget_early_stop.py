"""Early stopping inside a budget (issue 24): `--budget 60 --early-stop halving` against
`--budget 60` and against Optuna's TPE with its SuccessiveHalvingPruner.

    python bench/budget_early_stop.py [--seeds 10] [--budget 60] [--jobs 2]

The task must let a validation set rank searchers: 4-class spirals of 10,000 points (2,000
for validation; the built-in digits' 287–360 cannot: every method ends within one image),
the built-in trainer (Adam, 2 layers, 27 epochs) over the quickstart's space. Per seed:

- **budget**: ``hpsearch.run(config, budget=60)``, every trial trained 27 epochs;
- **budget + halving**: the same with ``early_stop: {method: halving, min_epochs: 3, eta: 3}``
  (each round at least a full bracket: 9 trials at 3 epochs, 3 at 9, 1 at 27);
- **Optuna TPE + SHA**: ``TPESampler(seed)`` with ``SuccessiveHalvingPruner(min_resource=3,
  reduction_factor=3)`` driving the same trainer one epoch at a time, until it has spent the
  epochs budget + halving spent.

It prints, per method, the median best val_accuracy (of a fully trained trial), epochs and
CPU seconds in trials, and the seeds where budget + halving reaches budget's best (≥) and
where it beats Optuna's at the same epochs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import hpsearch
from hpsearch import yamlio

EPOCHS, MIN_EPOCHS, ETA = 27, 3, 3
SPACE = {
    "learning_rate": {"scale": "log", "min": 1.0e-4, "max": 1.0},
    "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
    "hidden_units": {"scale": "linear", "min": 16, "max": 128, "type": "int"},
    "batch_size": {"choice": [32, 64, 128, 256]},
}
DATA = {"source": "spirals", "classes": 4, "samples": 10000, "noise": 0.2}


def config(root: Path, seed: int, budget: int, early: bool, jobs: int) -> Path:
    doc = {
        "name": f"es-{seed}",
        "seed": seed,
        "data": {**DATA, "seed": 1000 + seed},
        "model": {"layers": 2, "epochs": EPOCHS, "optimizer": "adam"},
        "space": SPACE,
        "search": {"budget": budget},
        "run": {"jobs": jobs, "runs_dir": str(root / "runs")},
    }
    if early:
        doc["early_stop"] = {"method": "halving", "min_epochs": MIN_EPOCHS, "eta": ETA}
    path = root / f"es-{seed}-{early}.yaml"
    path.write_text(yamlio.dump(doc))
    return path


def hpsearch_run(path: Path) -> dict:
    run = hpsearch.run(path, quiet=True)
    return {
        "best": run.best.metrics["val_accuracy"] if run.best else 0.0,
        "epochs": sum(r.epochs or 0 for r in run.trials),
        "cpu": sum(r.seconds or 0 for r in run.trials),
    }


def optuna_run(seed: int, epochs: int) -> dict:
    """Optuna's TPE + SuccessiveHalvingPruner on the same task, until it has spent ``epochs``
    (bench/early_stopping.py's driver, given this task and TPE)."""
    import early_stopping

    early_stopping.DATA["spirals-10k"] = DATA
    return early_stopping.optuna_run("spirals-10k", seed, epochs, "sha", sampler_name="tpe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    try:
        import optuna  # noqa: F401

        with_optuna = True
    except ImportError:
        with_optuna = False
        print("optuna is not installed: its column is left out (pip install optuna)")
    rows: dict[str, list[dict]] = {}
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            full = hpsearch_run(config(root, seed, args.budget, False, args.jobs))
            halving = hpsearch_run(config(root, seed, args.budget, True, args.jobs))
        results = {"budget": full, "budget + halving": halving}
        if with_optuna:
            results["Optuna TPE + SHA"] = optuna_run(seed, halving["epochs"])
        for name, result in results.items():
            rows.setdefault(name, []).append(result)
        shown = [f"{k} {v['best']:.4f}/{v['epochs']}ep/{v['cpu']:.0f}s" for k, v in results.items()]
        print(f"  seed {seed}: " + ", ".join(shown), flush=True)
    print(
        f"\nspirals, 10,000 points (2,000 validation), --budget {args.budget}, {args.seeds} seeds"
    )
    print("| method | best val_accuracy (median) | epochs (median) | CPU s in trials (median) |")
    print("| --- | ---: | ---: | ---: |")
    for name, results in rows.items():
        best = statistics.median(r["best"] for r in results)
        epochs = statistics.median(r["epochs"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        print(f"| {name} | {best:.4f} | {epochs:.0f} | {cpu:.0f} |")
    full, halving = rows["budget"], rows["budget + halving"]
    reached = sum(h["best"] >= f["best"] for f, h in zip(full, halving, strict=True))
    share = statistics.median(h["epochs"] / f["epochs"] for f, h in zip(full, halving, strict=True))
    print(f"\nbudget + halving reaches budget's best in {reached} of {len(full)} seeds, with a "
          f"median {share:.0%} of its epochs")  # fmt: skip
    if with_optuna:
        tpe = rows["Optuna TPE + SHA"]
        wins = sum(h["best"] >= t["best"] for t, h in zip(tpe, halving, strict=True))
        print(f"budget + halving's best ≥ Optuna TPE + SHA's at the same epochs in {wins} of "
              f"{len(tpe)} seeds")  # fmt: skip


if __name__ == "__main__":
    main()
