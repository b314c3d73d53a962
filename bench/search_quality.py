"""Search quality: uniform random vs hpsearch's coarse-to-fine vs Optuna's TPE (if installed).

    python bench/search_quality.py [--seeds 20]

Objectives (minimised): Hartmann6 on [0, 1]^6 (minimum −3.32237) and Branin on
[−5, 10] × [0, 15] (minimum 0.397887). Budgets of 30 / 60 / 100 evaluations; for each method the
median and interquartile range of the regret (best found − minimum) over the seeds.

Every method but TPE runs through hpsearch's own machinery: an ordinary config with a Python
objective (``objective.python``: this module's functions), ``hpsearch.run(config,
rounds=...)``, runs written to a temporary directory. Coarse-to-fine uses the default
zoom settings (``ZoomConfig``): a coarse run of 30 % of the budget, then 6 rounds sharing the rest.
Random is the coarse run alone, with the whole budget. Targets: coarse-to-fine median regret
≤ 1/3 of random's; as close to TPE as possible.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import warnings
from pathlib import Path

import numpy as np

import hpsearch
from hpsearch.config import Config, ZoomConfig, parse_config
from hpsearch.space import SCALES, NumericParam, Space

ROUNDS = 6
COARSE_SHARE = 0.3

_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return -float(np.sum(_ALPHA * np.exp(-np.sum(_A * (x - _P) ** 2, axis=1))))


def branin(p: dict) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


LINEAR = SCALES["linear"]
PROBLEMS = {
    "Hartmann6": (
        hartmann6,
        Space(tuple(NumericParam(f"x{i}", LINEAR, 0.0, 1.0) for i in range(6))),
        -3.32237,
    ),
    "Branin": (
        branin,
        Space((NumericParam("x1", LINEAR, -5.0, 10.0), NumericParam("x2", LINEAR, 0.0, 15.0))),
        0.397887,
    ),
}


def hartmann6_objective(params: dict, seed: int) -> float:
    return hartmann6(params)


def branin_objective(params: dict, seed: int) -> float:
    return branin(params)


def config_for(
    name: str, space: Space, seed: int, coarse: int, per_round: int, runs_dir: Path
) -> Config:
    """An ordinary config with a Python objective: this module's ``<name>_objective``."""
    return parse_config(
        {
            "name": "bench",
            "seed": seed,
            "objective": {
                "python": f"search_quality:{name.lower()}_objective",
                "workdir": str(Path(__file__).resolve().parent),
            },
            "space": space.to_dict(),
            "search": {"trials": coarse, "metric": "value", "direction": "minimize"},
            "zoom": {"trials": per_round, "rounds": ROUNDS},
            "run": {"backend": "sequential", "runs_dir": str(runs_dir)},
        }
    )


def best_value(runs) -> float:
    return min(t.metrics["value"] for run in runs for t in run.trials)


def run_random(name, space, budget, seed, runs_dir) -> float:
    return best_value([hpsearch.run(config_for(name, space, seed, budget, 1, runs_dir), rounds=0)])


def run_coarse_to_fine(name, space, budget, seed, runs_dir) -> float:
    per_round = int((1 - COARSE_SHARE) * budget) // ROUNDS
    coarse = budget - ROUNDS * per_round
    config = config_for(name, space, seed, coarse, per_round, runs_dir)
    lineage = hpsearch.run(config, rounds=ROUNDS).lineage
    assert sum(len(run.trials) for run in lineage) == budget
    return best_value(lineage)


def run_tpe(name, space, budget, seed, runs_dir) -> float:
    import optuna

    function = PROBLEMS[name][0]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(
        lambda t: function({p.name: t.suggest_float(p.name, p.low, p.high) for p in space}),
        n_trials=budget,
    )
    return study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", type=int, nargs="+", default=[30, 60, 100])
    args = parser.parse_args()
    methods = {"random": run_random, "coarse-to-fine": run_coarse_to_fine}
    try:
        import optuna

        methods["TPE (optuna " + optuna.__version__ + ")"] = run_tpe
    except ImportError:
        print("Optuna is not installed: no TPE column (pip install optuna)")
    warnings.filterwarnings("ignore")
    print(
        f"median regret [25 %, 75 %] over {args.seeds} seeds; coarse-to-fine: "
        f"{COARSE_SHARE:.0%} coarse, {ROUNDS} rounds, top {ZoomConfig.top}, "
        f"margin {ZoomConfig.margin}\n"
    )
    header = f"{'problem':>10} {'budget':>6} " + " ".join(f"{m:>26}" for m in methods)
    print(header + f" {'c2f/random':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (_, space, minimum) in PROBLEMS.items():
            for budget in args.budgets:
                cells, medians = [], {}
                for method, run in methods.items():
                    regrets = [
                        run(name, space, budget, seed, Path(tmp)) - minimum
                        for seed in range(args.seeds)
                    ]
                    q1, med, q3 = np.percentile(regrets, [25, 50, 75])
                    medians[method] = statistics.median(regrets)
                    cells.append(f"{med:>8.3f} [{q1:.3f}, {q3:.3f}]".rjust(26))
                ratio = medians["coarse-to-fine"] / medians["random"]
                print(f"{name:>10} {budget:>6} " + " ".join(cells) + f" {ratio:>10.2f}x")


if __name__ == "__main__":
    main()
