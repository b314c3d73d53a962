"""A worker process: runs the trials it is sent, one at a time, and sends each record back.

Started by ``hpsearch.pool`` (``BOOTSTRAP``) with one end of a socket pair as FD, and the
driver's ``sys.path`` (not the working directory first, as ``python -m`` would put it: a
``random.py`` there must not replace the standard module). Messages in (pickled):
``("objective", key, payload)``, ``("run", key, trials, timeout)``, ``("stop",)``.
Messages out: ``("ready", pid)``, ``("done", record)``, ``("error", text)``.

What a trial prints goes to stderr (fd 1 is pointed at fd 2), Ctrl-C is left to the driver,
and a watchdog thread ends the worker, with every process its trials started, as soon as the
driver is gone (even kill -9), so no trial runs on unwatched.
"""

from __future__ import annotations

import os
import pickle
import signal
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


def main(fd: int) -> None:
    from multiprocessing.connection import Connection

    from hpsearch import procs

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C stops
    os.dup2(2, 1)  # a trial's prints must not reach the driver's stdout
    sys.stdout = sys.stderr
    connection = Connection(fd)
    driver = os.getppid()
    token = os.environ.get(procs.TOKEN, "")
    threading.Thread(target=_watch_driver, args=(driver, token), daemon=True).start()

    from hpsearch.objective import Outcome, record_for, run_trial

    objectives: OrderedDict[str, Any] = OrderedDict()
    connection.send(("ready", os.getpid()))
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the driver closed its end
        if message[0] == "stop":
            return
        if message[0] == "objective":
            _, key, payload = message
            try:
                objectives[key] = pickle.loads(payload)
            except BaseException as exc:
                connection.send(("error", f"cannot load the objective here: {exc!r}"))
                return
            while len(objectives) > 4:
                objectives.popitem(last=False)
            continue
        _, key, trials, timeout = message
        objective = objectives[key]
        for trial in trials:
            try:
                record = run_trial(objective, trial, timeout)
            except KeyboardInterrupt as exc:  # raised by the objective's own code
                record = record_for(trial, Outcome("failed", error=f"KeyboardInterrupt: {exc}"))
            connection.send(("done", record))
