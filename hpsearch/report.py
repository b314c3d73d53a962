"""Presentation: rich tables for the terminal. Nothing here computes a result."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rich.table import Table

from hpsearch.config import Config
from hpsearch.hyperparams import REGISTRY
from hpsearch.sampling import Trial
from hpsearch.space import ChoiceParam, NumericParam, Param

QUANTILES = (0.1, 0.5, 0.9)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")


def space_table(config: Config) -> Table:
    """One row per searched parameter: scale, range and the 10/50/90 % quantiles of a draw."""
    table = _table(f"search space of {config.name}")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("scale", no_wrap=True)
    table.add_column("range", no_wrap=True)
    for q in QUANTILES:
        table.add_column(f"{q:.0%}", justify="right", no_wrap=True, min_width=7)
    for p in config.space:
        if isinstance(p, ChoiceParam):
            table.add_row(p.name, "choice", p.describe(), "", "", "")
        else:
            # Sampling is uniform in unit space, so the q-quantile of a draw is from_unit(q).
            quantiles = [p.format(p.from_unit(q)) for q in QUANTILES]
            kind = p.kind + (" (int)" if p.integer else "")
            table.add_row(p.name, kind, p.describe(), *quantiles)
    return table


def trials_table(params: Sequence[Param], trials: Sequence[Trial]) -> Table:
    table = _table(f"{len(trials)} sampled trials")
    table.add_column("trial", justify="right")
    for p in params:
        table.add_column(p.name, justify="right")
    table.add_column("seed", justify="right", style="dim")
    for trial in trials:
        cells = [p.format(trial.params[p.name]) for p in params]
        table.add_row(str(trial.index), *cells, str(trial.seed))
    return table


def spread_table(params: Sequence[Param], trials: Sequence[Trial]) -> Table:
    """Share of the trials in each stretch of every parameter's range, on its own scale."""
    table = _table("spread of the sampled values")
    table.add_column("name", style="bold")
    table.add_column("share of trials per interval")
    for p in params:
        values = [trial.params[p.name] for trial in trials]
        table.add_row(
            p.name, "   ".join(f"{label} {share:.0%}" for label, share in _shares(p, values))
        )
    return table


def _shares(p: Param, values: list) -> list[tuple[str, float]]:
    total = max(len(values), 1)
    if isinstance(p, ChoiceParam):
        return [
            (p.format(c), sum(p.index(v) == i for v in values) / total)
            for i, c in enumerate(p.choices)
        ]
    assert isinstance(p, NumericParam)
    inner = [t for t in p.scale.ticks(p.low, p.high) if p.low < t < p.high]
    edges = [p.low, *inner, p.high]
    shares = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        count = sum(lo <= v < hi or (last and v == hi) for v in values)
        shares.append((f"{p.format(lo)}–{p.format(hi)}", count / total))
    return shares


def registry_table() -> Table:
    table = _table("hyperparameters of the built-in trainer")
    for column in ("name", "type", "default", "valid range", "scale"):
        table.add_column(column, no_wrap=True)
    table.add_column("description")
    for h in REGISTRY.values():
        default = str(h.default).lower() if isinstance(h.default, bool) else str(h.default)
        scale = h.suggested_scale if h.type in ("int", "float") else "choice"
        table.add_row(h.name, h.type, default, h.describe_range(), scale, h.description)
    return table
