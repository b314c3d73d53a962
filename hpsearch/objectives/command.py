"""A shell command as an objective: ``{name}`` placeholders filled with shell-quoted values,
the metric read from what it prints."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hpsearch.files import loads
from hpsearch.objectives.base import (
    Curves,
    Diverged,
    Fixing,
    Outcome,
    Report,
    capped,
    interpret,
    is_real,
    users_frame,
)


@dataclass(frozen=True)
class CommandObjective(Fixing):
    """A shell command from ``objective.command``, ``{name}`` filled with shell-quoted values.

    The process runs in the config's directory with ``HPSEARCH_PARAMS_FILE`` (a JSON file of
    the values; also ``HPSEARCH_PARAMS``, the JSON itself, when it is under 32 KiB),
    ``HPSEARCH_SEED`` and ``HPSEARCH_TRIAL`` in its environment, in a session of its own. The
    trial ends when that process exits (or at the timeout): whatever it left running, in its
    group or in a session it started, is killed then. The metric is read from the last stdout
    line that is a JSON object holding it, or a ``metric=value`` line; JSON lines with an
    ``epoch`` make a curve.
    """

    template: str
    workdir: str
    fixed: Mapping[str, Any]
    metric: str
    full_budget: int | None = None  # early stopping: {budget} of a trial trained fully

    dataset = None  # it loads its own data (not a field)

    def __call__(
        self,
        params: Mapping[str, Any],
        seed: int,
        timeout: float | None,
        index: int = 0,
        report: Report | None = None,  # a command's curve is read when it exits
        budget: int | None = None,
        checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> Outcome:
        import tempfile

        from hpsearch import procs

        values = {**self.fixed, **params}
        token = procs.child_token()
        with tempfile.TemporaryDirectory(prefix="hpsearch-trial-") as scratch:
            budgets: dict[str, str] = {}
            if budget is not None or self.full_budget is not None:
                # Trained fully (a re-test): the full budget and a checkpoint dir of its own.
                budgets["budget"] = str(budget if budget is not None else self.full_budget)
                budgets["checkpoint_dir"] = checkpoint_dir or os.path.join(scratch, "checkpoint")
                os.makedirs(budgets["checkpoint_dir"], exist_ok=True)
            fields = {**values, "seed": seed, "trial": index, **budgets}
            if device is not None:
                fields["device"] = device
            command = self.template.format(
                **{k: shlex.quote(_as_text(v)) for k, v in fields.items()}
            )
            text = json.dumps(values)
            params_file = os.path.join(scratch, "params.json")
            with open(params_file, "w", encoding="utf-8") as f:
                f.write(text)
            env = {
                **os.environ,
                "HPSEARCH_PARAMS_FILE": params_file,
                "HPSEARCH_SEED": str(seed),
                "HPSEARCH_TRIAL": str(index),
                **{f"HPSEARCH_{k.upper()}": v for k, v in budgets.items()},
                procs.TOKEN: token,
            }
            env.pop("HPSEARCH_PARAMS", None)
            if device is not None:
                env.update(procs.device_env(device))
            else:  # not inherited from an hpsearch this one runs under
                env.pop("HPSEARCH_DEVICE", None)
            if not budgets:  # not inherited from an hpsearch this one runs under
                env.pop("HPSEARCH_BUDGET", None)
                env.pop("HPSEARCH_CHECKPOINT_DIR", None)
            if len(text) < PARAMS_IN_ENV_LIMIT:  # the environment has a size limit
                env["HPSEARCH_PARAMS"] = text
            finished = _run_command(command, self.workdir, env, timeout, token)
        out, err, returncode, timed_out = finished
        curves = _curves(out)
        if timed_out:
            return Outcome(
                "timeout",
                epochs=_epochs(curves),
                curves=curves,
                error=f"took longer than {timeout:g} s; its processes were killed",
            )
        if returncode != 0:
            return Outcome(
                "failed",
                epochs=_epochs(curves),
                curves=curves,
                error=f"exit code {returncode}: {_python_reason(err) or _tail(err)}",
                traceback=capped(err) if err.strip() else None,  # its stderr: a traceback, often
            )
        value = _metric_from(out, self.metric)
        if value is None:
            printed = sorted({k for item in _json_lines(out) for k in item if k != "epoch"})
            return Outcome(
                "failed",
                epochs=_epochs(curves),
                curves=curves,
                error=f"no '{self.metric}' in its output: print a JSON object with "
                f"it, or {self.metric}=VALUE, as a line on stdout"
                + (f" (its JSON lines had: {', '.join(printed)})" if printed else ""),
            )
        status, metrics, error = interpret(value, self.metric)
        return Outcome(status, metrics, _epochs(curves), curves, error)


PARAMS_IN_ENV_LIMIT = 32 * 1024  # bytes of JSON; Linux refuses one variable over 128 KiB


def _run_command(
    command: str, workdir: str, env: dict[str, str], timeout: float | None, token: str
) -> tuple[str, str, int | None, bool]:
    """Run ``command``; return (stdout, stderr, exit code, timed out). Its output is read
    until it exits, not until every pipe closes: a background child that keeps stdout open
    neither holds the trial nor outlives it."""
    from hpsearch import procs

    process = subprocess.Popen(
        command,
        shell=True,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    readers = [
        threading.Thread(target=_drain, args=(stream, chunks[key]), daemon=True)
        for key, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Whatever the command left behind ends with the trial (Ctrl-C included).
        procs.kill_group(process.pid)
        procs.kill_tagged([token])
        if process.returncode is None:
            process.wait()
        until = time.monotonic() + 0.5  # a child that hid its token may still hold a pipe
        for reader in readers:
            reader.join(timeout=max(until - time.monotonic(), 0.0))
    decode = lambda key: b"".join(chunks[key]).decode("utf-8", errors="replace")  # noqa: E731
    return decode("out"), decode("err"), process.returncode, timed_out


def _drain(stream: Any, into: list[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read1(65536), b""):
            into.append(chunk)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_FRAME = re.compile(r'^\s+File "(?P<file>.+)", line (?P<line>\d+), in (?P<name>.+)$')


def _python_reason(err: str) -> str | None:
    """``ValueError: ... (at train.py:4 in main)`` when ``err`` ends in a Python traceback, as
    a Python objective's reason reads; None otherwise. Of chained exceptions, the last."""
    start = err.rfind("Traceback (most recent call last):")
    if start < 0:
        return None
    frames: list[traceback.FrameSummary] = []
    for line in err[start:].splitlines()[1:]:
        found = _FRAME.match(line)
        if found:
            frame = traceback.FrameSummary(
                found["file"], int(found["line"]), found["name"], lookup_line=False
            )
            frames.append(frame)
        elif line.strip() and not line[0].isspace():  # the exception: `module.Type: message`
            kind, sep, message = line.partition(":")
            if not frames or " " in kind:
                return None
            return f"{kind.rsplit('.', 1)[-1]}{sep}{message} (at {users_frame(frames)})"
    return None


def _tail(text: str, lines: int = 5, chars: int = 500) -> str:
    tail = " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())
    return tail[-chars:] if tail else "(nothing on stderr)"


def _json_lines(out: str) -> Iterator[dict]:
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                item = loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                yield item


def _metric_from(out: str, metric: str) -> Any:
    pattern = re.compile(rf"^\s*{re.escape(metric)}\s*[=:]\s*(\S+)\s*$")
    for line in reversed(out.splitlines()):
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                item = loads(stripped)
            except ValueError:
                continue
            if isinstance(item, dict) and metric in item and "epoch" not in item:
                return item
            continue
        match = pattern.match(line)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                return match.group(1)
    # A last resort: the final epoch line that carries the metric.
    for item in reversed(list(_json_lines(out))):
        if metric in item:
            return item
    return None


def _curves(out: str) -> dict[str, list[Any]] | None:
    report = Curves(None)
    for item in _json_lines(out):
        if "epoch" in item:
            epoch = item.pop("epoch")
            # A line with a bad epoch ("1", 1e999) is no curve point; it fails nothing.
            with contextlib.suppress(Diverged, TypeError, ValueError, OverflowError):
                report(epoch, **{k: v for k, v in item.items() if is_real(v)})
    return report.curves if report.epochs else None


def _epochs(curves: dict[str, list[Any]] | None) -> int | None:
    return len(curves["epoch"]) if curves else None
