"""Early stopping on the built-in trainer: successive halving vs training every trial fully,
and vs Optuna's pruners (if installed) at the same epoch budget.

    python bench/early_stopping.py [--seeds 10] [--jobs 2]

For each dataset (digits, spirals) and seed, the quickstart's space (learning rate, β1,
hidden units, batch size; Adam, 2 layers, 27 epochs at most):

- **full**: 81 random trials, every one trained 27 epochs (``hpsearch.run``);
- **halving**: the same 81 trials with ``early_stop: {method: halving, min_epochs: 3,
  eta: 3}`` (rungs 81×3, 27×9, 9×27 epochs);
- **full, same epochs**: as many fully trained random trials as halving's epochs pay for;
- **hyperband**: the same 81 trials with ``method: hyperband`` (brackets of 3, 9 and 27
  starting epochs);
- **Optuna SHA / Hyperband**: Optuna's ``RandomSampler(seed)`` with
  ``SuccessiveHalvingPruner(min_resource=3, reduction_factor=3)`` or
  ``HyperbandPruner(min_resource=3, max_resource=27, reduction_factor=3)``, driving the same
  trainer one epoch at a time in this process, until it has spent halving's epochs.

It prints per dataset the median best val_accuracy, epochs and wall time of each method, the
seeds where halving's best is at least that of full training at the same epochs, and the idle
time of the 2 workers (workers × wall time − seconds spent in trials; as a share, and in
worker-seconds). Every run has the same fixed idle time (starting the workers, loading the
data); what halving idles beyond a run of full training of the same length is what waiting
for rungs costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import hpsearch
from hpsearch import yamlio

EPOCHS, MIN_EPOCHS, ETA, TRIALS = 27, 3, 3, 81
SPACE = {
    "learning_rate": {"scale": "log", "min": 1.0e-4, "max": 1.0},
    "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
    "hidden_units": {"scale": "linear", "min": 16, "max": 128, "type": "int"},
    "batch_size": {"choice": [32, 64, 128, 256]},
}
DATA = {
    "digits": {"source": "digits"},
    "spirals": {"source": "spirals", "classes": 4, "samples": 2000, "noise": 0.2},
}


def config(root: Path, dataset: str, seed: int, trials: int, early: bool | str, jobs: int) -> Path:
    doc = {
        "name": f"{dataset}-{seed}",
        "seed": seed,
        "data": {**DATA[dataset], "seed": 1000 + seed},
        "model": {"layers": 2, "epochs": EPOCHS, "optimizer": "adam"},
        "space": SPACE,
        "search": {"trials": trials},
        "run": {"jobs": jobs, "runs_dir": str(root / "runs")},
    }
    if early:
        method = early if isinstance(early, str) else "halving"
        doc["early_stop"] = {"method": method, "min_epochs": MIN_EPOCHS, "eta": ETA}
    path = root / f"{dataset}-{seed}-{trials}-{early}.yaml"
    path.write_text(yamlio.dump(doc))
    return path


def hpsearch_run(path: Path, jobs: int) -> dict:
    started = time.perf_counter()
    run = hpsearch.run(path)
    wall = time.perf_counter() - started
    epochs = sum(r.epochs or 0 for r in run.trials)
    busy = sum(r.seconds or 0 for r in run.trials)
    rungs = run.path / "rungs.jsonl"
    if rungs.exists():  # a promoted trial's rungs: count each training's seconds once
        lines = [json.loads(line) for line in rungs.read_text().splitlines()]
        busy = sum(line["seconds"] or 0 for line in lines)
    trial_wall = float(run.summary["wall_time"])
    return {
        "best": run.best.metrics["val_accuracy"] if run.best else 0.0,
        "epochs": epochs,
        "wall": wall,
        "idle": 1.0 - busy / (jobs * trial_wall),
        "idle_seconds": jobs * trial_wall - busy,
    }


def optuna_run(
    dataset: str, seed: int, budget: int, pruner_name: str, sampler_name: str = "random"
) -> dict:
    import optuna

    from hpsearch.config import load_config
    from hpsearch.data import load_dataset
    from hpsearch.trainer import train

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(config(Path(tmp), dataset, seed, 1, False, 1))
    data = load_dataset(cfg.data, cfg.data_seed, cfg.base_dir)
    if pruner_name == "sha":
        pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=MIN_EPOCHS, reduction_factor=ETA
        )
    else:
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=MIN_EPOCHS, max_resource=EPOCHS, reduction_factor=ETA
        )
    study = optuna.create_study(
        direction="maximize",
        sampler=(
            optuna.samplers.TPESampler(seed=seed)
            if sampler_name == "tpe"
            else optuna.samplers.RandomSampler(seed=seed)
        ),
        pruner=pruner,
        # HyperbandPruner puts a trial in a bracket by a hash of the study's name: a fixed
        # name makes its runs repeatable.
        study_name=f"bench-{dataset}-{seed}",
    )
    spent = {"epochs": 0}

    class Pruned(Exception):
        pass

    def objective(trial: optuna.Trial) -> float:
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1.0, log=True),
            "beta1": 1.0 - trial.suggest_float("one_minus_beta1", 1e-3, 0.1, log=True),
            "hidden_units": trial.suggest_int("hidden_units", 16, 128),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        }

        def report(epoch: int, **metrics: float) -> None:
            spent["epochs"] += 1
            trial.report(metrics["val_accuracy"], epoch)
            if trial.should_prune():
                raise Pruned

        try:
            result = train(
                {**cfg.resolved_model(), **params}, data, seed * 1000 + trial.number, report=report
            )
        except Pruned:
            raise optuna.TrialPruned() from None
        return result.metrics.get("val_accuracy", 0.0)

    def stop_at_budget(study, _trial) -> None:
        if spent["epochs"] >= budget:
            study.stop()

    started, cpu = time.perf_counter(), time.process_time()
    study.optimize(objective, callbacks=[stop_at_budget], n_trials=10_000)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    # The best trial trained fully: what would be picked (pruned trials' values are partial).
    complete = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {"best": max(complete, default=0.0), "epochs": spent["epochs"], "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", default="digits,spirals")
    parser.add_argument("--no-optuna", action="store_true")
    args = parser.parse_args()
    try:
        import optuna  # noqa: F401

        with_optuna = not args.no_optuna
    except ImportError:
        with_optuna = False
        print("optuna is not installed: its rows are left out (pip install optuna)")
    for dataset in args.datasets.split(","):
        rows: dict[str, list[dict]] = {}
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                full = hpsearch_run(
                    config(root, dataset, seed, TRIALS, False, args.jobs), args.jobs
                )
                halving = hpsearch_run(
                    config(root, dataset, seed, TRIALS, True, args.jobs), args.jobs
                )
                same = round(halving["epochs"] / EPOCHS)
                equal = hpsearch_run(config(root, dataset, seed, same, False, args.jobs), args.jobs)
                hyperband = hpsearch_run(
                    config(root, dataset, seed, TRIALS, "hyperband", args.jobs), args.jobs
                )
            results = {
                "full": full,
                "halving": halving,
                "full, same epochs": equal,
                "hyperband": hyperband,
            }
            if with_optuna:
                results["Optuna SHA"] = optuna_run(dataset, seed, halving["epochs"], "sha")
                results["Optuna Hyperband"] = optuna_run(dataset, seed, halving["epochs"], "hb")
            for name, result in results.items():
                rows.setdefault(name, []).append(result)
            print(
                f"  {dataset} seed {seed}: "
                + ", ".join(f"{k} {v['best']:.4f}/{v['epochs']}ep" for k, v in results.items()),
                flush=True,
            )
        full_median = statistics.median(r["best"] for r in rows["full"])
        print(f"\n{dataset}, {args.seeds} seeds, {args.jobs} workers (medians)")
        print(
            f"{'method':<20} {'best val_acc':>12} {'vs full':>8} {'epochs':>7} "
            f"{'of full':>8} {'wall s':>7} {'idle':>6} {'idle s':>7}"
        )
        full_epochs = statistics.median(r["epochs"] for r in rows["full"])
        for name, results in rows.items():
            best = statistics.median(r["best"] for r in results)
            epochs = statistics.median(r["epochs"] for r in results)
            wall = statistics.median(r["wall"] for r in results)
            idle, idle_seconds = "-", "-"
            if "idle" in results[0]:
                idle = f"{statistics.median(r['idle'] for r in results):.0%}"
                idle_seconds = f"{statistics.median(r['idle_seconds'] for r in results):.2f}"
            print(
                f"{name:<20} {best:>12.4f} {100 * (best - full_median):>+7.2f}p "
                f"{epochs:>7.0f} {epochs / full_epochs:>8.0%} {wall:>7.1f} {idle:>6} "
                f"{idle_seconds:>7}"
            )
        wins = sum(
            h["best"] >= e["best"]
            for h, e in zip(rows["halving"], rows["full, same epochs"], strict=True)
        )
        print(f"halving >= full training at the same epochs in {wins} of {args.seeds} seeds\n")


if __name__ == "__main__":
    main()
