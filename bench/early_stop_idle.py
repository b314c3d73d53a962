"""Issue 27: how much worker time early stopping leaves idle on 64 workers, waiting for rungs.

    python bench/early_stop_idle.py

Trials whose epochs cost ``EPOCH`` seconds each (a sleep; a trial goes on from its checkpoint,
so a rung costs only its new epochs), the metric a fixed function of the parameters. On 64
simulated Dask workers (our own LocalCluster of 4 processes x 16 threads, given to hpsearch as
``scheduler=``), through ``hpsearch.run``:

- successive halving, 243 trials, epochs 1 / 3 / 9 / 27 (eta 3);
- Hyperband over the same epochs (its brackets run side by side).

Idle share = 1 - (sum of training seconds) / (64 x trial phase), the phase from the first
training's start to the last one's end (timeline.jsonl); "waiting for a rung" is the part of
it before the last training was handed out (after that, nothing is left to start). Goal:
<= 15 %. A lower bound is
printed beside it: the idle share the rung plan forces on 64 workers even with no overhead at
all (each rung's trainings packed in waves of 64, a rung waiting for the one before).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

EPOCH = 0.5  # seconds an epoch
WORKERS = 64
GOAL = 0.15
OBJECTIVE = f"""\
import os, time

def train(params, seed, budget, checkpoint_dir):
    start = 0
    mark = os.path.join(checkpoint_dir, "epoch")
    if os.path.exists(mark):
        start = int(open(mark).read())
    time.sleep({EPOCH} * max(budget - start, 0))
    os.makedirs(checkpoint_dir, exist_ok=True)
    with open(mark, "w") as f:
        f.write(str(budget))
    x, y = params["x"], params["y"]
    return {{"score": -((x - 0.3) ** 2) - (y - 0.6) ** 2}}
"""
CONFIG = """\
name: {name}
objective: {{python: "es_objective:train"}}
space:
  x: {{scale: linear, min: 0.0, max: 1.0}}
  y: {{scale: linear, min: 0.0, max: 1.0}}
search: {{trials: {trials}, metric: score, direction: maximize}}
early_stop: {{method: {method}, min_epochs: 1, eta: 3, max_epochs: 27}}
run: {{runs_dir: {runs}}}
"""


def phase(run_dir: Path) -> tuple[float, float, int, float]:
    """(trial phase seconds, training seconds, trainings, idle worker-seconds before the last
    training was handed out) from timeline.jsonl. Idle before that moment is waiting for a
    rung to be decided (or overhead); after it, there is nothing left to start."""
    spans, handed = [], []
    for line in (run_dir / "timeline.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if "worker" in entry:
            spans.append((entry["started"], entry["seconds"]))
        elif "dispatched" in entry:
            handed.append(entry["dispatched"])
    first = min(s for s, _ in spans)
    last = max(s + d for s, d in spans)
    cut = max(handed)
    busy_before = sum(max(0.0, min(s + d, cut) - max(s, first)) for s, d in spans if s < cut)
    waiting = WORKERS * (cut - first) - busy_before
    return last - first, sum(d for _, d in spans), len(spans), waiting


def bound(run_dir: Path) -> float:
    """The idle share the rung plan forces with no overhead: each rung's trainings in waves of
    64 workers (its longest training a wave), the rungs of one bracket one after the other,
    brackets side by side only as far as their trainings fill the waves (taken as none)."""
    rungs: dict[tuple[int, int], list[float]] = {}
    for line in (run_dir / "rungs.jsonl").read_text().splitlines():
        entry = json.loads(line)
        key = (entry["bracket"], entry["rung"])
        rungs.setdefault(key, []).append(entry.get("seconds") or 0.0)
    busy = sum(sum(v) for v in rungs.values())
    wall = sum(math.ceil(len(v) / WORKERS) * max(v) for v in rungs.values())
    return 1 - busy / (WORKERS * wall)


def main() -> None:
    from dask.distributed import LocalCluster

    import hpsearch

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "es_objective.py").write_text(OBJECTIVE)
        sys.path.insert(0, str(tmp))
        with LocalCluster(
            n_workers=4,
            threads_per_worker=16,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster:
            for method, trials in (("halving", 243), ("hyperband", 243)):
                config = tmp / f"{method}.yaml"
                config.write_text(
                    CONFIG.format(name=method, trials=trials, method=method, runs=tmp / "runs")
                )
                started = time.perf_counter()
                run = hpsearch.run(
                    str(config),
                    quiet=True,
                    backend="dask",
                    jobs=WORKERS,
                    scheduler=cluster.scheduler_address,
                )
                wall = time.perf_counter() - started
                seconds, busy, trainings, waiting = phase(Path(run.path))
                idle = 1 - busy / (WORKERS * seconds)
                waiting_share = waiting / (WORKERS * seconds)
                forced = bound(Path(run.path))
                rows.append(
                    (method, trials, trainings, wall, seconds, busy, idle, waiting_share, forced)
                )
                print(f"done: {method}", flush=True)
    print(
        "\n| early stopping | trials | trainings | run s | trial phase s | training s "
        "| idle % | of it waiting for a rung % | idle % the plan forces | goal <= 15 % |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for method, trials, trainings, wall, seconds, busy, idle, waiting, forced in rows:
        print(
            f"| {method} | {trials} | {trainings} | {wall:.2f} | {seconds:.2f} | {busy:.1f} "
            f"| {100 * idle:.1f} | {100 * waiting:.1f} | {100 * forced:.1f} "
            f"| {'met' if idle <= GOAL else 'missed'} |"
        )


if __name__ == "__main__":
    main()
