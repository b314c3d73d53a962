"""A wall-clock budget (``search.time_budget``, ``--time-budget 2h30m``): at the deadline no
new trial is handed out; the trials running then have a grace period to finish (a tenth of
the budget, at least a second, at most ten minutes), after which the command stops them as
Ctrl-C would (SIGTERM to itself: the run is ``interrupted``, resumable, exit 143)."""

from __future__ import annotations

import math
import os
import re
import signal
import threading
import time

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
FORM = "a duration such as 90s, 45m, 2h30m or 1.5h (or a number of seconds)"


def parse_duration(value: object) -> float:
    """Seconds from ``90s``, ``45m``, ``2h30m``, ``1.5h`` or a number; ``ValueError`` saying
    what is expected otherwise (and for zero, a negative or a non-finite value)."""
    if isinstance(value, bool):
        raise ValueError(f"expected {FORM}, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _PART.findall(text)
        if not text or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"expected {FORM}, got {value!r}")
        units = [u for _, u in parts]
        if len(set(units)) != len(units):
            raise ValueError(f"expected {FORM} (each unit once), got {value!r}")
        seconds = sum(float(n) * UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"expected {FORM}, got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"must be more than 0 seconds, got {value!r}")
    return seconds


def spoken(seconds: float) -> str:
    """``2h30m``, ``45m``, ``90s``: a duration as the flag takes it."""
    whole = round(seconds)
    if abs(seconds - whole) > 1e-9 or whole < 60:
        return f"{seconds:g}s"
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((h, "h"), (m, "m"), (s, "s")) if n)


def grace(seconds: float) -> float:
    return min(max(0.1 * seconds, 1.0), 600.0)


class Deadline:
    """This command's share of the clock: ``passed()`` once the budget is spent; ``arm()``
    starts the grace period's alarm, ``disarm()`` ends it (the search finished in time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.reached = False
        self._alarm: threading.Timer | None = None

    def passed(self) -> bool:
        self.reached = self.reached or time.monotonic() >= self.ends
        return self.reached

    def arm(self) -> None:
        """After the deadline and its grace, stop this command as a SIGTERM would. Only a
        search in the main thread takes signals (``interrupts.stop_on_signals``): elsewhere
        (a search run from a thread) the trials running at the deadline finish whatever
        they take, rather than the signal ending the whole process."""
        if threading.current_thread() is not threading.main_thread():
            return
        wait = max(self.ends - time.monotonic(), 0.0) + grace(self.seconds)
        self._alarm = threading.Timer(wait, os.kill, (os.getpid(), signal.SIGTERM))
        self._alarm.daemon = True
        self._alarm.start()

    def disarm(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None
