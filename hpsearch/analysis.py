"""What a search says: parameter importance and re-test statistics. Plain data, no display.

Importance works on unit coordinates (the space module's transforms), so a log parameter is
judged per decade and a 1−β parameter per decade of 1 − β, like the sampling was.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.record import TrialRecord
from hpsearch.results import Direction, Goal
from hpsearch.space import ChoiceParam, Space

_PERMUTATIONS = 64


@dataclass(frozen=True)
class Importance:
    name: str
    share: float  # main-effect share of the metric's variance, after the chance level
    eta_squared: float  # raw correlation ratio: variance of binned means / total variance
    chance: float  # what the same binning explains when the metric is shuffled
    spearman: float  # rank correlation with the unit coordinate (0 for a choice)


@dataclass(frozen=True)
class ImportanceReport:
    params: list[Importance]  # most important first
    trials: int
    caution: str | None  # set when there are too few trials to say much
    basis: str | None = None  # what was measured, when not each trial's final metric


def importance(
    space: Space, records: Sequence[TrialRecord], metric: str, seed: int = 0
) -> ImportanceReport:
    """How much of the metric's variation each parameter explains on its own.

    For each parameter the ``ok`` trials are put into bins of its unit coordinate (equal
    counts; a choice's values are its bins) and the share of the metric's variance between the
    bins' means is taken (η², a binned functional-ANOVA main effect). Random binning explains
    some variance by itself, so the average η² of the same bins over shuffled metrics is taken
    off. Spearman's rank correlation is reported beside it as a simpler check.
    """
    rows = [
        r
        for r in records
        if isinstance(r.value(metric), (int, float)) and math.isfinite(r.metrics[metric])
    ]
    # A fixed order, so the shuffles and ties do not depend on the order the trials finished in.
    rows.sort(key=lambda r: r.trial)
    y = np.array([r.metrics[metric] for r in rows], dtype=float)
    scale = float(np.max(np.abs(y))) if len(y) else 0.0
    if scale > 1e100:  # η² and ρ do not change with the unit; squares of 1e200 would overflow
        y = y / scale
    n = len(rows)
    rng = np.random.default_rng(seed)
    shuffles = [rng.permutation(n) for _ in range(_PERMUTATIONS)] if n else []
    results = []
    scarce: list[str] = []  # conditional parameters active in too few trials to measure
    for p in space:
        if not space.condition(p.name):
            results.append(_main_effect(p, rows, y, shuffles))
            continue
        # A conditional parameter: measured on the trials where it is active, with shuffles
        # of its own (same seed), and weighted by the share of those trials.
        mine = [i for i, r in enumerate(rows) if p.name in r.params]
        if len(mine) < MIN_ACTIVE:  # too few to tell a share from chance
            results.append(Importance(p.name, 0.0, 0.0, 0.0, 0.0))
            if n:
                scarce.append(f"{p.name} ({len(mine)})")
            continue
        sub_rng = np.random.default_rng(seed)
        sub = [sub_rng.permutation(len(mine)) for _ in range(_PERMUTATIONS)] if mine else []
        found = _main_effect(p, [rows[i] for i in mine], y[mine], sub)
        weight = len(mine) / n if n else 0.0
        results.append(
            Importance(
                p.name, found.share * weight, found.eta_squared, found.chance, found.spearman
            )
        )
    total = sum(r.share for r in results)
    if total > 1.0:  # main effects overlap when parameters interact; keep them as shares
        results = [
            Importance(r.name, r.share / total, r.eta_squared, r.chance, r.spearman)
            for r in results
        ]
    results.sort(key=lambda r: (-r.share, -abs(r.spearman), r.name))
    caution = None
    needed = enough_trials(space)
    if n < needed:
        caution = (
            f"only {n} ok trials for {len(space)} parameters: with fewer than {needed} "
            "the estimates are rough; run more trials before trusting the ranking"
        )
    if scarce:
        note = f"not measured, active in fewer than {MIN_ACTIVE} ok trials: {', '.join(scarce)}"
        caution = f"{caution}; {note}" if caution else note
    return ImportanceReport(results, n, caution)


MIN_ACTIVE = 10  # ok trials a conditional parameter needs before its share is estimated


def enough_trials(space: Space) -> int:
    """The ok trials below which importance's estimates are rough (and early stopping's
    importance looks at an earlier rung, with more trials)."""
    return max(20, 10 * len(space))


@dataclass(frozen=True)
class TrainedStage:
    """Early stopping: the trials that trained to ``epochs``, and how many reached further."""

    epochs: int
    records: list[TrialRecord]  # ok results at exactly ``epochs``, one per trial
    further: int  # trials with an ok result at more epochs than these (too few to measure)


def furthest_stage(
    results: Sequence[tuple[int, TrialRecord]], metric: str, enough: int
) -> TrainedStage | None:
    """The most epochs at which at least ``enough`` trials have an ok result; else the stage
    with the most such trials. ``results`` is (epochs, record) per rung training."""
    by_epochs: dict[int, dict[int, TrialRecord]] = {}
    for epochs, record in results:
        value = record.value(metric)
        if record.ok and isinstance(value, (int, float)) and math.isfinite(value):
            by_epochs.setdefault(epochs, {})[record.trial] = record  # the last one kept
    if not by_epochs:
        return None
    stages = sorted(by_epochs)
    full = [e for e in stages if len(by_epochs[e]) >= enough]
    chosen = full[-1] if full else max(stages, key=lambda e: (len(by_epochs[e]), e))
    further = {t for e in stages if e > chosen for t in by_epochs[e]}
    records = sorted(by_epochs[chosen].values(), key=lambda r: r.trial)
    return TrainedStage(chosen, records, len(further))


def _main_effect(
    p: Any, rows: Sequence[TrialRecord], y: np.ndarray, shuffles: list[np.ndarray]
) -> Importance:
    """η² of ``p``'s bins over ``rows`` (metric ``y``) less its chance level, and Spearman's ρ."""
    n = len(rows)
    if n < 3 or np.ptp(y) == 0:
        return Importance(p.name, 0.0, 0.0, 0.0, 0.0)
    units = np.array([p.to_unit(r.params[p.name]) for r in rows])
    bins = _bins(units, n, categorical=isinstance(p, ChoiceParam))
    eta = _eta_squared(y, bins)
    chance = float(np.mean([_eta_squared(y[s], bins) for s in shuffles]))
    rho = 0.0 if isinstance(p, ChoiceParam) else _spearman(units, y)
    return Importance(p.name, max(0.0, eta - chance), eta, chance, rho)


def _bins(units: np.ndarray, n: int, categorical: bool) -> np.ndarray:
    if categorical:
        return np.unique(units, return_inverse=True)[1]
    count = int(min(10, max(2, round(math.sqrt(n / 2)))))
    # Equal values share a rank (the average), hence a bin.
    return np.minimum((average_ranks(units) * count / n).astype(int), count - 1)


def _eta_squared(y: np.ndarray, bins: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0:
        return 0.0
    counts = np.bincount(bins)
    means = np.bincount(bins, weights=y)[counts > 0] / counts[counts > 0]
    between = float(np.sum(counts[counts > 0] * (means - y.mean()) ** 2))
    return between / total


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties given the average of the ranks they span (scipy's ``rankdata``
    minus one), so the result does not depend on the order of equal values."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.repeat((starts + ends - 1) / 2, ends - starts)
    return ranks


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx = average_ranks(x)
    ry = average_ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


# -- re-testing winners ------------------------------------------------------------------------


@dataclass(frozen=True)
class Retested:
    rank: int  # in the original run
    trial: int
    params: dict[str, Any]
    original: float
    values: list[float]  # the re-test's metric, one per fresh seed (ok trials only)
    failed: int
    mean: float | None
    std: float | None
    new_rank: int | None  # by mean, among the re-tested
    lucky: bool  # the original value lies outside what the re-test reproduces


def retest_summary(
    candidates: Sequence[TrialRecord],
    results: Mapping[int, list[TrialRecord]],
    goal: Goal,
    same_data: bool = True,
) -> tuple[list[Retested], bool]:
    """Per candidate (the original's top trials, best first): mean ± std over the fresh seeds,
    its new rank, and whether its original score was luck; and whether the ranking holds.

    Lucky: the original value is better than the re-test mean by more than two standard
    deviations of the re-test (at least 1e-12), or — for the winner — another candidate's mean
    beats its mean. On other data (``same_data`` false) scores are not comparable with the
    original ones (another dataset is easier or harder for every candidate), so only ranks
    count: the winner was luck if it is no longer first.
    """
    metric = goal.metric
    better = 1.0 if goal.direction is Direction.MAXIMIZE else -1.0
    rows: list[tuple[int, TrialRecord, list[float], int, float | None, float | None]] = []
    for rank, c in enumerate(candidates, start=1):
        recs = results.get(c.trial, [])
        values = [r.metrics[metric] for r in recs if r.value(metric) is not None]
        mean = float(np.mean(values)) if values else None
        std = float(np.std(values, ddof=1)) if len(values) > 1 else (0.0 if values else None)
        rows.append((rank, c, values, len(recs) - len(values), mean, std))
    order = sorted((r for r in rows if r[4] is not None), key=lambda r: -better * (r[4] or 0.0))
    new_rank = {r[0]: i for i, r in enumerate(order, start=1)}
    out = []
    for rank, c, values, failed, mean, std in rows:
        original = float(c.metrics[metric])
        # No fresh result (every seed failed, or the re-test was stopped): no verdict.
        lucky = (
            same_data
            and mean is not None
            and better * (original - mean) > 2 * max(std or 0.0, 1e-12)
        )
        out.append(
            Retested(
                rank,
                c.trial,
                dict(c.params),
                original,
                values,
                failed,
                mean,
                std,
                new_rank.get(rank),
                lucky,
            )
        )
    if out and out[0].new_rank not in (1, None) and out[0].mean is not None:
        out[0] = Retested(**{**out[0].__dict__, "lucky": True})
    tested = [r.new_rank for r in out if r.new_rank is not None]
    holds = tested == list(range(1, len(tested) + 1))
    return out, holds
