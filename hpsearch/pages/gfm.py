"""A run's summary as GitHub-flavoured Markdown: the best, the top 10, counts by status, each
parameter's range among the best trials, and the search round by round. Every cell is
escaped, so a hostile value cannot break the table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hpsearch.pages.content import Content, number, value_text
from hpsearch.space import ChoiceParam
from hpsearch.visible import visible

TOP_ROWS = 10


MARKUP = "\\`*_[]()!~|#:"  # what Markdown would read as markup (a link, an image, emphasis)
# GitHub also links bare addresses (cmark-gfm's autolink extension): ``www.`` and ``scheme:``
# are seen in the text as written, so a backslash before the '.' and the ':' is enough; an
# e-mail address (``a@b.example``, ``mailto:``, ``xmpp:``) is seen in the text once read, so
# a word joiner (zero width, no break) goes before its '@': nothing links across it.
NO_EMAIL = "&#8288;@"


def cell(value: Any) -> str:
    """A value safe anywhere in the summary: one line, invisible characters escaped
    (``hpsearch.visible``), Markdown's punctuation backslash-escaped and no '@', ':' or 'www.'
    left to link (so no link, image or emphasis can come from a run), HTML's < > & as
    entities."""
    text = visible(" ".join(str(value).split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(_escaped(text, i) for i in range(len(text)))


def _escaped(text: str, i: int) -> str:
    ch = text[i]
    if ch in MARKUP or (ch == "." and not _between_digits(text, i)):
        return "\\" + ch
    return NO_EMAIL if ch == "@" else ch


def _between_digits(text: str, i: int) -> bool:
    """A decimal point (0.95), left as it is: no link starts or ends with one."""
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(cell(h) for h in head) + " |"]
    lines.append("| " + " | ".join("---" for _ in head) + " |")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _front(c: Content, names: list[str]) -> list[str]:
    """The Pareto front's trials (several goals), their metrics and values."""
    from hpsearch.goals import measure, shown

    front = c.goal.front(c.records)
    if not front:
        return []
    metrics = c.goal.metrics
    rows = [
        [r.trial, *[shown(m, measure(r, m)) for m in metrics]]
        + [value_text(c.space, n, r.params[n]) if n in r.params else "-" for n in names]
        for r in front[:TOP_ROWS]
    ]
    more = f" (the first {TOP_ROWS})" if len(front) > TOP_ROWS else ""
    head = [f"Pareto front: {len(front)} trials no other beats on every metric{more}:", ""]
    return [*head, *table(["trial", *metrics, *names], rows), ""]


def render(c: Content) -> str:
    lines = [f"### hpsearch: {cell(c.title)}", ""]
    counts = ", ".join(f"{n} {s}" for s, n in c.counts.items() if n) or "no trials yet"
    lines.append(
        f"Run {cell(c.run_id)}: **{cell(c.status)}**, {c.done} of {c.planned} trials ({counts})."
    )
    lines.append("")
    if c.best is not None:
        values = ", ".join(f"{k}={value_text(c.space, k, v)}" for k, v in c.best.params.items())
        where = f", round {c.best.round}" if len(c.rounds) > 1 else ""
        lines.append(
            f"**Best**: {cell(c.metric)} = **{number(c.best.metrics.get(c.metric))}** "
            f"(trial {c.best.trial}{cell(where)}): {cell(values) or '(nothing searched)'}"
        )
    else:
        lines.append("**Best**: no ok trial.")
    lines.append("")
    lines += table(["status", "trials"], [[s, n] for s, n in c.counts.items() if n] or [["-", 0]])
    lines.append("")
    names = [p.name for p in c.space]
    if c.goal is not None and len(c.goal.objectives) > 1:
        lines += _front(c, names)
    if c.ranked:
        lines.append(f"Top {min(TOP_ROWS, len(c.ranked))} of {len(c.ranked)}:")
        lines.append("")
        rows = [
            [i, r.trial, r.status, number(r.metrics.get(c.metric))]
            + [value_text(c.space, n, r.params[n]) if n in r.params else "-" for n in names]
            for i, r in enumerate(c.ranked[:TOP_ROWS], start=1)
        ]
        lines += table(["rank", "trial", "status", c.metric, *names], rows)
        lines.append("")
    best_share = c.ok[: max(3, math.ceil(0.1 * len(c.ok)))]
    if names and best_share:
        ranges: list[list[Any]] = []
        for p in c.space:
            used = [r.params[p.name] for r in best_share if p.name in r.params]
            if not used:
                ranges.append([p.name, "-", p.describe()])
                continue
            if isinstance(p, ChoiceParam):
                seen = sorted({p.format(v) for v in used})
                found = ", ".join(seen)
            else:
                found = f"{p.format(min(used))} – {p.format(max(used))}"
            ranges.append([p.name, found, p.describe()])
        lines.append(f"Ranges of the best {len(best_share)} ok trials:")
        lines.append("")
        lines += table(["parameter", "best trials", "searched"], ranges)
        lines.append("")
    if len(c.rounds) >= 2:
        lines.append("Rounds:")
        lines.append("")
        lines += table(
            ["round", "what", "trials", "space", "best", "best so far"],
            [
                [
                    i.round,
                    i.summary,
                    i.trials,
                    f"{i.range_left:.0%}",
                    number(i.best),
                    number(i.best_so_far),
                ]
                for i in c.rounds
            ],
        )
        lines.append("")
    if c.failures:
        lines.append("Failures:")
        lines.append("")
        lines += table(
            ["status", "trials", "reason"],
            [[f["status"], f["count"], f["reason"][:200]] for f in c.failures[:10]],
        )
        lines.append("")
    return "\n".join(lines)
