"""Worker processes that run trials, each on its own, streaming every record back.

Each slot is one worker process (``hpsearch.worker``) on a socket pair. A worker runs the
trials it is sent in order, so the driver always knows which trial each worker is running:

- a worker that dies (segfault, kill -9, out of memory) is blamed for the one trial it was
  running, which runs once more in a fresh worker and is recorded ``failed`` if it kills that
  one too; the trials queued behind it never started and simply run elsewhere. Nobody else is
  touched: the cost is one worker start per death.
- a trial still running ``grace`` seconds after its timeout (it caught the alarm, or is stuck
  in C code) has its worker killed, with every process it started, and is recorded
  ``timeout``; the worker is replaced.
- when the driver stops (Ctrl-C, an error), every worker is killed at once; when the driver is
  killed, the workers notice within a tenth of a second and end themselves.

Quick trials are sent in batches sized from how long trials take (about 20 ms of work per
message), so thousands of trials a second cost little; slow trials go one at a time, to
whichever worker is free. The pool is kept between calls (zoom rounds), until ``shutdown``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from hpsearch import procs
from hpsearch.errors import UserError
from hpsearch.objectives import Outcome, record_for
from hpsearch.record import TrialRecord
from hpsearch.sampling import WAIT, Trial
from hpsearch.worker import KEPT_OBJECTIVES

BATCH_SECONDS = 0.02  # work per message for quick trials
SLOW_TRIAL = 0.05  # seconds: slower trials are sent one by one, only to an idle worker
MAX_BATCH = 512
ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}


_KILLED_FROM_OUTSIDE = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


class WorkerError(UserError):
    """Worker processes cannot run this search (they cannot start, or cannot load it)."""


def grace(timeout: float) -> float:
    """How long past its timeout a trial may take to stop by itself before it is killed."""
    return min(max(1.0, 0.1 * timeout), 30.0)


@dataclass
class _Slot:
    number: int
    process: subprocess.Popen | None = None
    connection: Connection | None = None
    token: str = ""
    ready: bool = False
    assigned: deque = field(default_factory=deque)  # trials sent, in the order they run
    running_since: float | None = None  # when the head of ``assigned`` started
    objectives: list = field(default_factory=list)  # keys the worker holds, least recent first

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class WorkerPool:
    def __init__(self, size: int, devices: tuple[str, ...] | None = None) -> None:
        self.size = size
        self.devices = devices
        self.slots = [_Slot(n) for n in range(size)]
        self.starts = 0
        self.failed_starts = 0  # workers in a row that ended by themselves before "ready"
        self.killed_starts = 0  # workers in a row killed from outside before "ready"

    # -- workers ----------------------------------------------------------------------------

    def _start(self, slot: _Slot) -> None:
        ours, theirs = socket.socketpair()
        slot.token = f"{procs.driver_token()}.w{slot.number}-{self.starts}"
        self.starts += 1
        env = {
            **os.environ,
            **ONE_THREAD,
            procs.TOKEN: slot.token,
            "HPSEARCH_SYS_PATH": os.pathsep.join(sys.path),
            **procs.device_env(self.device_of(slot.number)),
        }
        from hpsearch.worker import BOOTSTRAP

        try:
            slot.process = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=env,
                stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C at a terminal reaches the driver only, and whatever
                # a trial starts keeps the default signal handling.
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise WorkerError(f"cannot start a worker process: {exc.strerror or exc}") from None
        finally:
            theirs.close()
        slot.connection = Connection(ours.detach())
        slot.ready = False
        slot.assigned.clear()
        slot.running_since = None
        slot.objectives = []

    def _kill(self, slot: _Slot) -> int | None:
        """End a worker and everything it started; returns its exit code."""
        code = None
        if slot.process is not None:
            with contextlib.suppress(ProcessLookupError):
                slot.process.kill()
            procs.kill_tagged([slot.token])
            code = slot.process.wait()
        if slot.connection is not None:
            slot.connection.close()
        slot.process = slot.connection = None
        slot.ready = False
        return code

    def kill(self) -> None:
        """End every worker now (an interrupted search: they may be mid-trial)."""
        for slot in self.slots:
            self._kill(slot)

    def close(self) -> None:
        """Let idle workers exit; kill any that do not within a second."""
        for slot in self.slots:
            if slot.connection is not None:
                with contextlib.suppress(OSError):
                    slot.connection.send(("stop",))
        deadline = time.monotonic() + 1.0
        for slot in self.slots:
            if slot.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    slot.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
            self._kill(slot)

    def healthy(self) -> bool:
        return all(not s.assigned and (s.process is None or s.alive()) for s in self.slots)

    # -- running trials ---------------------------------------------------------------------

    def run(
        self,
        objective: Any,
        trials: Iterable[Trial],
        timeout: float | None,
        count: int | None = None,
    ) -> Iterator[TrialRecord]:
        """Yield one record per trial, in the order they finish. Trials are drawn from
        ``trials`` only as workers need them."""
        try:
            payload = pickle.dumps(objective)
        except Exception as exc:
            raise WorkerError(
                f"the objective cannot be sent to worker processes ({exc}); define it at the "
                "top level of an importable module, or use --backend threading"
            ) from None
        key = hashlib.sha1(payload).hexdigest()
        fresh = iter(trials)
        exhausted = False
        queue: deque[Trial] = deque()  # trials to run again before fresh ones
        strikes: dict[int, int] = {}
        estimate: float | None = None  # seconds per trial, smoothed
        dispatched = 0
        wanted = self.size if count is None else max(1, min(self.size, count))
        for slot in self.slots[:wanted]:
            if not slot.alive():
                self._kill(slot)
                self._start(slot)
        active = self.slots[:wanted]
        finished = False
        try:
            while True:
                # Hand out work.
                for slot in active:
                    if not slot.ready:
                        continue
                    quick = estimate is not None and estimate < SLOW_TRIAL
                    size = 1
                    if estimate is not None and quick:
                        size = int(min(MAX_BATCH, max(1, BATCH_SECONDS / max(estimate, 1e-6))))
                        if count is not None:
                            left = count - dispatched + len(queue)
                            size = max(1, min(size, left // (2 * len(active)) or 1))
                    if len(slot.assigned) > (size if quick else 0):
                        continue
                    batch: list[Any] = []
                    while len(batch) < size and (queue or not exhausted):
                        if queue:
                            batch.append(queue.popleft())
                            continue
                        trial = next(fresh, None)
                        if trial is None:
                            exhausted = True
                            break
                        if trial is WAIT:  # none ready until a result comes back
                            break
                        dispatched += 1
                        batch.append(trial)
                    if batch:
                        self._send(slot, key, payload, batch, timeout)
                if exhausted and not queue and not any(s.assigned for s in active):
                    finished = True
                    return
                # Wait for a record, a death, or the next deadline.
                now = time.monotonic()
                wait_for = 1.0
                if timeout is not None:
                    for slot in active:
                        if slot.running_since is not None:
                            due = slot.running_since + timeout + grace(timeout)
                            wait_for = min(wait_for, max(due - now, 0.0))
                connections = [s.connection for s in active if s.connection is not None]
                for connection in wait(connections, timeout=wait_for):
                    slot = next(s for s in active if s.connection is connection)
                    for record in self._receive(slot, queue, strikes, timeout):
                        # A death counts against one training: early stopping trains a
                        # trial again at the next rung, with its own retry.
                        strikes.pop(record.trial, None)
                        seconds = record.seconds
                        if isinstance(seconds, (int, float)):
                            estimate = (
                                seconds if estimate is None else 0.8 * estimate + 0.2 * seconds
                            )
                        yield record
                if timeout is not None:
                    for slot in active:
                        yield from self._overdue(slot, queue, strikes, timeout)
        finally:
            if not finished:  # interrupted, or the caller stopped reading: trials in flight
                self.kill()

    def device_of(self, number: int) -> str | None:
        return None if not self.devices else self.devices[number % len(self.devices)]

    def _send(self, slot: _Slot, key: str, payload: bytes, batch: list, timeout) -> None:
        assert slot.connection is not None
        device = self.device_of(slot.number)
        if device is not None:  # every trial (one put back after a death too) is told its own
            batch[:] = [replace(t, device=device) for t in batch]
        try:
            if key in slot.objectives:
                slot.objectives.remove(key)
            else:
                slot.connection.send(("objective", key, payload))
            slot.objectives.append(key)  # most recent last, as the worker keeps them
            del slot.objectives[:-KEPT_OBJECTIVES]
            slot.connection.send(("run", key, batch, timeout))
        except OSError:
            pass  # the worker died: _receive finds out and puts the batch back
        slot.assigned.extend(batch)

    def _receive(self, slot: _Slot, queue: deque, strikes: dict, timeout) -> Iterator[TrialRecord]:
        """Every message waiting on ``slot``'s connection; a closed one is a death."""
        assert slot.connection is not None
        while True:
            try:
                if not slot.connection.poll():
                    return
                message = slot.connection.recv()
            except (EOFError, OSError):
                yield from self._died(slot, queue, strikes)
                return
            if message[0] == "ready":
                slot.ready = True
                self.failed_starts = self.killed_starts = 0
            elif message[0] == "error":
                self.kill()
                raise WorkerError(f"a worker process {message[1]}")
            elif message[0] == "start":  # the deadline counts from here (imports done)
                slot.running_since = time.monotonic()
            elif message[0] == "done":
                record = message[1]
                if slot.assigned and slot.assigned[0].index == record.trial:
                    slot.assigned.popleft()
                slot.running_since = None
                yield record

    def _died(self, slot: _Slot, queue: deque, strikes: dict) -> Iterator[TrialRecord]:
        """A worker is gone: its running trial gets a strike (two, and it is ``failed``);
        the trials queued behind it go back to the front of the queue, in order."""
        was_ready = slot.ready
        pending = list(slot.assigned)
        code = self._kill(slot)
        culprit, behind = (pending[0], pending[1:]) if pending else (None, [])
        queue.extendleft(reversed(behind))
        if culprit is not None:
            strikes[culprit.index] = strikes.get(culprit.index, 0) + 1
            if strikes[culprit.index] >= 2:
                yield died_record(culprit, f"exit code {describe_exit(code)}")
            else:
                queue.appendleft(culprit)
        if not was_ready:
            # A worker that cannot start (a broken install, a crash at import) ends by itself,
            # every time: three in a row say so. One killed from outside (a user, an OOM
            # killer under a burst of load) says little about the next; only a long streak
            # of them stops the search instead of restarting workers forever.
            if code is not None and -code in _KILLED_FROM_OUTSIDE:
                self.killed_starts += 1
            else:
                self.failed_starts += 1
            if self.failed_starts >= 3 or self.killed_starts >= 30:
                self.kill()
                raise WorkerError(
                    f"worker processes exit as soon as they start (exit code "
                    f"{describe_exit(code)}); see the messages above"
                )
        self._start(slot)

    def _overdue(
        self, slot: _Slot, queue: deque, strikes: dict, timeout: float
    ) -> Iterator[TrialRecord]:
        def due() -> bool:
            return (
                slot.running_since is not None
                and bool(slot.assigned)
                and time.monotonic() >= slot.running_since + timeout + grace(timeout)
            )

        if not due() or slot.connection is None:
            return
        yield from self._receive(slot, queue, strikes, timeout)  # a record that just came
        if not due():
            return
        trial, behind = slot.assigned[0], list(slot.assigned)[1:]
        self._kill(slot)
        queue.extendleft(reversed(behind))
        error = (
            f"took longer than {timeout:g} s and did not stop at its timeout; its worker "
            "process was killed"
        )
        self._start(slot)
        yield record_for(trial, Outcome("timeout", error=error), timeout + grace(timeout))


def died_record(trial: Trial, reason: str) -> TrialRecord:
    return record_for(
        trial, Outcome("failed", error=f"worker process died while running this trial: {reason}")
    )


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"{signal.Signals(-code).name}({code})"
    return str(code)


_POOL: WorkerPool | None = None


def pool(size: int, devices: tuple[str, ...] | None = None) -> WorkerPool:
    """The reusable pool of ``size`` workers (a new one when the size or the devices
    change). With ``devices``, worker k is a slot of device k mod len(devices)."""
    global _POOL
    if _POOL is not None and (
        _POOL.size != size or _POOL.devices != devices or not _POOL.healthy()
    ):
        _POOL.kill()
        _POOL = None
    if _POOL is None:
        _POOL = WorkerPool(size, devices)
    return _POOL


def shutdown() -> None:
    """Stop the reusable pool's workers, so none is left behind."""
    global _POOL
    if _POOL is not None:
        _POOL.close()
        _POOL = None
