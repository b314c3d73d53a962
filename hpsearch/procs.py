"""Finding and ending the processes a trial started, wherever they went.

Every worker process, and every command a trial runs, carries a token in its environment
(``HPSEARCH_TOKEN``); their children inherit it, including those that left the process group
(``cmd &``) or the session (``setsid cmd``). Ending a token's processes is then a scan of
``/proc`` on Linux. Elsewhere only the process group can be ended.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterable

TOKEN = "HPSEARCH_TOKEN"


def new_token() -> str:
    return secrets.token_hex(6)


def driver_token() -> str:
    """This process's token, set in its own environment on first use, so that everything it
    starts carries it (a token inherited from an hpsearch that started this one is extended:
    tokens nest, ``parent.child``, and ending a token ends the tokens below it)."""
    global _own
    if _own is None or _own[0] != os.getpid():
        inherited = os.environ.get(TOKEN)
        own = f"{os.getpid()}x{new_token()}"  # its pid first: see driver_of
        token = f"{inherited}.{own}" if inherited else own
        os.environ[TOKEN] = token
        _own = (os.getpid(), token)
    return _own[1]


def driver_of(token: str) -> int | None:
    """The pid of the driver that made ``token`` (None for a token of another form)."""
    import re

    match = re.fullmatch(r"(?:[0-9a-zx.-]+\.)?([1-9][0-9]{0,9})x[0-9a-f]{12}", token)
    return int(match.group(1)) if match else None


_own: tuple[int, str] | None = None  # (pid, token): a forked child makes its own


def child_token() -> str:
    """A token below the current one, for a process about to be started."""
    parent = os.environ.get(TOKEN)
    return f"{parent}.{new_token()}" if parent else new_token()


def tagged(tokens: Iterable[str]) -> list[int]:
    """The pids of the processes whose environment carries one of ``tokens`` or a token
    below one (Linux; an empty list elsewhere or for processes this user may not read)."""
    wanted = [f"{TOKEN}={t}".encode() for t in tokens if t]
    if not wanted or not os.path.isdir("/proc"):
        return []
    pids = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone, or another user's
            continue
        for item in environ.split(b"\0"):
            if item.startswith(b"HPSEARCH_TOKEN=") and any(
                item == w or item.startswith(w + b".") for w in wanted
            ):
                pids.append(int(entry))
                break
    return pids


def kill_tagged(tokens: Iterable[str]) -> int:
    """SIGKILL every process carrying one of ``tokens``; returns how many were signalled.
    Repeats until none is left, so a process forked during the scan is caught too."""
    tokens = list(tokens)
    total = 0
    for _ in range(5):
        pids = tagged(tokens)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                total += 1
    return total


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def alive(pid: int) -> bool:
    if not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers; /proc tells it apart where there is one.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    return True


def device_env(device: str | None) -> dict[str, str]:
    """What a process on ``device`` is told: ``HPSEARCH_DEVICE``, and ``CUDA_VISIBLE_DEVICES``
    so that CUDA programs see only their own GPU (as device 0)."""
    return {} if device is None else {"HPSEARCH_DEVICE": device, "CUDA_VISIBLE_DEVICES": device}
