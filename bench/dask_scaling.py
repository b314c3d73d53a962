"""Issue 27: the Dask backend's throughput, busy share and per-trial overhead.

    python bench/dask_scaling.py

1. No-op trials (a Python objective returning a constant) through ``hpsearch.run`` with
   ``backend="dask"``, ``jobs=4`` (hpsearch starts a LocalCluster of 4 single-threaded worker
   processes), 500, 2,000 and 10,000 trials; the ``processes`` backend with 4 workers for
   comparison;
   and bare Dask (no hpsearch) on the same kind of cluster, one trial a future: 16 in flight
   refilled one at a time (hpsearch's pattern before issue 27), and all at once
   (``client.map``). hpsearch now sends short trials several to a task.
   Goal: >= 1,000 trials/s.
2. 256 trials that sleep 1 s on 64 simulated workers: our own LocalCluster of 4 processes x
   16 threads, then 16 x 4, passed to hpsearch as ``scheduler=``, with ``jobs=64``. Goal:
   >= 90 % of worker time busy.
3. Per-trial scheduler overhead for both: (wall - sum of trial seconds / workers) / trials.

Times come from the run's timeline.jsonl (``started``, ``seconds`` of each training, on the
worker): "trial phase" is first start to last end, which excludes cluster start-up and the
run's set-up and finish; "run" is ``hpsearch.run`` from call to return.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

OBJECTIVES = """\
import time

def noop(params, seed):
    return 0.0

def sleep(params, seed):
    time.sleep(1.0)
    return 0.0
"""
CONFIG = """\
name: {name}
objective: {{python: "objectives:{function}"}}
space:
  x: {{scale: linear, min: 0.0, max: 1.0}}
search: {{trials: {trials}, metric: score, direction: maximize}}
run: {{runs_dir: {runs}}}
"""
NOOP_GOAL = 1000.0  # trials/s
BUSY_GOAL = 0.90


@dataclass
class Row:
    case: str
    trials: int
    workers: int
    run_wall: float  # hpsearch.run call to return (or the whole bare-Dask loop)
    phase_wall: float  # first trial start to last trial end
    busy: float  # sum of trial seconds
    goal: str = ""
    met: str = ""

    @property
    def busy_share(self) -> float:
        return self.busy / (self.workers * self.phase_wall) if self.phase_wall else 0.0

    def overhead_ms(self, wall: float) -> float:
        return (wall - self.busy / self.workers) / self.trials * 1000


def spans(run_dir: Path) -> list[tuple[float, float]]:
    out = []
    for line in (run_dir / "timeline.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if "worker" in entry:
            out.append((entry["started"], entry["seconds"]))
    return out


def through_hpsearch(
    tmp: Path, case: str, function: str, trials: int, workers: int, **kwargs
) -> Row:
    import hpsearch

    config = tmp / f"{case.replace(' ', '_').replace(',', '')}_{trials}.yaml"
    config.write_text(
        CONFIG.format(name=config.stem, function=function, trials=trials, runs=tmp / "runs")
    )
    start = time.perf_counter()
    run = hpsearch.run(str(config), quiet=True, **kwargs)
    run_wall = time.perf_counter() - start
    got = spans(Path(run.path))
    assert len(got) == trials, (len(got), trials)
    first = min(s for s, _ in got)
    last = max(s + d for s, d in got)
    return Row(case, trials, workers, run_wall, last - first, sum(d for _, d in got))


def _noop(i: int) -> float:
    return time.time()


def bare_dask(trials: int, workers: int, in_flight: int | None) -> Row:
    """The same trials on bare Dask: ``in_flight`` futures refilled one by one as each completes
    (as hpsearch's ``_dask``), or ``None``: all submitted at once. Phase: first submit to last
    result, cluster start excluded."""
    from dask.distributed import Client, LocalCluster, as_completed

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            processes=True,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.submit(_noop, -1, pure=False).result()  # pickling of _noop done, workers up
        phase = time.perf_counter()
        if in_flight is None:
            client.gather(client.map(_noop, range(trials), pure=False))
        else:
            numbers = iter(range(trials))
            first = [client.submit(_noop, next(numbers), pure=False) for _ in range(in_flight)]
            completed = as_completed(first)
            for future in completed:
                future.result()
                following = next(numbers, None)
                if following is not None:
                    completed.add(client.submit(_noop, following, pure=False))
        phase_wall = time.perf_counter() - phase
    how = "all at once" if in_flight is None else f"{in_flight} in flight"
    return Row(
        f"bare Dask no-op ({how})", trials, workers, time.perf_counter() - start, phase_wall, 0.0
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| case | trials | workers | wall s (run / trial phase) | trials/s (run / phase) "
        "| busy % | overhead ms/trial (run / phase) | goal | met? |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.trials} | {r.workers} | {r.run_wall:.2f} / {r.phase_wall:.2f} "
            f"| {r.trials / r.run_wall:.0f} / {r.trials / r.phase_wall:.0f} "
            f"| {100 * r.busy_share:.1f} "
            f"| {r.overhead_ms(r.run_wall):.2f} / {r.overhead_ms(r.phase_wall):.2f} "
            f"| {r.goal} | {r.met} |"
        )
    return "\n".join(lines)


def main() -> None:
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "objectives.py").write_text(OBJECTIVES)
        sys.path.insert(0, str(tmp))

        for trials in (500, 2000, 10000):
            row = through_hpsearch(tmp, "no-op, dask", "noop", trials, 4, backend="dask", jobs=4)
            rate = trials / row.phase_wall
            row.goal = f">= {NOOP_GOAL:.0f} trials/s"
            row.met = (
                f"{'yes' if trials / row.run_wall >= NOOP_GOAL else 'no'} (run) / "
                f"{'yes' if rate >= NOOP_GOAL else 'no'} (phase)"
            )
            rows.append(row)
            print(f"done: {row.case} {trials}", flush=True)
        rows.append(
            through_hpsearch(tmp, "no-op, processes", "noop", 2000, 4, backend="processes", jobs=4)
        )
        rows[-1].goal = "(comparison)"
        print("done: processes", flush=True)
        rows.append(bare_dask(2000, 4, in_flight=16))
        rows.append(bare_dask(2000, 4, in_flight=None))
        for row in rows[-2:]:
            row.goal = "(comparison)"
        print("done: bare Dask", flush=True)

        from dask.distributed import LocalCluster

        # 64 simulated workers two ways: 4 processes x 16 threads, and 16 x 4 (32 processes
        # with their nannies on this machine's 2 cores: a real cluster's workers have cores
        # of their own).
        for processes in (4, 16):
            started = time.perf_counter()
            with LocalCluster(
                n_workers=processes,
                threads_per_worker=64 // processes,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            ) as cluster:
                cluster_start = time.perf_counter() - started
                row = through_hpsearch(
                    tmp,
                    f"sleep 1 s, dask, own cluster {processes}x{64 // processes}",
                    "sleep",
                    256,
                    64,
                    backend="dask",
                    jobs=64,
                    scheduler=cluster.scheduler_address,
                )
            row.goal = f">= {100 * BUSY_GOAL:.0f} % busy"
            row.met = "yes" if row.busy_share >= BUSY_GOAL else "no"
            rows.append(row)
            print(f"done: sleep {processes} processes (cluster up in {cluster_start:.2f} s)")
        print(flush=True)

    print(table(rows))
    for sleep in rows[-2:]:
        idle = sleep.workers * sleep.phase_wall - sleep.busy
        print(
            f"\n{sleep.case}: {idle:.1f} worker-seconds idle in the trial phase "
            f"({sleep.phase_wall:.2f} s x 64 = {64 * sleep.phase_wall:.1f} worker-s, "
            f"{sleep.busy:.1f} busy; ideal phase 4.00 s); whole run {sleep.run_wall:.2f} s."
        )


if __name__ == "__main__":
    main()
