"""Finding runs: a run named by path, id, prefix or ``latest``; every run of a runs
directory; a run's ancestors and the next round of a ``--rounds`` search."""

from __future__ import annotations

import os
from pathlib import Path

from hpsearch.errors import RunError
from hpsearch.store import MARKER, RunStore, is_run_dir


def resolve_run(ref: str, runs_dir: Path | str = "runs", *, search_only: bool = False) -> RunStore:
    """A run named by path, by id (or a unique prefix of one) under ``runs_dir``, or
    ``latest``: the newest run, or with ``search_only`` the newest search (panda runs and
    re-tests skipped)."""
    candidate = Path(ref)
    if ref != "latest" and is_run_dir(candidate):
        return RunStore.open(candidate)
    runs_dir = Path(runs_dir)
    if ref == "latest":
        runs = list_runs(runs_dir)
        if search_only:
            runs = [r for r in runs if _kind_or_search(r) == "search"]
        if not runs:
            what = "searches" if search_only else "runs"
            raise RunError(f"{runs_dir}: no {what} yet")
        return runs[0]
    if "/" not in ref and ref not in (".", "..") and is_run_dir(runs_dir / ref):
        return RunStore.open(runs_dir / ref)
    matches = (
        [r for r in list_runs(runs_dir) if r.run_id.startswith(ref)]
        if ref and "/" not in ref and not ref.startswith(".")
        else []
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RunError(
            f"'{ref}' matches {len(matches)} runs in {runs_dir}: "
            + ", ".join(m.run_id for m in matches[:5])
        )
    if candidate.is_dir():
        raise RunError(
            f"{ref}: not a run directory (hpsearch marks each run with a {MARKER} file); "
            "name a run directory, a run id or 'latest'"
        )
    raise RunError(
        f"no run '{ref}': not a run directory, nor a run id in {runs_dir} (another "
        "runs directory: --runs-dir DIR)"
    )


def _kind_or_search(store: RunStore) -> str:
    try:
        return store.kind
    except RunError:
        return "search"


def list_runs(runs_dir: Path | str, problems: list[str] | None = None) -> list[RunStore]:
    """Runs under ``runs_dir``, newest first (by start time, then name). A directory that
    cannot be read is skipped (and named in ``problems``)."""
    runs_dir = Path(os.path.abspath(runs_dir))
    if not runs_dir.is_dir():
        return []
    try:
        entries = sorted(runs_dir.iterdir())
    except OSError as exc:
        raise RunError(
            f"{runs_dir}: cannot read the runs directory: {exc.strerror or exc}"
        ) from None
    stores = []
    for entry in entries:
        if entry.name.startswith("."):
            continue  # a run being created, or not a run
        if is_run_dir(entry):
            stores.append(RunStore(entry))
        elif problems is not None:
            try:
                entry.is_dir() and list(entry.iterdir())
            except OSError as exc:
                problems.append(f"{entry}: cannot read it: {exc.strerror or exc}")

    def started(store: RunStore) -> str:
        try:
            return str(store.summary().get("started") or "")
        except RunError:
            return ""

    return sorted(stores, key=lambda s: (started(s), s.run_id), reverse=True)


def lineage(store: RunStore) -> list[RunStore]:
    """The run and its ancestors (``parent`` in summary.json), root first. A parent that is
    no longer in the runs directory ends the chain."""
    chain = [store]
    seen = {store.run_id}
    while True:
        parent = chain[-1].summary().get("parent")
        if not parent or parent in seen:
            break
        path = chain[-1].path.parent / parent
        if not is_run_dir(path):
            break
        chain.append(RunStore(path))
        seen.add(parent)
    return chain[::-1]


def continuation(store: RunStore) -> RunStore | None:
    """The next round of ``store``'s ``--rounds`` search, if it was started (the newest, if
    an earlier resume started more than one)."""
    children = []
    for other in list_runs(store.path.parent):
        try:
            summary = other.summary()
        except RunError:
            continue
        if summary.get("parent") == store.run_id and summary.get("continues"):
            children.append(other)
    return children[0] if children else None
