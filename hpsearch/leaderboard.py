"""The files a search's results are read from: leaderboard.csv, best.yaml and the summary's
result fields, computed from the config and the records alone (the store writes them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpsearch.config import Config
from hpsearch.goals import ParetoGoal, measure
from hpsearch.record import TrialRecord
from hpsearch.results import result_fields


@dataclass(frozen=True)
class Results:
    """What a search's results files show: the leaderboard, best.yaml (None when no trial
    is ok) and the summary fields."""

    leaderboard_csv: str
    best_yaml: str | None
    fields: dict[str, Any]


def results_of(config: Config, records: Sequence[TrialRecord]) -> Results:
    goal = config.search.goal
    ranked = goal.rank(records)
    best = goal.best(ranked)
    front = goal.front(ranked) if isinstance(goal, ParetoGoal) else []
    return Results(
        leaderboard_csv(ranked, config),
        None if best is None else best_config_yaml(config, best, front),
        result_fields(goal, records),
    )


def leaderboard_rows(ranked: Sequence[TrialRecord], config: Config) -> list[dict[str, Any]]:
    """The leaderboard as rows: rank, trial, round, status, the metrics (the search's first),
    the parameters, seed, epochs, error. Keys are unique (see ``unique_headers``)."""
    goal = config.search.goal
    first = [m for m, _ in config.search.metrics] or [config.search.metric]
    seen: dict[str, None] = {}
    for r in ranked:
        for key in r.metrics:
            seen.setdefault(key, None)
    metric_columns = [*first, *[m for m in seen if m not in first]]
    names = config.space.names
    # Several goals: each trial's Pareto front (1: on it; empty: not fully trained, or
    # infeasible) and whether it meets the constraints. A search of one metric: as before.
    several = isinstance(goal, ParetoGoal)
    fronts = goal.fronts(ranked) if isinstance(goal, ParetoGoal) else []
    headers = unique_headers(
        [("rank", ""), ("trial", ""), ("round", ""), ("status", "")]
        + ([("pareto_rank", ""), ("feasible", "")] if several else [])
        + [(m, "metric") for m in metric_columns]
        + [(n, "param") for n in names]
        + [("seed", ""), ("epochs", ""), ("error", "")]
    )
    rows = []
    for position, r in enumerate(ranked, start=1):
        cells = [
            position,
            r.trial,
            r.round,
            r.status,
            *(
                [fronts[position - 1], goal.feasible(r) if r.ok else None]
                if isinstance(goal, ParetoGoal)
                else []
            ),
            *[_metric(r, m) if several else r.metrics.get(m) for m in metric_columns],
            *[r.params.get(n) for n in names],
            r.seed,
            r.epochs,
            r.error,
        ]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


def leaderboard_csv(ranked: Sequence[TrialRecord], config: Config) -> str:
    """leaderboard.csv. No wall-clock column: a resumed run's leaderboard is identical to an
    uninterrupted one's."""
    rows = leaderboard_rows(ranked, config)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows:
        writer.writerow(list(rows[0]))
    else:
        writer.writerow(list(leaderboard_rows([_EMPTY], config)[0]))
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    return out.getvalue()


_EMPTY = TrialRecord(0, {}, None, "failed")  # for the header row of an empty leaderboard


def _metric(record: TrialRecord, name: str) -> float | None:
    return record.metrics.get(name, measure(record, name))


def unique_headers(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Column names, each once: a name already taken (a parameter called ``epochs``, a
    metric called like a parameter) gets its role added, ``epochs (param)``."""
    out: list[str] = []
    for name, role in columns:
        header = name
        if header in out:
            header = f"{name} ({role or 'hpsearch'})"
        while header in out:
            header += "'"
        out.append(header)
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def best_config_yaml(config: Config, best: TrialRecord, front: Sequence[TrialRecord] = ()) -> str:
    """The config with the winner's values fixed under ``model`` and nothing left to search:
    ``hpsearch run best.yaml`` re-trains the winner with fresh seeds."""
    from hpsearch import yamlio
    from hpsearch.sampling import retrain_seed

    resolved = config.to_dict(absolute_paths=True)
    resolved["model"] = {**resolved["model"], **best.params}
    resolved["space"] = {}
    resolved["zoom"] = {**resolved["zoom"], "rounds": 0}
    resolved["search"] = {k: v for k, v in resolved["search"].items() if k != "budget"}
    # A seed of its own, so no re-test trial repeats the winner's (possibly lucky) seed; the
    # data keeps the run's seed.
    resolved["seed"] = retrain_seed(best.seed or 0)
    if config.objective.is_builtin:
        resolved["data"] = {**resolved["data"], "seed": config.data_seed}
    header = (
        f"# Best trial {best.trial} (round {best.round}) of this search: "
        f"{config.search.metric} = {best.metrics.get(config.search.metric)}\n"
        f"# Its training seed was {best.seed}. Running this file re-trains these "
        "settings with fresh seeds.\n"
    )
    if front:
        header += _front_comment(config, best, front)
    return header + yamlio.dump(resolved)


FRONT_LINES = 20  # front trials listed in best.yaml's header (the summary has them all)


def _front_comment(config: Config, best: TrialRecord, front: Sequence[TrialRecord]) -> str:
    """best.yaml's lines on the Pareto front: its trials and their metrics; the one this file
    re-trains is the front's best on the first metric."""
    names = [m for m, _ in config.search.metrics] or [config.search.metric]
    lines = [
        f"# The Pareto front of this search: {len(front)} trials that no other trial beats on "
        f"every metric ({', '.join(names)}); this file is trial {best.trial}, the front's "
        f"best {names[0]}. Another: hpsearch show RUN --trial N, then its values in model.\n"
    ]
    for r in front[:FRONT_LINES]:
        values = " ".join(f"{m}={_cell(_metric(r, m))}" for m in names)
        lines.append(f"#   trial {r.trial}: {values}\n")
    if len(front) > FRONT_LINES:
        lines.append(f"#   and {len(front) - FRONT_LINES} more (summary.json: pareto_front)\n")
    return "".join(lines)
