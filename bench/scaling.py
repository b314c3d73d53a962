"""Parallel scaling, peak memory and start-up time of `hpsearch run`.

    python bench/scaling.py

1. Trials per second for CPU-bound trials (the built-in trainer on spirals) with 1 and 2
   workers, in one run: target ≥ 1.85× with 2 workers on a 2-core machine.
2. Peak resident memory of a 200-trial `hpsearch run --jobs 2`, parent and workers summed,
   sampled every 20 ms from /proc: target ≤ 300 MB.
3. Wall time of `hpsearch --help` (median of 10): target ≤ 0.25 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """\
name: bench
seed: 0
data: {{source: spirals, classes: 4, samples: 2000}}
model: {{layers: 2, epochs: {epochs}, optimizer: adam, hidden_units: 64}}
space:
  learning_rate: {{scale: log, min: 1.0e-3, max: 1.0e-1}}
  beta1: {{scale: one_minus_log, min: 0.8, max: 0.99}}
search: {{trials: {trials}}}
run: {{runs_dir: {runs}}}
"""


def trials_per_second(config_path: Path, jobs: int) -> tuple[float, float]:
    from hpsearch.config import load_config
    from hpsearch.objectives import build_objective
    from hpsearch.runner import run_trials, shutdown_workers
    from hpsearch.sampling import sample_trials

    config = load_config(config_path)
    objective = build_objective(config)
    trials = sample_trials(config.space, config.seed, config.search.trials)
    list(run_trials(objective, trials[:jobs], jobs=jobs))  # start the workers
    start = time.perf_counter()
    records = list(run_trials(objective, trials, jobs=jobs))
    seconds = time.perf_counter() - start
    shutdown_workers()
    assert len(records) == len(trials)
    return len(trials) / seconds, seconds


def session_rss_mb(session: int) -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) != session:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def peak_memory(config_path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(config_path), "--jobs", "2", "--quiet"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, session_rss_mb(process.pid))
        time.sleep(0.02)
    assert process.returncode == 0
    return peak, time.perf_counter() - start


def help_seconds() -> float:
    script = Path(sys.executable).with_name("hpsearch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hpsearch"]
    times = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cpu = tmp / "cpu.yaml"
        cpu.write_text(CONFIG.format(epochs=20, trials=24, runs=tmp / "runs"))
        one, t1 = trials_per_second(cpu, 1)
        two, t2 = trials_per_second(cpu, 2)
        print("1. CPU-bound trials (spirals, [64, 64], 20 epochs), 24 trials")
        print(f"{'workers':>8} {'trials/s':>9} {'seconds':>8}")
        print(f"{1:>8} {one:>9.2f} {t1:>8.2f}")
        print(f"{2:>8} {two:>9.2f} {t2:>8.2f}")
        print(f"speed-up with 2 workers: {two / one:.2f}x (target >= 1.85x)\n")

        many = tmp / "many.yaml"
        many.write_text(CONFIG.format(epochs=5, trials=200, runs=tmp / "runs"))
        peak, seconds = peak_memory(many)
        print(
            f"2. peak memory of a 200-trial run with 2 workers: {peak:.0f} MB "
            f"(parent + workers; target <= 300 MB); the run took {seconds:.1f} s\n"
        )

    print(f"3. hpsearch --help: {help_seconds():.3f} s median of 10 (target <= 0.25 s)")


if __name__ == "__main__":
    main()
