"""A worker process: runs the trials it is sent, one at a time, and sends each record back.

Started by ``hpsearch.pool`` (``BOOTSTRAP``) with one end of a socket pair as FD, and the
driver's ``sys.path`` (not the working directory first, as ``python -m`` would put it: a
``random.py`` there must not replace the standard module). Messages in (pickled):
``("objective", key, payload)``, ``("run", key, trials, timeout)``, ``("stop",)``.
Messages out: ``("ready", pid)``, ``("start", trial)`` (when there is a timeout),
``("done", record)``, ``("error", text)``.

What a trial prints goes to stderr (fd 1 is pointed at fd 2), the worker runs in a session of
its own (Ctrl-C at a terminal reaches the driver only, which stops the workers), and a
watchdog thread ends the worker, with every process its trials started, as soon as the
driver is gone (even kill -9), so no trial runs on unwatched.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import sys
import threading
import time
from collections import OrderedDict
from typing import Any

_WATCH_EVERY = 0.1  # seconds between two looks at the driver
BOOTSTRAP = (
    "import os, sys; sys.path[:] = os.environ.pop('HPSEARCH_SYS_PATH').split(os.pathsep); "
    "from hpsearch.worker import main; main(int(sys.argv[1]))"
)


def _watch_driver(driver: int, token: str) -> None:
    from hpsearch import procs

    while True:
        time.sleep(_WATCH_EVERY)
        if os.getppid() != driver:
            procs.kill_tagged([token])  # commands started by trials, wherever they went
            os._exit(3)


KEPT_OBJECTIVES = 4  # the driver keeps the same count (hpsearch.pool): both evict alike


def _read_into(connection: Any, inbox: queue.Queue) -> None:
    """Read the driver's messages as they come, so its sends never wait on a busy worker
    (both sides would wait on each other once the socket buffers fill)."""
    while True:
        try:
            inbox.put(connection.recv())
        except (EOFError, OSError):
            inbox.put(("stop",))
            return


def main(fd: int) -> None:
    from multiprocessing.connection import Connection

    from hpsearch import procs

    os.dup2(2, 1)  # a trial's prints must not reach the driver's stdout
    sys.stdout = sys.stderr
    connection = Connection(fd)
    driver = os.getppid()
    token = os.environ.get(procs.TOKEN, "")
    threading.Thread(target=_watch_driver, args=(driver, token), daemon=True).start()
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=_read_into, args=(connection, inbox), daemon=True).start()
    try:
        _serve(connection, inbox)
    except OSError:  # the driver is gone (killed): end quietly, as the watchdog would
        os._exit(3)


def _serve(connection: Any, inbox: queue.Queue) -> None:
    from hpsearch.objectives import Outcome, record_for, run_trial

    objectives: OrderedDict[str, Any] = OrderedDict()
    connection.send(("ready", os.getpid()))
    while True:
        message = inbox.get()
        if message[0] == "stop":
            return
        if message[0] == "objective":
            _, key, payload = message
            try:
                objectives[key] = pickle.loads(payload)
            except BaseException as exc:
                connection.send(("error", f"cannot load the objective here: {exc!r}"))
                return
            with contextlib.suppress(BaseException):  # a user's module: imported now, not
                objectives[key].prepare()  # inside a trial's time
            while len(objectives) > KEPT_OBJECTIVES:
                objectives.popitem(last=False)
            continue
        _, key, trials, timeout = message
        objectives.move_to_end(key)
        objective = objectives[key]
        for trial in trials:
            if timeout is not None:
                connection.send(("start", trial.index))  # the driver's deadline counts from here
            try:
                record = run_trial(objective, trial, timeout)
            except KeyboardInterrupt as exc:  # raised by the objective's own code
                record = record_for(trial, Outcome("failed", error=f"KeyboardInterrupt: {exc}"))
            connection.send(("done", record))
