"""Search quality: uniform random vs hpsearch's coarse-to-fine (``--budget``) vs Optuna's TPE.

    python bench/search_quality.py [--seeds 20] [--budgets 30 60 100] [--problems ...]

Problems (minimised; known minimum): Hartmann6 and Hartmann3 (multimodal, [0, 1]^d), Branin,
Rosenbrock in 4-D (a curved valley), Ackley in 5-D (many local minima), Levy in 4-D,
Styblinski-Tang in 5-D, and TrainLoss: a training-loss-like surface over a learning rate
(log), two betas (1 − β log), a width (integer, log) and an L2 (log), whose terms interact
(the best learning rate depends on β1, the best L2 on the width; too large a step blows up).
For each (problem, budget) the median and interquartile range of the regret (best found −
minimum) over the seeds.

Every hpsearch method runs the path a user runs: an ordinary config with a Python objective
(this module's ``objective``; the problem is a fixed value under ``model``),
``hpsearch.run(config, budget=N)`` for coarse-to-fine (its own schedule: hpsearch.schedule),
and the coarse run alone with all N trials for random; sequential backend, runs written to a
temporary directory. TPE is Optuna's ``TPESampler(seed=s)`` with log=True for log parameters,
1 − β suggested as a log-scaled 1 − β, integers as integers. Targets (issue 14): median regret
≤ TPE's in at least 2/3 of the cases and never worse than 2× TPE's; ≤ 1/3 of random's at 60
and 100 everywhere.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from problems import MORE, NOISE

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
_A3 = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_P3 = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
)


def hartmann6(p):
    x = np.array([p[f"x{i}"] for i in range(6)])
    return -float(np.sum(_ALPHA * np.exp(-np.sum(_A * (x - _P) ** 2, axis=1))))


def hartmann3(p):
    x = np.array([p[f"x{i}"] for i in range(3)])
    return -float(np.sum(_ALPHA * np.exp(-np.sum(_A3 * (x - _P3) ** 2, axis=1))))


def branin(p):
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def rosenbrock(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(p):
    x = np.array([p[f"x{i}"] for i in range(5)])
    d = len(x)
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
        - np.exp(np.sum(np.cos(2 * np.pi * x)) / d)
        + 20
        + math.e
    )


def levy(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    w = 1 + (x - 1) / 4
    return float(
        np.sin(np.pi * w[0]) ** 2
        + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
        + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    )


def styblinski(p):
    x = np.array([p[f"x{i}"] for i in range(5)])
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


def trainloss(p):
    # A training-loss-like surface: the best learning rate depends on beta1 (momentum's
    # effective step lr/(1-beta1)), beta2 matters a little, width helps with diminishing
    # returns and interacts with L2.
    lr, b1, b2, w, l2 = p["lr"], p["beta1"], p["beta2"], p["width"], p["l2"]
    eff = math.log10(lr) - 0.5 * math.log10(1 - b1)  # larger momentum: smaller lr
    loss = 0.6 * (eff + 2.0) ** 2
    loss += 0.15 * (math.log10(1 - b2) + 3.0) ** 2
    loss += 0.8 / math.sqrt(w / 16)
    loss += 0.3 * (math.log10(l2) + 4 - 0.5 * math.log10(w / 64)) ** 2
    if eff > -0.5:
        loss += 3.0 * (eff + 0.5)  # blows up when the step is too large
    return loss


def lin(name, lo, hi, d):
    return {f"x{i}": {"scale": "linear", "min": lo, "max": hi} for i in range(d)}


def trainloss_min():
    # width 512: 0.8/sqrt(32) ; eff=-2 ; b2 at 0.999; l2 at its optimum
    return 0.8 / math.sqrt(512 / 16)


PROBLEMS = {
    "Hartmann6": (hartmann6, lin("x", 0.0, 1.0, 6), -3.32237),
    "Branin": (
        branin,
        {
            "x0": {"scale": "linear", "min": -5.0, "max": 10.0},
            "x1": {"scale": "linear", "min": 0.0, "max": 15.0},
        },
        0.397887,
    ),
    "Hartmann3": (hartmann3, lin("x", 0.0, 1.0, 3), -3.86278),
    "Rosenbrock4": (rosenbrock, lin("x", -5.0, 10.0, 4), 0.0),
    "Ackley5": (ackley, lin("x", -32.768, 32.768, 5), 0.0),
    "Levy4": (levy, lin("x", -10.0, 10.0, 4), 0.0),
    "Styblinski5": (styblinski, lin("x", -5.0, 5.0, 5), -39.16617 * 5),
    "TrainLoss": (
        trainloss,
        {
            "lr": {"scale": "log", "min": 1e-5, "max": 1.0},
            "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.999},
            "beta2": {"scale": "one_minus_log", "min": 0.9, "max": 0.9999},
            "width": {"scale": "log", "min": 16, "max": 512, "type": "int"},
            "l2": {"scale": "log", "min": 1e-7, "max": 1e-1},
        },
        trainloss_min(),
    ),
}


PROBLEMS.update(MORE)
HELD_OUT = list(MORE)  # issue 24's held-out kinds (bench/problems.py); not tuned on


def noisy(name: str, true: float, seed: int) -> float:
    """``true`` as observed: with the problem's noise (``NOISE``), drawn from ``seed``."""
    sd = NOISE.get(name, 0.0)
    return true + sd * float(np.random.default_rng(seed).normal()) if sd else true


def objective(params: dict, seed: int) -> dict:
    """The Python objective of the bench's configs: ``params["problem"]`` names the function.
    ``value`` is what the search sees; ``true`` its noiseless value (the regret's)."""
    name = params["problem"]
    true = PROBLEMS[name][0]({k: v for k, v in params.items() if k != "problem"})
    return {"value": noisy(name, true, seed), "true": true}


def config_for(name: str, seed: int, trials: int, runs_dir: Path):
    from hpsearch.config import parse_config

    return parse_config(
        {
            "name": "bench",
            "seed": seed,
            "objective": {
                "python": "search_quality:objective",
                "workdir": str(Path(__file__).resolve().parent),
            },
            "model": {"problem": name},
            "space": PROBLEMS[name][1],
            "search": {"trials": trials, "metric": "value", "direction": "minimize"},
            "run": {"backend": "sequential", "runs_dir": str(runs_dir)},
        }
    )


def best_value(run) -> float:
    """The noiseless value of the trial the run reports as best."""
    return float(run.best.metrics["true"])


def run_random(name: str, budget: int, seed: int, runs_dir: Path) -> float:
    import hpsearch

    return best_value(hpsearch.run(config_for(name, seed, budget, runs_dir), rounds=0))


def run_coarse_to_fine(name: str, budget: int, seed: int, runs_dir: Path) -> float:
    import hpsearch

    run = hpsearch.run(config_for(name, seed, 1, runs_dir), budget=budget)
    assert len(run.trials) == budget
    return best_value(run)


def _suggest(trial, name: str, spec: dict):
    if "choice" in spec:
        return trial.suggest_categorical(name, spec["choice"])
    if spec["scale"] == "one_minus_log":
        return 1 - trial.suggest_float("1-" + name, 1 - spec["max"], 1 - spec["min"], log=True)
    log = spec["scale"] == "log"
    if spec.get("type") == "int":
        return trial.suggest_int(name, spec["min"], spec["max"], log=log)
    return trial.suggest_float(name, spec["min"], spec["max"], log=log)


def _suggest_space(trial, space: dict) -> dict:
    """Every active parameter (define-by-run: a ``when`` is checked on what came before)."""
    params: dict = {}
    for name, spec in space.items():
        when = spec.get("when", {})
        if all(params.get(k) == v for k, v in when.items()):
            params[name] = _suggest(trial, name, spec)
    return params


def run_tpe(name: str, budget: int, seed: int, runs_dir: Path) -> float:
    import optuna

    function, space, _ = PROBLEMS[name]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))

    def tpe_objective(trial) -> float:
        true = function(_suggest_space(trial, space))
        trial.set_user_attr("true", true)
        return noisy(name, true, seed * 100_003 + trial.number)

    study.optimize(tpe_objective, n_trials=budget)
    return float(study.best_trial.user_attrs["true"])


METHODS = {"random": run_random, "coarse-to-fine": run_coarse_to_fine, "TPE": run_tpe}

# -- the built-in trainer: digits, 60 evaluations ----------------------------------------------

TRAINER_SPACE = {
    "learning_rate": {"scale": "log", "min": 1.0e-4, "max": 1.0},
    "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
    "hidden_units": {"scale": "linear", "min": 16, "max": 128, "type": "int"},
    "l2": {"scale": "log", "min": 1.0e-6, "max": 1.0},
}


def trainer_config(seed: int, runs_dir: Path, trials: int = 1):
    from hpsearch.config import parse_config

    return parse_config(
        {
            "name": "digits",
            "seed": seed,
            "data": {"source": "digits", "seed": 0},
            "model": {"layers": 2, "epochs": 10, "optimizer": "adam", "batch_size": 64},
            "space": TRAINER_SPACE,
            "search": {"trials": trials},
            "run": {"jobs": 2, "runs_dir": str(runs_dir)},
        }
    )


def trainer_job(args) -> tuple:
    import hpsearch

    method, seed, budget = args
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:  # runs are read before it goes
        if method == "random":
            run = hpsearch.run(trainer_config(seed, Path(tmp), budget), rounds=0)
        elif method == "coarse-to-fine":
            run = hpsearch.run(trainer_config(seed, Path(tmp)), budget=budget)
        else:
            return method, seed, trainer_tpe(seed, budget, Path(tmp))
        return method, seed, max(t.metrics["val_accuracy"] for t in run.trials if t.ok)


def trainer_tpe(seed: int, budget: int, tmp: Path) -> float:
    import optuna

    from hpsearch.data import load_dataset
    from hpsearch.sampling import training_seed
    from hpsearch.trainer import train

    cfg = trainer_config(seed, tmp)
    data = load_dataset(cfg.data, cfg.data_seed, cfg.base_dir)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial) -> float:
        params = {n: _suggest(trial, n, spec) for n, spec in TRAINER_SPACE.items()}
        result = train({**cfg.resolved_model(), **params}, data, training_seed(seed, trial.number))
        return result.metrics.get("val_accuracy", 0.0) if result.status == "ok" else 0.0

    study.optimize(objective, n_trials=budget)
    return study.best_value


def trainer_comparison(seeds: int, budget: int = 60) -> None:
    methods = ["random", "coarse-to-fine"]
    try:
        import optuna  # noqa: F401

        methods.append("TPE")
    except ImportError:
        pass
    best: dict[str, dict[int, float]] = {}
    for method in methods:  # one at a time: hpsearch's runs use both cores themselves
        for seed in range(seeds):
            _, _, value = trainer_job((method, seed, budget))
            best.setdefault(method, {})[seed] = value
    print(f"\nbuilt-in trainer on digits, {budget} evaluations, {seeds} seeds: best val_accuracy")
    print("| method | median | 25 % | 75 % |")
    print("| --- | ---: | ---: | ---: |")
    for method in methods:
        q1, med, q3 = np.percentile(list(best[method].values()), [25, 50, 75])
        print(f"| {method} | {med:.4f} | {q1:.4f} | {q3:.4f} |")
    wins = sum(best["coarse-to-fine"][s] > best["random"][s] for s in range(seeds))
    ties = sum(best["coarse-to-fine"][s] == best["random"][s] for s in range(seeds))
    print(f"coarse-to-fine better than random in {wins} of {seeds} seeds ({ties} ties)")
    if "TPE" in best:
        tpe_wins = sum(best["coarse-to-fine"][s] >= best["TPE"][s] for s in range(seeds))
        print(f"coarse-to-fine at least TPE's in {tpe_wins} of {seeds} seeds")


def _job(args) -> tuple:
    method, name, budget, seed = args
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        regret = METHODS[method](name, budget, seed, Path(tmp)) - PROBLEMS[name][2]
    return method, name, budget, seed, regret


def _user_job(args) -> tuple:
    """One search on a user's own schedule: 30 coarse trials, then 3 zoom rounds of 10."""
    import dataclasses

    import hpsearch

    name, guide, seed = args
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        config = config_for(name, seed, 30 if guide else 60, Path(tmp))
        if guide:
            search = dataclasses.replace(config.search, guide=guide)
            zoom = dataclasses.replace(config.zoom, trials=10)
            config = dataclasses.replace(config, search=search, zoom=zoom)
        run = hpsearch.run(config, rounds=3 if guide else 0, quiet=True)
        assert len(run.trials) == 60
        return name, guide, best_value(run) - PROBLEMS[name][2]


def user_schedule(seeds: int, problems: list[str], processes: int) -> None:
    """The course's zoom on a user's schedule (``zoom: {trials: 10, rounds: 3}`` after 30
    coarse trials, 60 evaluations), with and without the model, against random's 60."""
    jobs = [(n, g, s) for n in problems for g in ("model", "random", None) for s in range(seeds)]
    regrets: dict[tuple, list[float]] = {}
    with Pool(processes) as pool:
        for name, guide, regret in pool.imap_unordered(_user_job, jobs, chunksize=4):
            regrets.setdefault((name, guide), []).append(regret)
    print(f"30 coarse + 3 zoom rounds of 10 (60 evaluations), median regret, {seeds} seeds\n")
    print("| problem | random | zoom, guide: random | zoom, guide: model | model / random |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in problems:
        med = {g: statistics.median(regrets[(name, g)]) for g in ("model", "random", None)}
        ratio = med["model"] / max(med[None], 1e-12)
        print(
            f"| {name} | {med[None]:.3g} | {med['random']:.3g} | {med['model']:.3g} | "
            f"{ratio:.2f}× |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", type=int, nargs="+", default=[30, 60, 100])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument(
        "--held-out", action="store_true", help="only issue 24's held-out problems (problems.py)"
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--trainer", action="store_true", help="the built-in trainer on digits instead"
    )
    parser.add_argument(
        "--user-schedule",
        action="store_true",
        help="zoom rounds on a user's schedule (30 coarse + 3 rounds of 10) instead",
    )
    args = parser.parse_args()
    if args.user_schedule:
        user_schedule(args.seeds, args.problems, args.processes)
        return
    if args.trainer:
        trainer_comparison(args.seeds)
        return
    if args.held_out:
        args.problems = HELD_OUT
    methods = ["random", "coarse-to-fine"]
    try:
        import optuna

        methods.append("TPE")
        tpe = f"TPE (Optuna {optuna.__version__})"
    except ImportError:
        tpe = None
        print("Optuna is not installed: no TPE column (pip install optuna)")
    jobs = [
        (m, n, b, s)
        for n in args.problems
        for b in args.budgets
        for m in methods
        for s in range(args.seeds)
    ]
    regrets: dict[tuple, list[float]] = {}
    with Pool(args.processes) as pool:
        for method, name, budget, _seed, regret in pool.imap_unordered(_job, jobs, chunksize=4):
            regrets.setdefault((method, name, budget), []).append(regret)

    def cell(key) -> str:
        q1, med, q3 = np.percentile(regrets[key], [25, 50, 75])
        return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"

    print(f"median regret [25 %, 75 %] over {args.seeds} seeds\n")
    columns = ["problem", "budget", "random", "coarse-to-fine"] + ([tpe] if tpe else [])
    columns += ["c2f / random"] + (["c2f / TPE"] if tpe else [])
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join(["---"] * 2 + ["---:"] * (len(columns) - 2)) + " |")
    wins = cases = over2 = 0
    for name in args.problems:
        for budget in args.budgets:
            med = {m: statistics.median(regrets[(m, name, budget)]) for m in methods}
            row = [name, str(budget)] + [cell((m, name, budget)) for m in methods]
            row.append(f"{med['coarse-to-fine'] / max(med['random'], 1e-12):.2f}×")
            if tpe:
                ratio = med["coarse-to-fine"] / max(med["TPE"], 1e-12)
                cases += 1
                wins += med["coarse-to-fine"] <= med["TPE"]
                over2 += ratio > 2
                row.append(f"{ratio:.2f}×")
            print("| " + " | ".join(row) + " |")
    if tpe:
        print(f"\ncoarse-to-fine <= TPE in {wins} of {cases} cases; worse than 2x TPE in {over2}")


if __name__ == "__main__":
    main()
