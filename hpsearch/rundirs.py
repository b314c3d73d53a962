"""Finding runs: a run named by path, id, prefix or ``latest``; every run of a runs
directory. A 0.1 round that was converted into a run of today (``converted_to``) names that
run."""

from __future__ import annotations

import os
from pathlib import Path

from hpsearch.errors import RunError
from hpsearch.store import MARKER, RunStore, is_run_dir


def resolve_run(ref: str, runs_dir: Path | str = "runs", *, search_only: bool = False) -> RunStore:
    """A run named by path, by id (or a unique prefix of one) under ``runs_dir``, or
    ``latest``: the newest run, or with ``search_only`` the newest search (panda runs and
    re-tests skipped)."""
    return _converted(_resolve(ref, runs_dir, search_only))


def _converted(store: RunStore) -> RunStore:
    """The run a converted 0.1 round became, if it is one (and that run is still there)."""
    try:
        target = store.summary().get("converted_to")
    except RunError:
        return store
    if target and is_run_dir(store.path.parent / target):
        return RunStore(store.path.parent / target)
    return store


def _resolve(ref: str, runs_dir: Path | str, search_only: bool) -> RunStore:
    candidate = Path(ref)
    if ref != "latest" and is_run_dir(candidate):
        return RunStore.open(candidate)
    runs_dir = Path(runs_dir)
    if ref == "latest":
        runs = [r for r in list_runs(runs_dir) if not _is_converted(r)]
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


def _is_converted(store: RunStore) -> bool:
    try:
        return bool(store.summary().get("converted_to"))
    except RunError:
        return False


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
