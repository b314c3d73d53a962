"""One driver per run directory: an exclusive ``flock`` on ``RUN/.lock`` while a command runs
trials into it. The file names its holder (pid, host, command, since when) for the message a
second driver gets, and for ``show`` / ``list`` to tell a run whose driver is gone."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hpsearch.errors import RunError
from hpsearch.files import loads


class RunLock:
    """One driver per run directory: an exclusive ``flock`` on ``.lock`` while a command
    runs trials into it. The file names the holder, for the message a second driver gets; a
    lock left by a driver that was killed is taken over, and anything that driver's workers
    still run is ended first (its token, ``hpsearch.procs``)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".lock"
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl
        import socket

        from hpsearch import procs

        try:
            # Never through a link: a .lock pointing elsewhere must not get written into.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise RunError(
                f"{self.path}: cannot lock the run: {exc.strerror or exc} (remove that file if "
                "it is not hpsearch's)"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RunError(f"{self.path}: not a regular file; remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunError(
                f"{self.path.parent}: in use by another hpsearch ({_describe(holder)}); wait for "
                "it to finish, or stop it, then try again"
            ) from None
        except OSError:  # a file system without locks (some network mounts): go on unlocked
            pass
        old = _read_holder(fd)
        host = socket.gethostname()
        token = str(old.get("token") or "")
        pid = procs.driver_of(token)  # the token names its driver: no other can be hit
        if old.get("host") == host and pid not in (None, os.getpid()) and not procs.alive(pid):
            procs.kill_tagged([token])  # what a killed driver's workers still run
        holder = {
            "pid": os.getpid(),
            "host": host,
            "token": procs.driver_token(),
            "since": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "command": " ".join(["hpsearch", *sys.argv[1:]])[:300],
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise RunError(f"{self.path}: cannot write it: {exc.strerror or exc}") from None
        self.fd = fd
        return self

    @staticmethod
    def driver_gone(run_dir: Path) -> bool:
        """The driver that last held this run's lock is known to be dead (it ran here and its
        process is gone). Read without locking, so a driver starting meanwhile is never
        refused because of a look."""
        import socket

        from hpsearch import procs

        holder = RunLock.holder(run_dir)
        pid = procs.driver_of(str(holder.get("token") or ""))
        return (
            holder.get("host") == socket.gethostname()
            and pid is not None
            and (not procs.alive(pid))
        )

    @staticmethod
    def holder(run_dir: Path) -> dict[str, Any]:
        """What ``.lock`` says of the driver that last held it (``{}`` if nothing), read
        without locking."""
        try:
            fd = os.open(run_dir / ".lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return {}
        try:
            return _read_holder(fd) if stat.S_ISREG(os.fstat(fd).st_mode) else {}
        finally:
            os.close(fd)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file releases the lock
            self.fd = None


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = loads(os.pread(fd, 4096, 0).decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: Mapping[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    parts = [f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"]
    if holder.get("command"):
        parts.append(f"'{str(holder['command'])[:120]}'")
    if holder.get("since"):
        parts.append(f"since {str(holder['since'])[:19].replace('T', ' ')} UTC")
    return ", ".join(parts)
