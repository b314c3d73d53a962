"""Search quality: uniform random vs hpsearch's coarse-to-fine vs Optuna's TPE (if installed).

    python bench/search_quality.py [--seeds 20]

Objectives (minimised): Hartmann6 on [0, 1]^6 (minimum −3.32237) and Branin on
[−5, 10] × [0, 15] (minimum 0.397887). Budgets of 30 / 60 / 100 evaluations; for each method the
median and interquartile range of the regret (best found − minimum) over the seeds.

Coarse-to-fine runs through hpsearch's own search machinery (``start_search``,
``start_next_round``; runs written to a temporary directory) with the default zoom settings
(``ZoomConfig``): a coarse run of 30 % of the budget, then 6 rounds sharing the rest.
Random is the coarse run alone, with the whole budget. Targets: coarse-to-fine median regret
≤ 1/3 of random's; as close to TPE as possible.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpsearch.config import Config, DataConfig, RunConfig, SearchConfig, ZoomConfig
from hpsearch.objective import Outcome
from hpsearch.search import start_next_round, start_search
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


@dataclass(frozen=True)
class Analytic:
    """An analytic function as an hpsearch objective: its value is the metric to minimise."""

    function: object

    def __call__(self, params, seed, timeout, index=0):
        return Outcome("ok", {"val_loss": self.function(dict(params))}, epochs=1)


def config_for(space: Space, seed: int, coarse: int, per_round: int, runs_dir: Path) -> Config:
    # Built directly: the benchmark's parameter names are not the built-in trainer's.
    return Config(
        name="bench",
        seed=seed,
        data=DataConfig(),
        model={},
        space=space,
        search=SearchConfig(trials=coarse, metric="val_loss", direction="minimize"),
        zoom=ZoomConfig(trials=per_round, rounds=ROUNDS),
        run=RunConfig(backend="sequential", runs_dir=str(runs_dir)),
    )


def best_value(searches) -> float:
    return min(r["metrics"]["val_loss"] for s in searches for r in s.records)


def run_random(function, space, budget, seed, runs_dir) -> float:
    search = start_search(
        config_for(space, seed, budget, 1, runs_dir), objective=Analytic(function)
    )
    list(search.run())
    search.finish("complete")
    return best_value([search])


def run_coarse_to_fine(function, space, budget, seed, runs_dir) -> float:
    per_round = int((1 - COARSE_SHARE) * budget) // ROUNDS
    coarse = budget - ROUNDS * per_round
    searches = [
        start_search(
            config_for(space, seed, coarse, per_round, runs_dir), objective=Analytic(function)
        )
    ]
    for round_ in range(ROUNDS + 1):
        list(searches[-1].run())
        searches[-1].finish("complete")
        if round_ < ROUNDS:
            searches.append(start_next_round(searches))
    assert sum(len(s.records) for s in searches) == budget
    return best_value(searches)


def run_tpe(function, space, budget, seed, runs_dir) -> float:
    import optuna

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
        for name, (function, space, minimum) in PROBLEMS.items():
            for budget in args.budgets:
                cells, medians = [], {}
                for method, run in methods.items():
                    regrets = [
                        run(function, space, budget, seed, Path(tmp)) - minimum
                        for seed in range(args.seeds)
                    ]
                    q1, med, q3 = np.percentile(regrets, [25, 50, 75])
                    medians[method] = statistics.median(regrets)
                    cells.append(f"{med:>8.3f} [{q1:.3f}, {q3:.3f}]".rjust(26))
                ratio = medians["coarse-to-fine"] / medians["random"]
                print(f"{name:>10} {budget:>6} " + " ".join(cells) + f" {ratio:>10.2f}x")


if __name__ == "__main__":
    main()
