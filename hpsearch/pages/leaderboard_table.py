"""The report's leaderboard: its top rows as a table that sorts on a click (rank, trial, the
metric with its status and epochs beside it, the parameters, the other metrics), and the
whole of it — every trial, every parameter — as leaderboard.csv, compressed inside the page
and unpacked by the browser when the button is pressed."""

from __future__ import annotations

import base64
import csv as _csv
import gzip
import io
import math
from typing import Any

from hpsearch.goals import measure
from hpsearch.goals import shown as metric_text
from hpsearch.pages.content import Content, number, value_text
from hpsearch.pages.sizing import ROWS, shown_params
from hpsearch.pages.svg import escape

CSV_BYTES = 3_000_000  # the embedded CSV's share of the page at most

# Unpacks the embedded CSV into a file to save: no request is made (the page's policy allows
# none); DecompressionStream is in every browser since 2023.
SCRIPT = """
(function(){
  var button=document.getElementById("csv-button"),data=document.getElementById("csv-data");
  if(!button||!data){return;}
  button.addEventListener("click",function(){
    var bytes=Uint8Array.from(atob(data.textContent.trim()),function(c){return c.charCodeAt(0);});
    var stream=new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).blob().then(function(blob){
      var link=document.createElement("a");
      link.href=URL.createObjectURL(new Blob([blob],{type:"text/csv"}));
      link.download=button.getAttribute("data-name");
      document.body.appendChild(link);link.click();link.remove();
    });
  });
})();
"""


def leaderboard(c: Content) -> str:
    """The section: the table of the top ``ROWS`` trials and the CSV of all."""
    if not c.ranked:
        return "<h2>Leaderboard</h2><p>No trials yet.</p>"
    goals = c.goal.metrics if c.goal is not None else [c.metric]
    others = [m for m in c.metric_columns if m not in goals]
    params = shown_params(c.space, c.importance)
    names = [p.name for p in params]
    rounds = ["round"] if len(c.rounds) > 1 else []
    # Several goals: each trial's front (1: on it) and whether it meets the constraints.
    front = ["front"] if c.goal is not None else []
    feasible = ["feasible"] if c.goal is not None and c.goal.constraints else []
    fronts = c.goal.fronts(c.ranked[:ROWS]) if c.goal is not None else []
    head = ["rank", "trial", *rounds, *goals, *front, *feasible, "status", "epochs", *names]
    head += others
    head += ["seconds", "error"]
    cells = [
        "<tr>"
        + "".join(
            f'<th class="{"l" if h in ("status", "error") else ""}">{escape(h)}</th>' for h in head
        )
        + "</tr>"
    ]
    rows = []
    for position, r in enumerate(c.ranked[:ROWS], start=1):
        values: list[tuple[Any, str, str]] = [
            (position, str(position), ""),
            (r.trial, str(r.trial), ""),
        ]
        if rounds:
            values.append((r.round, str(r.round), ""))
        for m in goals:
            value = measure(r, m) if c.goal is not None else r.metrics.get(m)
            values.append((value, metric_text(m, value), ""))
        if front:
            f = fronts[position - 1]
            values.append((f, "-" if f is None else str(f), ""))
        if feasible:
            ok = c.goal.feasible(r) if r.ok else None
            values.append((ok, "-" if ok is None else "yes" if ok else "no", "l"))
        values.append((r.status, r.status, "l"))
        values.append((r.epochs, "-" if r.epochs is None else str(r.epochs), ""))
        values += [
            (r.params.get(n), value_text(c.space, n, r.params[n]) if n in r.params else "-", "")
            for n in names
        ]
        values += [(r.metrics.get(m), number(r.metrics.get(m)), "") for m in others]
        values += [
            (r.seconds, "-" if r.seconds is None else f"{r.seconds:.2f}", ""),
            (_clip(r.error or "", 200), _clip(r.error or ""), "l"),
        ]
        rows.append(
            "<tr>"
            + "".join(
                f'<td class="{cls}" data-v="{escape(_sort_value(v))}">{escape(text)}</td>'
                for v, text, cls in values
            )
            + "</tr>"
        )
    shown = len(rows)
    what = (
        f"{len(c.ranked):,} trials"
        if shown == len(c.ranked)
        else (f"the top {shown:,} of {len(c.ranked):,} trials")
    )
    if len(params) < len(c.space):
        what += f", the {len(params)} most important of {len(c.space)} parameters"
    return (
        f"<h2>Leaderboard</h2><p class='muted'>{what}; click a column to sort. "
        + _download(c)
        + "</p><div class='scroll'><table id='leaderboard'><thead>"
        + "".join(cells)
        + "</thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _download(c: Content) -> str:
    if not c.csv:
        return ""
    rows, packed = packed_csv(c.csv)
    what = f"Download every trial (leaderboard.csv, {rows:,} rows)"
    if rows < len(c.ranked):
        what = f"Download the top {rows:,} (the run's leaderboard.csv has all {len(c.ranked):,})"
    return (
        f'<button type="button" id="csv-button" data-name="{escape(c.run_id)}-leaderboard.csv">'
        f"{escape(what)}</button>"
        f'<script type="application/gzip;base64" id="csv-data">{packed}</script>'
    )


def packed_csv(csv: str, limit: int = CSV_BYTES) -> tuple[int, str]:
    """(rows, the CSV gzipped in base64) with as many of its first rows as fit ``limit``
    bytes: a page of 50,000 trials of many parameters stays a page one can open."""
    packed = _pack(csv)
    rows = list(_csv.reader(io.StringIO(csv)))  # a cell may hold a line break
    count = len(rows) - 1
    for _ in range(4):
        if len(packed) <= limit or count <= 0:
            return count, packed
        count = int(count * limit / len(packed) * 0.97)  # gzip's ratio is close to even
        out = io.StringIO()
        _csv.writer(out, lineterminator="\n").writerows(rows[: count + 1])
        packed = _pack(out.getvalue())
    return 0, _pack("")


def _pack(text: str) -> str:
    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def _sort_value(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)) and math.isfinite(v):
        return repr(v)
    return "" if v is None else str(v)


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
