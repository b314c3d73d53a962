"""What the model of model-guided rounds costs per trial (issue 24: ≤ 50 ms at 1,000 trials).

    python bench/model_overhead.py [--budgets 100 300 1000]

A ``--budget N`` search of a no-op Python objective over five parameters (two log, one
1 − β, one integer, a choice of three), on the sequential backend, once with the model
(``search.guide: model``, the default) and once without (``search.guide: random``): the
difference per trial is what fitting the Gaussian process and picking among the candidates
costs. Optuna's TPESampler on the same no-op objective, for reference (if installed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

NOOP = "def f(params, seed):\n    return {'loss': params['lr'] * params['width']}\n"
SPACE = {
    "lr": {"scale": "log", "min": 1e-5, "max": 1.0},
    "alpha": {"scale": "log", "min": 1e-8, "max": 1.0},
    "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.999},
    "width": {"scale": "log", "min": 16, "max": 1024, "type": "int"},
    "optimizer": {"choice": ["sgd", "momentum", "adam"]},
}


def hpsearch_seconds(budget: int, guide: str, tmp: Path) -> float:
    import hpsearch
    from hpsearch.config import parse_config

    config = parse_config(
        {
            "name": f"overhead-{guide}",
            "objective": {"python": "noop:f", "workdir": str(tmp)},
            "space": SPACE,
            "search": {"budget": budget, "metric": "loss", "direction": "minimize", "guide": guide},
            "run": {"backend": "sequential", "runs_dir": str(tmp / "runs")},
        }
    )
    started = time.perf_counter()
    run = hpsearch.run(config, quiet=True)
    assert len(run.trials) == budget
    return time.perf_counter() - started


def optuna_seconds(budget: int) -> float | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
        trial.suggest_float("alpha", 1e-8, 1.0, log=True)
        trial.suggest_float("one_minus_beta1", 1e-3, 0.5, log=True)
        width = trial.suggest_int("width", 16, 1024, log=True)
        trial.suggest_categorical("optimizer", ["sgd", "momentum", "adam"])
        return lr * width

    started = time.perf_counter()
    study.optimize(objective, n_trials=budget)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300, 1000])
    args = parser.parse_args()
    print("| budget | with the model, ms/trial | without, ms/trial | the model's cost, ms/trial "
          "| Optuna TPE, ms/trial |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: |")
    for budget in args.budgets:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "noop.py").write_text(NOOP)
            model = hpsearch_seconds(budget, "model", root) / budget * 1000
            plain = hpsearch_seconds(budget, "random", root) / budget * 1000
        tpe = optuna_seconds(budget)
        shown = f"{tpe / budget * 1000:.1f}" if tpe is not None else "—"
        print(f"| {budget} | {model:.1f} | {plain:.1f} | {model - plain:.1f} | {shown} |")


if __name__ == "__main__":
    main()
