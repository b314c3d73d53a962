"""Searches written by hpsearch 0.1: one run directory per round, linked by ``parent``.

Read as one search: ``read_lineage`` turns the chain of directories (the first round to the
newest one started) into the config, rounds and records a search has today — trial ``i`` of
round ``k`` becomes trial ``first_k + i``, each record gets the values its round had fixed,
and each round its region (its config's space and fixed values) and seed, so that its
missing trials are drawn exactly as 0.1 would have drawn them. Nothing is written: ``show``,
``list``, ``report`` and the others read 0.1 runs as they are.

``convert`` writes such a search as one new run directory (beside the old ones, which are
left in place and marked ``converted_to``); ``resume`` and ``zoom`` of a 0.1 search do it
first, once.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch import yamlio
from hpsearch.config import Config
from hpsearch.errors import RunError
from hpsearch.files import (
    SMALL_FILE,
    NotRegularFile,
    TooLarge,
    atomic_write,
    clean_json,
    loads,
    read_text,
)
from hpsearch.history import History
from hpsearch.record import TrialRecord
from hpsearch.results import result_fields
from hpsearch.rounds import Region, Round
from hpsearch.rungs import RungResult
from hpsearch.store import MARKER, RunStore, is_run_dir, read_history, versions
from hpsearch.store.summary import make_run_dir
from hpsearch.version import __version__


def is_legacy(store: RunStore, children: dict[str, list[str]] | None = None) -> bool:
    """Whether ``store`` is a round of a 0.1 search of several rounds."""
    if store.has_rounds:
        return False
    try:
        summary = store.summary()
    except RunError:
        return False
    if store.kind != "search" or summary.get("converted_to"):
        return False
    if summary.get("parent") or summary.get("round"):
        return True
    kids = children if children is not None else child_map(store.path.parent)
    return bool(kids.get(store.run_id))


def child_map(runs_dir: Path) -> dict[str, list[str]]:
    """Each 0.1 search round's later rounds (run ids, newest first): ``parent`` read back."""
    found: list[tuple[str, str, str]] = []
    try:
        entries = sorted(runs_dir.iterdir())
    except OSError:
        return {}
    for entry in entries:
        if entry.name.startswith(".") or (entry / "rounds.jsonl").exists():
            continue
        try:
            summary = loads(read_text(entry / "summary.json", SMALL_FILE))
        except (OSError, ValueError, NotRegularFile, TooLarge):
            continue
        if isinstance(summary, dict) and summary.get("kind", "search") == "search":
            parent = summary.get("parent")
            if isinstance(parent, str):
                found.append((parent, str(summary.get("started") or ""), entry.name))
    out: dict[str, list[str]] = {}
    for parent, _started, name in sorted(found, key=lambda f: (f[1], f[2]), reverse=True):
        out.setdefault(parent, []).append(name)
    return out


def chain(store: RunStore, children: dict[str, list[str]] | None = None) -> list[RunStore]:
    """The search ``store`` belongs to: its ancestors, itself, then the newest later round
    at each step (where a ``--rounds`` search had got to), the first round first."""
    kids = children if children is not None else child_map(store.path.parent)
    up = [store]
    seen = {store.run_id}
    while True:
        parent = up[-1].summary().get("parent")
        path = store.path.parent / str(parent)
        if not parent or parent in seen or not is_run_dir(path):
            break
        up.append(RunStore(path))
        seen.add(parent)
    down: list[RunStore] = []
    current = store.run_id
    while kids.get(current):
        current = next((k for k in kids[current] if k not in seen), "")
        if not current:
            break
        seen.add(current)
        down.append(RunStore(store.path.parent / current))
    return up[::-1] + down


@dataclass
class LegacySearch:
    """A 0.1 search read as one: what a run directory of today would hold."""

    stores: list[RunStore]
    config: Config
    history: History
    curves: dict[int, dict[str, Any]]
    rung_results: list[RungResult]
    attempts: list[dict[str, Any]]
    summary: dict[str, Any]

    @property
    def newest(self) -> RunStore:
        return self.stores[-1]


def read_lineage(store: RunStore, children: dict[str, list[str]] | None = None) -> LegacySearch:
    """The 0.1 search ``store`` belongs to, as one search (nothing is written)."""
    stores = chain(store, children)
    configs = [s.config() for s in stores]
    summaries = [s.summary() for s in stores]
    if summaries[0].get("parent") or summaries[0].get("round"):
        raise RunError(
            f"{store.path}: a round of an hpsearch 0.1 search whose first round "
            f"({summaries[0].get('parent') or 'round 0'}) is no longer in {store.path.parent}: "
            "it cannot be read as one search; restore that directory"
        )
    root = configs[0]
    rounds: list[Round] = []
    records: list[TrialRecord] = []
    curves: dict[int, dict[str, Any]] = {}
    rung_results: list[RungResult] = []
    attempts: list[dict[str, Any]] = []
    first = 0
    for k, (s, cfg, summary) in enumerate(zip(stores, configs, summaries, strict=True)):
        fixed = {n: cfg.model[n] for n in root.space.names if n in cfg.model and n not in cfg.space}
        continues = k == 0 or bool(summary.get("continues")) or root.search.budget is not None
        rounds.append(
            Round(
                number=k,
                first=first,
                trials=cfg.search.trials,
                seed=cfg.seed,
                region=Region(cfg.space, fixed),
                strategy=_strategy(root, k),
                origin="plan" if continues else "zoom",
                summary=f"round {k} of a 0.1 search (run {s.run_id})",
            )
        )

        def renumbered(
            r: TrialRecord, offset: int = first, k: int = k, fixed: dict = fixed
        ) -> TrialRecord:
            params = {**fixed, **r.params}
            whole = {n: params[n] for n in root.space.names if n in params}
            return dataclasses.replace(r, trial=r.trial + offset, round=k, params=whole)

        records += [renumbered(r) for r in s.load_trials(space=cfg.space).records]
        curves |= {i + first: c for i, c in s.load_curves().items() if isinstance(i, int)}
        rung_results += [
            RungResult(x.bracket, x.rung, renumbered(x.record))
            for x in s.rungs.load(space=cfg.space)
        ]
        attempts += [{**a, "trial": a["trial"] + first, "round": k} for a in s.attempts.load()]
        first += cfg.search.trials
    done_rounds = sum(1 for r in rounds[1:] if r.origin == "plan")
    left = summaries[-1].get("rounds_left") or 0
    config = root
    if root.search.budget is None and (done_rounds or left):
        zoom_trials = configs[1].search.trials if len(configs) > 1 else root.zoom.trials
        config = dataclasses.replace(
            root, zoom=dataclasses.replace(root.zoom, rounds=done_rounds + left, trials=zoom_trials)
        )
    history = History(config, rounds, records)
    summary = {
        **summaries[-1],
        **result_fields(config.search.goal, history.records),
        "run_id": stores[-1].run_id,
        "started": summaries[0].get("started"),
        "wall_time": sum(float(s.get("wall_time") or 0) for s in summaries),
        "trials_planned": history.planned,
        "rounds": [info.to_json() for info in history.infos()],
        "strategy": _strategy(root, 1),
        "config": config.to_dict(absolute_paths=True),
        "layout": "0.1 (one directory per round: " + ", ".join(s.run_id for s in stores) + ")",
    }
    for key in ("parent", "round", "rounds_left", "continues", "lineage", "lineage_best"):
        summary.pop(key, None)
    return LegacySearch(stores, config, history, curves, rung_results, attempts, summary)


def _strategy(root: Config, k: int) -> str:
    if root.search.budget is not None:
        return "budget"
    return "zoom" if k else "random"


def convert(search: LegacySearch) -> RunStore:
    """Write ``search`` as one run directory beside its rounds' (made whole or not at all),
    then mark each old round ``converted_to`` it. Returns the new run."""
    from hpsearch.leaderboard import results_of

    path = make_run_dir(
        search.newest.path.parent,
        search.config.name,
        lambda staging, run_id: _write(staging, run_id, search),
    )
    store = RunStore(path)
    try:  # the new run reads back whole, or it goes and the old ones stay as they were
        config = store.config()
        read_history(store, config, store.load_trials(space=config.space).records)
    except RunError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise RunError(f"cannot convert the hpsearch 0.1 search: {exc}") from None
    store.write_results(
        results_of(search.config, search.history.records),
        status=search.summary.get("status", "interrupted"),
        wall_time=float(search.summary.get("wall_time") or 0.0),
        extra={"rounds": [info.to_json() for info in search.history.infos()]},
    )
    for old in search.stores:
        old.write_summary({**old.summary(), "converted_to": path.name})
    return store


def _write(staging: Path, run_id: str, search: LegacySearch) -> None:
    (staging / MARKER).write_text(
        json.dumps({"hpsearch": __version__, "run_id": run_id, "kind": "search"}) + "\n"
    )
    resolved = search.config.to_dict(absolute_paths=True)
    atomic_write(staging / "config.yaml", yamlio.dump(resolved))
    lines = [json.dumps(clean_json(r.to_json())) for r in search.history.rounds]
    atomic_write(staging / "rounds.jsonl", "".join(line + "\n" for line in lines))
    trials = [json.dumps(clean_json(r.to_json())) for r in search.history.records]
    atomic_write(staging / "trials.jsonl", "".join(line + "\n" for line in trials))
    curves = [json.dumps({"trial": i, **clean_json(c)}) for i, c in sorted(search.curves.items())]
    atomic_write(staging / "curves.jsonl", "".join(line + "\n" for line in curves))
    if search.rung_results:
        rungs = [json.dumps(r.to_json()) for r in search.rung_results]
        atomic_write(staging / "rungs.jsonl", "".join(line + "\n" for line in rungs))
    if search.attempts:
        kept = [json.dumps(clean_json(a)) for a in search.attempts]
        atomic_write(staging / "attempts.jsonl", "".join(line + "\n" for line in kept))
    summary = {
        **search.summary,
        "run_id": run_id,
        "converted_from": [s.run_id for s in search.stores],
        "versions": versions(),
    }
    summary.pop("layout", None)
    atomic_write(staging / "summary.json", json.dumps(clean_json(summary), indent=2) + "\n")


def writable(source: Any) -> tuple[RunStore, str | None]:
    """The run directory to write a search into (``source`` a ``hpsearch.runs.Run``): its
    own, or for a 0.1 search of several directories the one it is converted into now, with
    a sentence that says so."""
    old = source.legacy
    if old is None:
        return source.store, None
    store = convert(old)
    names = ", ".join(s.run_id for s in old.stores)
    return store, (
        f"converted the hpsearch 0.1 search {names} into one run, {store.path} (the old "
        "directories are left as they were)"
    )
