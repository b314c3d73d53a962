"""Tables and lines for the terminal (rich): the space, trials, runs, importance, re-tests and
a search's rounds. Every value whole: a table that does not fit hides columns and says so
(``console.Fitted``). Nothing here computes a result."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rich.table import Table

from hpsearch.config import Config
from hpsearch.console import Fitted, rightmost
from hpsearch.record import format_metric
from hpsearch.sampling import Trial
from hpsearch.space import ChoiceParam, NumericParam, Param, describe_condition
from hpsearch.trainer.registry import REGISTRY

if TYPE_CHECKING:
    from hpsearch.history import RoundInfo
    from hpsearch.rounds import Region, Round
    from hpsearch.space import Space
    from hpsearch.strategies import Proposal

QUANTILES = (0.1, 0.5, 0.9)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")


def _fitted(table: Table, keep: int) -> Fitted:
    """``table``; on a narrow terminal its columns after the first ``keep`` may be hidden."""
    return Fitted(table, rightmost(table, keep))


def space_table(config: Config) -> Fitted:
    """One row per searched parameter: scale, range, its condition (in a conditional space)
    and the 10/50/90 % quantiles of a draw."""
    table = _table(f"search space of {config.name}")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("scale", no_wrap=True)
    table.add_column("range", no_wrap=True)
    conditional = bool(config.space.conditions)
    if conditional:  # before the quantiles: a narrow terminal hides those first
        table.add_column("when", no_wrap=True)
    for q in QUANTILES:
        table.add_column(f"{q:.0%}", justify="right", no_wrap=True, min_width=7)
    for p in config.space:
        when = (
            [describe_condition(config.space.condition(p.name)) or "always"] if conditional else []
        )
        if isinstance(p, ChoiceParam):
            table.add_row(p.name, "choice", p.describe(), *when, "", "", "")
        else:
            # Sampling is uniform in unit space, so the q-quantile of a draw is from_unit(q).
            quantiles = [p.format(p.from_unit(q)) for q in QUANTILES]
            kind = p.kind + (" (int)" if p.integer else "")
            table.add_row(p.name, kind, p.describe(), *when, *quantiles)
    return _fitted(table, keep=4 if conditional else 3)


def trials_table(params: Sequence[Param], trials: Sequence[Trial]) -> Fitted:
    table = _table(f"{len(trials)} sampled trials")
    table.add_column("trial", justify="right", no_wrap=True)
    for p in params:
        table.add_column(p.name, justify="right", no_wrap=True)
    table.add_column("seed", justify="right", style="dim", no_wrap=True)
    for trial in trials:
        cells = [p.format(trial.params[p.name]) if p.name in trial.params else "-" for p in params]
        table.add_row(str(trial.index), *cells, str(trial.seed))
    return _fitted(table, keep=1)


def spread_table(params: Sequence[Param], trials: Sequence[Trial]) -> Table:
    """Share of the trials in each stretch of every parameter's range, on its own scale."""
    table = _table("spread of the sampled values")
    table.add_column("name", style="bold", no_wrap=True)
    # Free text: wraps between intervals on a narrow terminal.
    table.add_column("share of trials per interval", min_width=30)
    for p in params:
        values = [trial.params[p.name] for trial in trials if p.name in trial.params]
        shares = "   ".join(f"{label} {share:.0%}" for label, share in _shares(p, values))
        if len(values) < len(trials):  # a conditional parameter: of the trials it is active in
            shares += f"   (active in {len(values)} of {len(trials)})"
        table.add_row(p.name, shares)
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


def registry_table(registry: Mapping[str, Any] | None = None) -> Fitted:
    """One row per hyperparameter: its tier (the course's tuning priority), type, default,
    valid range, suggested scale and meaning."""
    table = _table("hyperparameters of the built-in trainer")
    for column in ("name", "tier", "type", "default"):
        table.add_column(column, no_wrap=True)
    # On a narrow terminal the type is hidden, then the default (both at 80 columns); the
    # range and the description wrap (between words); the tier and the scale stay whole.
    table.add_column("valid range", min_width=12)
    table.add_column("scale", no_wrap=True)
    table.add_column("description", min_width=24)
    for h in (registry or REGISTRY).values():
        default = str(h.default).lower() if isinstance(h.default, bool) else str(h.default)
        if h.default is None:  # as its general setting (the description names it)
            default = "-"
        scale = h.suggested_scale if h.type in ("int", "float") else "choice"
        tier = "-" if h.tier is None else str(h.tier)
        table.add_row(h.name, tier, h.type, default, h.describe_range(), scale, h.description)
    return Fitted(table, ["type", "default"])


# -- reporting on runs -------------------------------------------------------------------------


def summary_lines(summary: dict, run_dir, goal: str | None = None) -> list[str]:
    """``goal``: the config's words for what ranks (several goals), else the summary's."""
    counts = summary.get("counts") or {}
    done = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no trials yet"
    goal = goal or f"{summary.get('direction', '?')} {summary.get('metric', '?')}"
    lines = [
        f"run {summary.get('run_id', run_dir)}: {summary.get('status', '?')}, "
        f"{summary.get('trials_done', 0)} of {summary.get('trials_planned', '?')} "
        f"trials ({done})",
        f"{goal}; started "
        f"{summary.get('started', '?')}, wall time {summary.get('wall_time') or 0:.1f} s",
    ]
    budget = summary.get("time_budget")
    if isinstance(budget, dict) and budget.get("reached"):
        from hpsearch.timebudget import spoken

        seconds, left = budget.get("seconds"), budget.get("trials_to_go")
        if isinstance(seconds, (int, float)) and isinstance(left, int) and seconds > 0:
            lines.append(
                f"its time budget ({spoken(seconds)}) was spent with {left} trials to go; "
                "hpsearch resume goes on"
            )
    if summary.get("retest"):
        lines.append(f"a re-test of {summary['retest'].get('of')}")
    rounds = summary.get("rounds")
    best = summary.get("best")
    if isinstance(rounds, list) and len(rounds) > 1:
        where = (
            f"; its best in round {best['round']}"
            if isinstance(best, dict) and "round" in best
            else ""
        )
        first = rounds[-1] if isinstance(rounds[-1], dict) else {}
        strategy = summary.get("strategy") or first.get("strategy") or "?"
        lines.append(f"{len(rounds)} rounds ({strategy}){where}")
    warm = summary.get("warm_start")
    if isinstance(warm, dict) and isinstance(warm.get("trials"), int):
        lines.append(f"its model started from {warm['trials']} trials of {warm.get('run', '?')}")
    if summary.get("layout"):
        lines.append(f"written by hpsearch {summary['layout']}")
    retried = summary.get("retried")
    if isinstance(retried, dict) and isinstance(retried.get("trials"), int):
        attempts = retried.get("attempts")
        kept = (
            f" ({attempts} earlier attempts in attempts.jsonl)" if isinstance(attempts, int) else ""
        )
        lines.append(f"{retried['trials']} trials retried{kept}")
    extended = summary.get("extended")
    if isinstance(extended, list) and extended and isinstance(extended[0], dict):
        lines.append(f"grown from {extended[0].get('from')} trials by resume --trials")
    lines.append(f"path: {run_dir}")
    return lines


def runs_table(rows: list[dict]) -> Fitted:
    table = _table(f"{len(rows)} run{'' if len(rows) == 1 else 's'}, newest first")
    table.add_column("run", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=8)
    table.add_column("ok", justify="right", no_wrap=True, min_width=5)
    table.add_column("best", justify="right", no_wrap=True, min_width=6)
    table.add_column("rounds", justify="right", no_wrap=True, min_width=2)
    table.add_column("started UTC", no_wrap=True, min_width=11)
    for r in rows:
        best = format_metric(r["best"])
        if r.get("front") is not None:  # several goals: the front's first, and its size
            best += f" (front of {r['front']})"
        table.add_row(
            r["run_id"],
            _status_cell(r),
            f"{r['ok']}/{r['trials']}",
            best,
            str(r["rounds"]) if r["kind"] == "search" else r["kind"],
            (r["started"] or "")[5:16].replace("T", " "),
        )
    return _fitted(table, keep=2)


def _status_cell(row: Mapping[str, Any]) -> str:
    """A run's status; one that has not run all its trials says how far it got
    (``stopped, 38 of 200``)."""
    planned, done = row.get("planned"), row["trials"]
    if row.get("out_of_time") and isinstance(planned, int) and done < planned:
        return f"time budget, {done} of {planned}"
    if row["status"] != "complete" and isinstance(planned, int) and done < planned:
        return f"{row['status']}, {done} of {planned}"
    return str(row["status"])


def compare_table(runs: Sequence[Any]) -> Fitted:
    """Best metric and params of several runs (``hpsearch.runs.Run``) side by side; on a
    narrow terminal the runs on the right are hidden (and named)."""
    columns = []
    for run in runs:
        column = run.best_column()
        space = run.config.space
        column["formatted"] = {
            n: (space[n].format(v) if n in space else str(v)) for n, v in column["params"].items()
        }
        column["searched"] = space.names
        columns.append(column)
    table = _table("best trial of each run")
    table.add_column("", no_wrap=True)
    for c in columns:
        table.add_column(c["run_id"], justify="right", no_wrap=True)
    names: list[str] = []
    for c in columns:
        names += [n for n in c["params"] if n not in names]
    # The parameters some run searched, and fixed ones that differ; not the shared defaults.
    names = [
        n
        for n in names
        if any(n in c["searched"] for c in columns)
        or len({repr(c["params"].get(n)) for c in columns}) > 1
    ]
    table.add_row("status", *[c["status"] for c in columns])
    table.add_row("metric", *[f"{c['direction']} {c['metric']}" for c in columns])
    table.add_row("best", *[format_metric(c["value"]) for c in columns])
    if any(c.get("front") is not None for c in columns):
        table.add_row("Pareto front", *[_front_cell(c) for c in columns])
    table.add_row("trials ok", *[f"{c['ok']}/{c['trials']}" for c in columns])
    for name in names:
        table.add_row(name, *[c["formatted"].get(name, "-") for c in columns])
    return _fitted(table, keep=2)


def _front_cell(column: Mapping[str, Any]) -> str:
    """``4 trials: val_accuracy 0.93–0.97, parameters 420–5604`` (several goals), else ``-``."""
    front = column.get("front")
    if front is None:
        return "-"
    from hpsearch.goals import measure, shown

    spans = []
    for m in column.get("metrics") or []:
        values = [v for r in front if (v := measure(r, m)) is not None]
        if values:
            spans.append(f"{m} {shown(m, min(values))}–{shown(m, max(values))}")
    return f"{len(front)} trials" + (": " + ", ".join(spans) if spans else "")


def importance_table(report) -> Fitted:
    table = _table(f"parameter importance over {report.trials} ok trials")
    for column in ("parameter", "share", "", "η² (raw)", "chance", "Spearman ρ"):
        justify: Literal["left", "right"] = "left" if column in ("parameter", "") else "right"
        table.add_column(column, justify=justify, no_wrap=True)
    for item in report.params:
        bar = "█" * round(item.share * 30)
        table.add_row(
            item.name,
            f"{item.share:.0%}",
            bar,
            f"{item.eta_squared:.2f}",
            f"{item.chance:.2f}",
            f"{item.spearman:+.2f}",
        )
    return _fitted(table, keep=3)


def retest_table(rows, metric: str) -> Fitted:
    table = _table(f"re-test: {metric} over fresh seeds")
    for column in ("rank", "trial", "original", "mean ± std", "seeds", "new rank", "verdict"):
        justify: Literal["left", "right"] = "right" if column != "verdict" else "left"
        table.add_column(column, justify=justify, no_wrap=True)
    for r in rows:
        spread = "-" if r.mean is None else f"{format_metric(r.mean)} ± {format_metric(r.std)}"
        verdict = "no data" if r.mean is None else ("luck" if r.lucky else "holds")
        table.add_row(
            str(r.rank),
            str(r.trial),
            format_metric(r.original),
            spread,
            f"{len(r.values)}" + (f" (+{r.failed} failed)" if r.failed else ""),
            "-" if r.new_rank is None else str(r.new_rank),
            verdict,
        )
    return Fitted(table, ["seeds", "new rank", "original"])


def retest_verdict(rows, holds: bool, data_source: str | None) -> list[str]:
    """Whether the ranking holds, and each winner that was luck, in words."""
    lines = [
        "the original ranking holds"
        if holds
        else "the original ranking does not hold: the re-test orders the winners differently"
    ]
    for r in (r for r in rows if r.lucky):
        if data_source is not None:
            lines.append(
                f"trial {r.trial} (rank {r.rank}) was luck: on {data_source} it ranks "
                f"{r.new_rank} (other data: ranks are compared, not scores)"
            )
        else:
            mean = r.mean if r.mean is not None else float("nan")
            lines.append(
                f"trial {r.trial} (rank {r.rank}, {format_metric(r.original)}) was luck: fresh "
                f"seeds give {format_metric(mean)} ± {format_metric(r.std or 0.0)}"
            )
    return lines


# -- rounds ----------------------------------------------------------------------------------


def rounds_table(rounds: Sequence[RoundInfo], metric: str) -> Fitted:
    """One row per round: its trials, how much of the space it searched, its best, the best
    so far, and what it did, in words."""
    table = Table(
        title="rounds", title_justify="left", box=None, header_style="bold", pad_edge=False
    )
    for column in ("round", "trials", "space", f"best {metric}", "best so far"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("what", min_width=24)  # words: they wrap on a narrow terminal
    for r in rounds:
        trials = str(r.trials) if r.trials == r.planned else f"{r.trials}/{r.planned}"
        table.add_row(
            str(r.round),
            trials,
            f"{r.range_left:.0%}",
            format_metric(r.best),
            format_metric(r.best_so_far),
            r.summary,
        )
    return Fitted(table, rightmost(table, keep=3))


def region_lines(root: Space, parent: Region, region: Region, notes: Mapping[str, str]) -> str:
    """Each parameter of ``parent``: its range -> the region's, on its own scale, and why."""
    from hpsearch.rounds import INACTIVE
    from hpsearch.space import NumericParam

    described, before = region.describe(root), parent.describe(root)
    lines = []
    for p in root:
        if p.name not in parent.space:
            continue  # fixed or inactive already: nothing changes
        note = notes.get(p.name, "")
        was, now = before[p.name], described[p.name]
        old, new = parent.space[p.name], region.space.get(p.name)
        if now == was and isinstance(new, NumericParam) and new != old:
            # Narrower, but not at the scale's usual digits: show enough of them to see it.
            assert isinstance(old, NumericParam)
            was, now = f"{old.low:.6g}–{old.high:.6g}", f"{new.low:.6g}–{new.high:.6g}"
        if now == was:
            lines.append(f"  {p.name}: {now} ({note or 'kept'})")
        else:
            why = f" ({note})" if note and now != INACTIVE else ""
            lines.append(f"  {p.name}: {was} -> {now}{why}")
    return "\n".join(lines)


def zoom_text(root: Space, parent: Region, proposal: Proposal, number: int) -> str:
    """What ``hpsearch zoom`` is about to run: the round in words, then each range."""
    lines = region_lines(root, parent, proposal.region, proposal.notes)
    return f"round {number}: {proposal.summary}\n{lines}"


def round_lines(root: Space, rounds: Sequence[Round]) -> list[str]:
    """``show --rounds``: each round in words, then its parameters' ranges."""
    out = []
    for r in rounds:
        out.append(f"round {r.number} ({r.strategy}, trials {r.first}-{r.stop - 1}): {r.summary}")
        for name, text in r.region.describe(root).items():
            note = r.notes.get(name)
            out.append(f"    {name}: {text}" + (f" ({note})" if note else ""))
    return out
