"""Writing and reading files so that no reader ever trusts half of one.

- ``atomic_write``: a whole file, replaced at once (readers see the old or the new content).
- ``append_line``: one JSON record, one ``write`` call and a flush (appends never interleave).
- ``read_bytes`` / ``read_text`` / ``open_regular``: every file of a run is read through these:
  opened non-blocking and checked to be a regular file first, so a FIFO, socket or device
  put in a run directory is one ``NotRegularFile`` error naming it, never a hang; a small
  file (``SMALL_FILE``) that is huge is one ``TooLarge`` error, never read whole.
- ``read_log``: a JSON-lines log read back; a last line cut off by a killed process (no newline
  after it, not JSON) is set aside as *torn*, a bad line anywhere else is a one-line
  ``RunError`` naming the file and line.

The logs of a run (trials, rounds, rungs) are read with ``read_log``; what a line means is the
caller's ``parse``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Generic, NoReturn, TypeVar

from hpsearch.errors import RunError, StorageError

T = TypeVar("T")


class NotRegularFile(RunError):
    """A file of a run that is not a regular file of its own: a FIFO, a socket or a device
    (reading it could hang forever), a directory, or a symbolic link (it would read or write
    a file outside the run). ``what``: what it is instead."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}; move it away or delete it")
        self.what = what


class TooLarge(RunError):
    """A run file hpsearch writes a few kilobytes of (summary.json, config.yaml, best.yaml)
    that is far larger: never read whole (a sparse file of a terabyte costs no disk)."""


SMALL_FILE = 64 * 2**20  # bytes: the most summary.json, config.yaml or best.yaml may hold

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading in binary, or ``NotRegularFile`` when it is anything but a
    regular file. Opened non-blocking (a FIFO's open would wait for a writer) and checked
    with ``fstat`` on what was opened, so no swap after the check can make it hang. A
    missing or unreadable file is the usual OSError."""
    return open(path, "rb", opener=_regular_only)


def _regular_only(path: str, flags: int) -> int:
    """``open``'s opener for run files: non-blocking open, ``fstat``, then a regular file's
    descriptor (made blocking again) or ``NotRegularFile``."""
    try:
        # Never through a symbolic link: a run's files are its own (a link in a shared runs
        # directory could show another user's file in a report, or append to it).
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            writing = flags & (os.O_WRONLY | os.O_RDWR)
            what = "is a symbolic link (hpsearch " + (
                "never writes through one)" if writing else "reads a run's own files only)"
            )
            raise NotRegularFile(path, what) from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened to write with no reader
            _refuse(path, os.stat(path).st_mode)
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            _refuse(path, mode)
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _refuse(path: str, mode: int) -> NoReturn:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise NotRegularFile(path, f"is not a regular file ({kind})")


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """A run file's content (``open_regular``'s checks first); ``TooLarge`` if it holds more
    than ``limit`` bytes (never more is read)."""
    with open_regular(path) as f:
        if limit is None:
            return f.read()
        size = os.fstat(f.fileno()).st_size
        data = f.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        raise TooLarge(
            f"{path}: {max(size, len(data)) // 2**20} MiB, far more than hpsearch writes there "
            f"({limit // 2**20} MiB at most); move it away or delete it"
        )
    return data


def read_text(path: Path, limit: int | None = None) -> str:
    """A run file's UTF-8 text (``read_bytes``'s checks first; a UnicodeDecodeError if it
    is not UTF-8)."""
    return read_bytes(path, limit).decode("utf-8")


def atomic_write(path: Path, text: str, exclusive: bool = False) -> None:
    """Write a whole file so that readers see the old or the new content, never a mix.

    ``exclusive``: only if nothing is at ``path`` (FileExistsError otherwise, even when a file
    appears there while this one is written): the finished file is hard-linked into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover, or a link planted there: only the name goes
    try:
        # A new file of our own (O_EXCL, O_NOFOLLOW): never written through a link.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_line(f: IO[str], line: str) -> None:
    """One record: one write call and a flush (the place tests make the disk full)."""
    f.write(line + "\n")
    f.flush()


def clean_json(value: Any) -> Any:
    """Plain JSON data: NaN and ±inf become None, tuples lists, numpy scalars Python ones."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return clean_json(value.item())
    return value


def loads(text: str) -> Any:
    """``json.loads`` of text from a file or a program: JSON nested too deeply for the parser
    (``[[[[…``) is a ValueError like any other bad JSON, never a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class BadLine(ValueError):
    """A line of a log that is JSON but not what the log holds: the message names the field."""


@dataclass
class LogRead(Generic[T]):
    """A log read back: each good line's ``(line number, parsed)``, a torn last line (if
    any), and the file's text (for a repair)."""

    items: list[tuple[int, T]] = field(default_factory=list)
    torn: str | None = None
    text: str = ""


def read_log(
    file: Path, parse: Callable[[dict[str, Any]], T], *, what: str, fix: str
) -> LogRead[T]:
    """Read ``file`` (JSON objects, one per line). A line that is not a JSON object is torn if
    it is the last and unterminated (a write a kill cut short), else a ``RunError``; a line
    ``parse`` refuses (``BadLine``, or any ValueError) is a ``RunError`` naming the field. A
    missing file is an empty log. ``what``: the record's name, ``fix``: what to do, for the
    messages (``trials.jsonl:3: corrupt trial record (…); fix or delete that line``)."""
    try:
        text = read_text(file)
    except FileNotFoundError:
        return LogRead()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"{file}: cannot read it: {exc}") from None
    lines = text.split("\n")
    out: LogRead[T] = LogRead(text=text)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = loads(line)
            if not isinstance(item, dict):
                raise ValueError(f"not a {what}")
        except ValueError as exc:
            if number == len(lines):  # no newline after it: a write that did not finish
                out.torn = line
                break
            raise RunError(f"{file}:{number}: corrupt {what} ({exc}); {fix}") from None
        try:
            out.items.append((number, parse(item)))
        except ValueError as exc:
            raise RunError(f"{file}:{number}: {exc}; {fix}") from None
    return out


def repair_log(file: Path, read: LogRead[Any], keep_torn: Path | None = None) -> None:
    """Cut a torn last line off ``file`` (kept in ``keep_torn`` if given), or end a whole
    last line that lacks its newline, so that the next append starts a fresh line."""
    text = read.text
    try:
        if read.torn is not None:
            if keep_torn is not None:
                with open_append(keep_torn) as f:
                    f.write(read.torn + "\n")
            atomic_write(file, text[: len(text) - len(read.torn)])
        elif text and not text.endswith("\n"):
            atomic_write(file, text + "\n")
    except OSError as exc:
        raise StorageError(
            f"{file}: cannot repair its cut-off last line: {exc.strerror or exc}; "
            "nothing was changed"
        ) from None


def open_append(path: Path) -> IO[str]:
    """A log opened for appending (the caller closes it). Non-blocking and checked like
    ``open_regular``: a FIFO with no reader would block the open forever; never through a
    symbolic link (a run's log linked to a file elsewhere must not get written into)."""
    return open(path, "a", encoding="utf-8", opener=_own_regular_only)


def open_update(path: Path) -> BinaryIO:
    """An existing run file opened to be changed in place (``r+b``), checked like
    ``open_append``."""
    return open(path, "r+b", opener=_own_regular_only)


def _own_regular_only(path: str, flags: int) -> int:
    """``_regular_only`` for writing (it never follows a symbolic link either): an OSError
    naming what the file is instead (the writers' error)."""
    try:
        return _regular_only(path, flags)
    except NotRegularFile as exc:
        raise OSError(errno.EINVAL, exc.what, path) from None
