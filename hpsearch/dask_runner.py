"""``backend: dask``: trials on a Dask cluster, each record streamed back as it finishes.

Where the workers are: a local cluster hpsearch starts (``jobs`` single-threaded worker
processes), a scheduler's address (``run.scheduler``) or file (``run.scheduler_file``), or jobs
of a batch system (``run.cluster``: ``hpsearch.cluster``).

Short trials go several to a Dask task: Dask costs a few milliseconds a task, so a task carries
about ``TASK_SECONDS`` of trials once their length is known (one trial a task until then, and
with device slots). Results do not change: each trial has its own seed.

Lost is not failed: a trial whose worker died (a job's walltime, preemption, ``scancel``, a
node failure) runs again elsewhere with the same seed and is recorded once; after
``worker_deaths`` losses it is recorded ``failed`` with a reason that says so. On a scheduler
hpsearch starts, Dask's own retries are off (``allowed-failures`` 0) so that every loss is
counted here; a scheduler of the user's keeps its rule, each of its ``KilledWorker`` one loss.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hpsearch.config.cluster import ClusterConfig
from hpsearch.errors import UserError
from hpsearch.objectives import Objective, run_trial
from hpsearch.record import TrialRecord
from hpsearch.sampling import Trial, ready_trials

CONNECT_TIMEOUT = "10s"  # to reach a scheduler given by address or file
MISSING = "the dask backend needs Dask's distributed scheduler: pip install 'hpsearch[dask]'"
TASK_SECONDS = 0.2  # trials a Dask task carries, once their length is known
MOST_A_TASK = 64
SENT_AT_ONCE = 16  # tasks a message to the scheduler
LOOK_EVERY = 2.0  # seconds: how long the driver waits on tasks before it looks again


def run_batch(
    objective: Objective,
    trials: Sequence[Trial],
    timeout: float | None,
    job_processes: int | None = None,
) -> list[TrialRecord]:
    """On a worker: the trials of one task, one after the other. ``job_processes``: the
    worker is one of that many processes of a job holding GPUs: a trial with no device of
    its own runs on the worker's share of the job's GPUs (``allocated_device``)."""
    device = allocated_device(job_processes) if job_processes else None
    return [
        run_trial(
            objective,
            trial if device is None or trial.device else dataclasses.replace(trial, device=device),
            timeout,
        )
        for trial in trials
    ]


def allocated_device(processes: int, name: str | None = None) -> str | None:
    """The GPU of this worker among its job's (``CUDA_VISIBLE_DEVICES``, else SLURM's
    ``SLURM_JOB_GPUS``): the k-th worker process of a job (its Dask name ends in ``-k``)
    takes device k, round the devices. None when the job holds no GPU."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES") or os.environ.get("SLURM_JOB_GPUS") or ""
    devices = [d.strip() for d in listed.split(",") if d.strip()]
    if not devices:
        return None
    if name is None:
        try:
            from distributed import get_worker

            name = str(get_worker().name)
        except (ImportError, ValueError):
            name = ""
    rank = 0
    tail = name.rsplit("-", 1)[-1]
    if processes > 1 and tail.isdigit():
        rank = int(tail)
    return devices[rank % len(devices)]


@dataclasses.dataclass
class TaskSize:
    """Trials a task carries: one until trials have been timed, then about ``TASK_SECONDS``
    of them, never so many that the last tasks leave workers idle."""

    workers: int
    count: int | None
    handed: int = 0
    timed: int = 0
    seconds: float = 0.0
    budgeted: bool = False  # early stopping's rung trainings: one a task, in order

    def timed_one(self, record: TrialRecord) -> None:
        if record.seconds is not None:
            self.timed += 1
            self.seconds += max(record.seconds, 0.0)

    def short(self) -> bool:
        """Whether trials are known to take less than a task's worth."""
        return self.timed >= self.workers and self.seconds / self.timed < TASK_SECONDS

    def next(self) -> int:
        if self.timed < self.workers:
            return 1
        size = int(TASK_SECONDS / max(self.seconds / self.timed, 1e-4))
        if self.count is not None:  # leave each worker a few tasks of what is left
            size = min(size, (self.count - self.handed) // (4 * self.workers))
        return max(1, min(size, MOST_A_TASK))


def dask_trials(
    client: Any,
    objective: Objective,
    trials: Iterator[Trial],
    timeout: float | None,
    workers: int,
    *,
    slots: Any = None,
    worker_deaths: int = 3,
    job_processes: int | None = None,
    count: int | None = None,
    keeper: Any = None,
) -> Iterator[TrialRecord]:
    """Tasks of trials, a few per worker in flight, records as they complete. With device
    slots, a trial is submitted only when a slot is free, holding it until it ends.
    ``keeper``: a batch system's jobs, kept (``hpsearch.cluster.Keeper``): its error ends
    the run."""
    from dask.distributed import as_completed

    from hpsearch.pool import died_record
    from hpsearch.slots import on_device

    # One task a worker: a task queued behind a busy worker would wait for a whole trial
    # while another worker idles; short trials (several a task) keep a second one ready.
    futures: dict[Any, list[Trial]] = {}
    losses: dict[tuple[int, int | None], int] = {}
    free = list(range(workers)) if slots is not None else []  # slot numbers not in use
    held: dict[Any, int] = {}
    size = TaskSize(workers, count)

    def submit(batches: list[list[Trial]]) -> list[Any]:
        """One message to the scheduler for all of them (one each costs milliseconds)."""
        slotted = []
        for batch in batches:
            if slots is not None:
                slotted.append(free.pop(0))
                batch[:] = [on_device(batch[0], slots, slotted[-1])]
        n = len(batches)
        made = client.map(
            run_batch, [objective] * n, batches, [timeout] * n, [job_processes] * n, pure=False
        )
        for k, (future, batch) in enumerate(zip(made, batches, strict=True)):
            futures[future] = batch
            if slots is not None:
                held[future] = slotted[k]
        return list(made)

    def lost(batch: list[Trial], exc: BaseException) -> list[TrialRecord]:
        """The trials of a task whose worker died run again, each alone; a loss is counted
        against a trial only when it was alone in its task (in a task of several, which one
        killed the worker cannot be told)."""
        out = []
        for trial in batch:
            key = (trial.index, trial.budget)
            losses[key] = losses.get(key, 0) + (len(batch) == 1)
            if losses[key] < worker_deaths:
                completed.update(submit([[trial]]))
            else:
                del losses[key]
                out.append(died_record(trial, _lost(exc, worker_deaths)))
        return out

    def more() -> list[Any]:
        # Early stopping's trainings (a budget each) keep their order: the scheduler puts the
        # longest and most urgent first, so they are not sent ahead of time, several a task.
        ordered = size.budgeted or slots is not None
        wanted = 2 * workers if size.short() and not ordered else workers
        batches: list[list[Trial]] = []
        made = []
        while len(futures) + len(batches) < wanted:
            batch = ready_trials(trials, 1 if ordered else size.next())
            if not batch:
                break
            size.handed += len(batch)
            size.budgeted = size.budgeted or batch[0].budget is not None
            batches.append(batch)
            if len(batches) == SENT_AT_ONCE:  # the first workers start while more are drawn
                made += submit(batches)
                batches = []
        return made + (submit(batches) if batches else [])

    completed = as_completed()
    try:
        completed.update(more())
        while futures:
            _await_any(completed)
            if keeper is not None and keeper.error:  # lost jobs that cannot be replaced
                raise UserError(keeper.error)
            done = completed.next_batch(block=False)  # every task finished since last look
            ready: list[TrialRecord] = []
            finished = []
            results = _results(client, done)
            for future in done:
                batch = futures.pop(future)
                if future in held:
                    free.append(held.pop(future))
                    free.sort()
                if future in results:
                    finished.append((results[future], batch))
                    continue
                try:  # asked for alone: a result lost with its worker is computed again
                    finished.append((future.result(), batch))
                    continue
                except Exception as error:  # KilledWorker is Dask's; others are raised
                    exc = error
                if "Cancelled" in type(exc).__name__:
                    raise UserError(
                        "the Dask scheduler cancelled the trials' tasks (it closed, or lost "
                        "this driver); the trials done are kept"
                    ) from None
                if type(exc).__name__ != "KilledWorker":
                    raise exc
                ready += lost(batch, exc)
            for records, batch in finished:
                for trial, record in zip(batch, records, strict=True):
                    losses.pop((trial.index, trial.budget), None)
                    size.timed_one(record)
                    ready.append(record)
            # Workers get their next tasks before the driver writes what came back: with
            # many workers, writing first would leave each idle for all the writes before.
            completed.update(more())
            yield from ready
            completed.update(more())  # trials the records just taken made ready
    finally:
        client.cancel([f for f in futures if not f.done()])


def _results(client: Any, done: list[Any]) -> dict[Any, Any]:
    """The results of the finished tasks among ``done``, asked for in one message; none when
    one of them cannot be had (each is then asked for alone)."""
    finished = [f for f in done if f.status == "finished"]
    if not finished:
        return {}
    try:
        return dict(zip(finished, client.gather(finished), strict=True))
    except Exception:  # a result lost with its worker, computed again and failed
        return {}


def _await_any(completed: Any) -> None:
    """Until a task has finished, or ``LOOK_EVERY`` seconds (then the caller looks at the
    cluster: a wait with no end would not hear that its jobs cannot come back)."""
    import time

    end = time.monotonic() + LOOK_EVERY
    while not completed.has_ready() and time.monotonic() < end:
        with completed.thread_condition:
            completed.thread_condition.wait(timeout=0.1)


def _lost(exc: BaseException, times: int) -> str:
    where = re.search(r"(tcp|tls|inproc|ucx)://[^\s.,]+(\.[^\s,]+)*", str(exc))
    last = f"; the last was {where.group(0).rstrip('.')}" if where else ""
    return (
        f"its Dask worker died {times} time{'s' if times != 1 else ''} (KilledWorker{last}); "
        "run.worker_deaths sets how many losses a trial may take"
    )


@contextmanager
def dask_client(
    scheduler: str | None,
    n_workers: int,
    *,
    scheduler_file: str | None = None,
    cluster: ClusterConfig | None = None,
) -> Iterator[tuple[Any, int, Any]]:
    """A Dask client, the number of workers to keep busy and the cluster's ``Keeper`` (None
    but for a batch system's jobs): on ``scheduler`` (or ``HPSEARCH_DASK_SCHEDULER``) or
    ``scheduler_file``, on a batch system's jobs (``cluster``), or on a local cluster of
    ``n_workers`` it starts and stops."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:  # checked before a run starts (require_backend); kept for the API
        raise UserError(MISSING) from None
    address: str | None = None
    where = ""
    if scheduler_file:
        address = scheduler_address(scheduler_file)
        where = f"{address} (from {scheduler_file})"
    elif cluster is None:
        address = scheduler or os.environ.get("HPSEARCH_DASK_SCHEDULER")
        where = address or ""
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
        with client:
            threads = sum(client.nthreads().values())
            yield client, threads or n_workers, None
        return
    # Our own scheduler: every loss of a worker is counted by dask_trials, not retried here.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        if cluster is not None:
            from hpsearch.cluster import started, workers_of

            with started(cluster, n_workers) as (jobs, keeper), Client(jobs) as client:
                yield client, workers_of(cluster, n_workers), keeper
            return
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                processes=True,
            ) as local,
            Client(local) as client,
        ):
            yield client, n_workers, None


def scheduler_address(path: str | None) -> str:
    """The address in a scheduler's file (``dask scheduler --scheduler-file``), read as the
    untrusted file it is: one line naming what is wrong, never a wait for it to appear."""
    import json

    file = Path(str(path))
    if not file.is_file():
        what = "is not a regular file" if file.exists() else "does not exist"
        raise UserError(
            f"--scheduler-file {file}: {what} (dask scheduler --scheduler-file FILE writes it)"
        )
    try:
        with open(file, "rb") as f:
            data = json.loads(f.read(1 << 20).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"--scheduler-file {file}: cannot read it: {exc}") from None
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(address, str) or not re.match(r"^[a-z0-9+]+://\S+$", address):
        raise UserError(
            f"--scheduler-file {file}: no scheduler address in it (expected JSON with "
            '"address": "tcp://host:port")'
        )
    return address


def warm(client: Any, objective: Objective) -> None:
    """Load the objective on every worker now, at once, rather than in each worker's first
    task (cold workers would start the first wave of trials over seconds)."""
    client.run(_loaded, objective)


def _loaded(objective: Objective) -> None:
    """The objective arrived (its module imported): its work once a worker, done now."""
    prepare = getattr(objective, "prepare", None)
    if prepare is not None:
        prepare()
