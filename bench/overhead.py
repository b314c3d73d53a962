"""Per-trial overhead of the whole pipeline, against Optuna's.

    python bench/overhead.py [--trials 2000]

2,000 trials of a no-op Python objective (``objective.python``) through everything a real
search does — sample, dispatch to 2 worker processes, record appended to trials.jsonl and flushed
(fsync at least every second and at the end), leaderboard, best.yaml and summary — timed through
the Python API — with a cold worker pool, and with a warm one as in every zoom round after the
first — and as a whole ``hpsearch run --quiet`` command (interpreter start-up included). In the
same run, if Optuna is installed: its RandomSampler with in-memory storage and with its durable
JournalStorage (a file). Target: ≥ 4,000 durable trials/s.

Then worker deaths at scale: the same no-op trials where a few kill their own worker process
(SIGKILL), against the same run without them. A death should cost about one worker start
(a fresh interpreter, ~0.1–0.2 s) and one more run of the trial that died, nothing more.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOOP = """\
import os, signal

def noop(params, seed):
    return 0.0

KILLERS = {int(k) for k in os.environ.get("KILLERS", "").split(",") if k}
def killer(params, seed, report=None):
    if params["i"] in KILLERS:
        os.kill(os.getpid(), signal.SIGKILL)
    return 0.0
"""
DEATHS = """\
name: deaths
objective: {{python: "noop:killer"}}
space:
  i: {{choice: [{choices}]}}
search: {{trials: {trials}, metric: score, direction: maximize}}
run: {{jobs: 2, runs_dir: {runs}}}
"""
CONFIG = """\
name: overhead
objective: {{python: "noop:noop"}}
space:
  x: {{scale: linear, min: 0.0, max: 1.0}}
  y: {{scale: log, min: 1.0e-4, max: 1.0}}
search: {{trials: {trials}, metric: score, direction: maximize}}
run: {{jobs: 2, backend: processes, runs_dir: {runs}}}
"""


def hpsearch_api(config_path: Path, stop_workers: bool) -> float:
    from hpsearch.config import load_config
    from hpsearch.runner import shutdown_workers
    from hpsearch.search import start_search

    config = load_config(config_path)
    start = time.perf_counter()
    search = start_search(config)
    for _ in search.run():
        pass
    search.finish("complete")
    if stop_workers:
        shutdown_workers()
    seconds = time.perf_counter() - start
    assert len(search.records) == config.search.trials
    return seconds


def hpsearch_cli(config_path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hpsearch", "run", str(config_path), "--quiet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def deaths_run(tmp: Path, trials: int, killers: int) -> tuple[int, float, int]:
    """``killers`` values of a choice kill the worker that draws them: how many trials drew
    one, the seconds the whole command took, and how many trials were recorded failed."""
    import json
    import os

    config = tmp / f"deaths-{trials}-{killers}.yaml"
    config.write_text(
        DEATHS.format(choices=", ".join(map(str, range(trials))), trials=trials, runs=tmp / "runs")
    )
    from hpsearch.config import load_config
    from hpsearch.sampling import sample_trial

    cfg = load_config(config)
    values = [sample_trial(cfg.space, cfg.seed, i).params["i"] for i in range(trials)]
    step = max(trials // (killers + 1), 1)
    chosen = [values[k * step] for k in range(1, killers + 1)]
    env = {**os.environ, "KILLERS": ",".join(map(str, chosen))}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hpsearch", "run", str(config), "--quiet", "--json"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=tmp,
    )
    seconds = time.perf_counter() - start
    dying = sum(v in chosen for v in values)
    return dying, seconds, json.loads(done.stdout)["counts"]["failed"]


def optuna_run(trials: int, storage) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    study = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=0), storage=storage, direction="maximize"
    )
    study.optimize(
        lambda t: t.suggest_float("x", 0, 1) * 0 + t.suggest_float("y", 1e-4, 1, log=True) * 0,
        n_trials=trials,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    n = args.trials
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "noop.py").write_text(NOOP)
        config = tmp / "overhead.yaml"
        config.write_text(CONFIG.format(trials=n, runs=tmp / "runs"))
        rows.append(
            (
                "hpsearch API, cold: the 2 workers start in the run",
                hpsearch_api(config, stop_workers=False),
            )
        )
        rows.append(
            (
                "hpsearch API, warm: workers running (then stopped)",
                hpsearch_api(config, stop_workers=True),
            )
        )
        rows.append(("hpsearch run --quiet, whole command (durable)", hpsearch_cli(config)))
        try:
            import optuna
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            rows.append(
                (f"Optuna {optuna.__version__} RandomSampler, in memory", optuna_run(n, None))
            )
            journal = JournalStorage(JournalFileBackend(str(tmp / "journal.log")))
            rows.append(
                (
                    f"Optuna {optuna.__version__} RandomSampler, JournalStorage",
                    optuna_run(n, journal),
                )
            )
        except ImportError:
            print("Optuna is not installed: no comparison (pip install optuna)")
    print(f"{n} trials of a no-op objective\n")
    print(f"{'':52} {'seconds':>8} {'trials/s':>9}")
    for name, seconds in rows:
        print(f"{name:52} {seconds:>8.2f} {n / seconds:>9,.0f}")
    print("\ntarget: >= 4,000 durable trials/s")
    print("\nworker deaths (whole command, 2 workers)\n")
    print(f"{'trials':>8} {'dying':>6} {'seconds':>8} {'failed':>7}  (dying: trials that kill")
    print(f"{'':33}their worker)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "noop.py").write_text(NOOP)
        for trials, killers in ((2000, 0), (2000, 2), (20000, 0), (20000, 10)):
            dying, seconds, failed = deaths_run(Path(tmp), trials, killers)
            print(f"{trials:>8} {dying:>6} {seconds:>8.2f} {failed:>7}")


if __name__ == "__main__":
    main()
