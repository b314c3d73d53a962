"""How many anchors a zoom round should narrow around (``zoom.top``), and its margin: the
course's coarse to fine (``--rounds``) against uniform random search at equal evaluations.

    python bench/zoom_top.py [--seeds 20] [--tops 1 2 3 5] [--margins 0.35]

Each search is ``hpsearch.run(config, rounds=R)`` on the problems of bench/search_quality.py:
60 evaluations as 20 coarse + 2 rounds of 20, and 100 as 40 + 3 rounds of 20 (a schedule a
user would pick). The problems are split in two: ``--tune`` (Hartmann6, Branin, Rosenbrock4,
TrainLoss) picks the default, ``--held-out`` (Hartmann3, Ackley5, Levy4, Styblinski5) checks
it. Printed: the median regret of each setting relative to random's (lower is better), per
problem and budget, and the geometric mean per group.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import warnings
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import PROBLEMS, config_for

TUNE = ["Hartmann6", "Branin", "Rosenbrock4", "TrainLoss"]
HELD_OUT = ["Hartmann3", "Ackley5", "Levy4", "Styblinski5"]
SCHEDULES = {60: (20, 2, 20), 100: (40, 3, 20)}  # coarse, rounds, trials per round


def _job(args) -> tuple:
    import dataclasses

    import hpsearch

    name, budget, top, margin, seed = args
    warnings.filterwarnings("ignore")
    coarse, rounds, per = SCHEDULES[budget]
    with tempfile.TemporaryDirectory() as tmp:
        config = config_for(name, seed, coarse if top else budget, Path(tmp))
        if top:
            zoom = dataclasses.replace(config.zoom, top=top, margin=margin, trials=per)
            config = dataclasses.replace(config, zoom=zoom)
        run = hpsearch.run(config, rounds=rounds if top else 0)
        assert len(run.trials) == budget
        best = min(t.metrics["value"] for t in run.trials if t.ok)
    return name, budget, top, margin, seed, best - PROBLEMS[name][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tops", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--margins", type=float, nargs="+", default=[0.35])
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    settings = [(0, 0.0)] + [(t, m) for t in args.tops for m in args.margins]
    jobs = [
        (name, budget, top, margin, seed)
        for name in TUNE + HELD_OUT
        for budget in SCHEDULES
        for top, margin in settings
        for seed in range(args.seeds)
    ]
    regrets: dict[tuple, list[float]] = {}
    with Pool(args.processes) as pool:
        for name, budget, top, margin, _seed, regret in pool.imap_unordered(_job, jobs, 8):
            regrets.setdefault((name, budget, top, margin), []).append(regret)
    labels = [f"top {t}, margin {m:g}" for t, m in settings[1:]]
    print(f"median regret / random's median regret, {args.seeds} seeds\n")
    print("| problem | evals | random | " + " | ".join(labels) + " |")
    print("| --- | ---: | ---: | " + " | ".join(["---:"] * len(labels)) + " |")
    logs: dict[tuple, list[float]] = {}
    for group, names in (("tune", TUNE), ("held out", HELD_OUT)):
        for name in names:
            for budget in SCHEDULES:
                base = statistics.median(regrets[(name, budget, 0, 0.0)])
                cells = []
                for top, margin in settings[1:]:
                    med = statistics.median(regrets[(name, budget, top, margin)])
                    ratio = med / max(base, 1e-12)
                    logs.setdefault((group, top, margin), []).append(math.log(max(ratio, 1e-9)))
                    cells.append(f"{ratio:.2f}")
                print(f"| {name} ({group}) | {budget} | {base:.3g} | " + " | ".join(cells) + " |")
    print()
    for group in ("tune", "held out"):
        row = [f"{math.exp(statistics.mean(logs[(group, t, m)])):.2f}" for t, m in settings[1:]]
        print(f"| geometric mean ({group}) | | | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
