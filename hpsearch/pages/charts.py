"""The report's charts, as HTML sections with their captions: the optimisation history (by
trial and by wall time), the metric against each parameter, a 2-D view of the two most
important, parallel coordinates, learning curves and the workers' timeline. Each draws at
most a few thousand points (``sizing``), and says so when it draws fewer than all."""

from __future__ import annotations

from hpsearch.pages.content import Content
from hpsearch.pages.curves_chart import curves
from hpsearch.pages.front_chart import front_charts, hypervolume_history
from hpsearch.pages.pair_chart import pair
from hpsearch.pages.parallel_chart import parallel, stages_of
from hpsearch.pages.progress_chart import history, history_by_time
from hpsearch.pages.rung_chart import rung_chart
from hpsearch.pages.scatter_chart import scatter
from hpsearch.pages.sizing import POINTS, drawn_note, shown_params, thin
from hpsearch.pages.svg import _finite, escape, focus_range
from hpsearch.pages.timeline_chart import busy_share, timeline

KEEP = 50  # the best trials every chart draws, however many it thins


def charts(c: Content) -> str:
    """Every chart section of ``c`` (empty without a trial)."""
    if not c.records:
        return ""
    params = shown_params(c.space, c.importance)
    metric = escape(c.metric)
    values = [float(r.metrics[c.metric]) for r in c.ok if _finite(r.metrics.get(c.metric))]
    span = focus_range(values, c.maximize) or (0.0, 1.0)
    beyond = sum(1 for v in values if not span[0] <= v <= span[1])
    top = {r.trial for r in c.ok[: c.top]}
    keep = [r.trial for r in c.ok[:KEEP]]
    drawn = thin(c.records, keep, POINTS)
    regions = c.regions if len(c.regions) > 1 else []
    out = [_front(c), _histories(c, span)]
    if params:
        panels = "".join(
            scatter(p, drawn, c.metric, span, c.maximize, top, regions) for p in params
        )
        stopped = c.counts.get("stopped", 0)
        out.append(
            f"<h2>{metric} against each parameter</h2><p class='muted'>on each parameter's "
            f"own scale; the top {min(c.top, len(c.ok))} in orange, failures as red crosses "
            "at the worse edge"
            + (f"; {beyond} trials far worse than the rest as triangles there" if beyond else "")
            + (
                f"; the {stopped} trials stopped early (their {metric} is from fewer epochs) "
                "as grey ticks under the axis"
                if stopped
                else ""
            )
            + (
                f"; the others coloured by round, light (round 0) to dark (round "
                f"{len(regions) - 1}), each round's range shaded where it is narrower than "
                "the space"
                if regions
                else ""
            )
            + _params_note(c, params)
            + drawn_note(len(drawn), len(c.records))
            + "; hover a point for its trial and values</p><div class='charts'>"
            + panels
            + "</div>"
        )
    out.append(_rungs(c, top))
    out.append(_pair(c, params, drawn, top, regions))
    if len(params) >= 2:
        stages = stages_of(c.records, c.trained, c.metric, c.full_epochs)
        several = len(stages) > 1
        out.append(
            "<h2>Parallel coordinates</h2><p class='muted'>a line per trial"
            + (
                " that reached a stage of early stopping, coloured by its "
                f"{metric} there (a button per stage)"
                if several
                else f" trained in full, coloured by the rank of its {metric}"
            )
            + "; dark = best, the bar gives the values; the best drawn last, at most 400 lines"
            + _params_note(c, params)
            + "</p><div class='scroll-x'>"
            + parallel(params, stages, c.metric, c.maximize)
            + "</div>"
        )
    # With early stopping, the best of those stopped too: their curves end at their rung.
    leaders = [r for r in c.ranked if r.ok or r.status == "stopped"][: c.top]
    curve_chart = curves(leaders, c.curves, c.metric, c.rungs)
    if curve_chart:
        out.append(
            f"<h2>Learning curves of the top {len(leaders)}</h2>"
            + (
                "<p class='muted'>dotted: early stopping's rungs, where trials were ranked; "
                "a curve that ends at one is a trial stopped there</p>"
                if len(c.rungs) > 1
                else ""
            )
            + f"<div class='charts'>{curve_chart}</div>"
        )
    out.append(_timeline(c))
    return "".join(out)


def _front(c: Content) -> str:
    if c.goal is None or len(c.goal.objectives) < 2:
        return ""
    charts = front_charts(c.goal, c.records)
    if not charts:
        return ""
    history = hypervolume_history(c.goal, c.records)
    front = c.goal.front(c.records)
    return (
        f"<h2>Pareto front</h2><p class='muted'>{len(front)} trials that no other beats on "
        f"every metric ({escape(', '.join(c.goal.metrics))}) in orange, joined by the front's "
        "steps; the other fully trained trials in blue"
        + (", those that break a constraint as open red circles" if c.goal.constraints else "")
        + (
            "; then the front's hypervolume after each trial (each metric scaled to [0, 1] "
            "over the trials, against their worst)"
            if history
            else ""
        )
        + "</p><div class='charts'>"
        + "".join(charts)
        + (history or "")
        + "</div>"
    )


def _rungs(c: Content, top: set[int]) -> str:
    chart = (
        rung_chart(c.trained or [], c.by_trial, c.metric, c.maximize, top) if c.trained else None
    )
    if chart is None:
        return ""
    return (
        f"<h2>Early stopping: {escape(c.metric)} at each rung</h2><p class='muted'>every "
        "trial at each rung it reached, a line joining its rungs; grey: stopped there, blue: "
        f"trained in full, orange: the top {min(c.top, len(c.ok))}. A stopped trial's "
        f"{escape(c.metric)} is read against the others at its rung, never against trials "
        f"trained in full</p><div class='charts'>{chart}</div>"
    )


def _params_note(c: Content, params: list) -> str:
    hidden = len(c.space) - len(params)
    if hidden <= 0:
        return ""
    return (
        f"; the {len(params)} most important of {len(c.space)} parameters "
        "(hpsearch importance ranks them all)"
    )


def _histories(c: Content, span: tuple[float, float]) -> str:
    firsts = [info.first for info in c.rounds[1:]]
    by_trial = history(c.records, c.metric, span, c.maximize, firsts)
    if by_trial is None:
        return ""
    spans = c.timeline.spans if c.timeline is not None else []
    by_time = None
    if spans:
        start = min(s.started for s in spans)
        finished: dict[int, float] = {}
        round_start: dict[int, float] = {}
        for s in spans:
            finished[s.trial] = max(finished.get(s.trial, 0.0), s.ended - start)
            began = s.started - start
            round_start[s.round] = min(round_start.get(s.round, began), began)
        starts = [t for k, t in sorted(round_start.items()) if k > 0]
        by_time = history_by_time(c.records, finished, c.metric, span, c.maximize, starts)
    return (
        f"<h2>Optimisation history</h2><p class='muted'>each fully trained trial's "
        f"{escape(c.metric)} by trial number"
        + (" and by the wall time it finished at" if by_time else "")
        + "; the line is the best so far</p><div class='charts'>"
        + by_trial
        + (by_time or "")
        + "</div>"
    )


def _pair(c: Content, params: list, drawn: list, top: set[int], regions: list) -> str:
    if len(params) < 2 or c.importance is None or len(c.importance.params) < 2:
        return ""
    names = [i.name for i in c.importance.params[:2]]
    by_name = {p.name: p for p in c.space}
    if not all(n in by_name for n in names):
        return ""
    chart = pair(by_name[names[0]], by_name[names[1]], drawn, c.metric, c.maximize, top, regions)
    if chart is None:
        return ""
    return (
        f"<h2>{escape(names[0])} and {escape(names[1])}</h2><p class='muted'>the two most "
        f"important parameters; a point per trial trained in full, coloured by the rank of "
        f"its {escape(c.metric)} (dark = best), the top {min(c.top, len(c.ok))} ringed in "
        "orange"
        + ("; each round's region a box in its round's colour" if regions else "")
        + f"</p><div class='charts'>{chart}</div>"
    )


def _timeline(c: Content) -> str:
    spans = c.timeline.spans if c.timeline is not None else []
    chart = timeline(spans)
    if chart is None:
        return ""
    share = busy_share(spans)
    workers = len({s.worker for s in spans})
    busy = f"; the workers were busy {share:.0%} of the time" if share is not None else ""
    return (
        f"<h2>Workers</h2><p class='muted'>which trial trained where and when: a row per "
        f"worker ({workers}), a bar per training (blue ok, light blue stopped early, red "
        f"failed); gaps are idle time{busy}</p><div class='scroll-x'>{chart}</div>"
    )
