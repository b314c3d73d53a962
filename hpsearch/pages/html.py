"""The one-file HTML report of a run: everything inline (styles, SVG charts, a few lines of
JavaScript for sorting), a Content-Security-Policy that forbids any request, every value from
the run escaped (a run directory is untrusted input)."""

from __future__ import annotations

from hpsearch.pages import svg
from hpsearch.pages.charts import charts
from hpsearch.pages.content import Content, number, value_text
from hpsearch.pages.leaderboard_table import SCRIPT as CSV_SCRIPT
from hpsearch.pages.leaderboard_table import _clip, leaderboard
from hpsearch.pages.sizing import shown_params
from hpsearch.pages.svg import escape
from hpsearch.visible import visible

IMPORTANCE_BARS = 30  # parameters given a bar; ``hpsearch importance`` lists all
FAILURE_GROUPS = 20  # reasons listed; an objective's messages may all differ
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:1100px;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.45em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .5em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:12.5px}td,th{padding:2px 8px;text-align:right;
white-space:nowrap}th{background:#f3f3f3;position:sticky;top:0}
#leaderboard th{cursor:pointer;user-select:none}#leaderboard th:after{content:" \\2195";
color:#aaa}tbody tr:nth-child(odd){background:#fafafa}td.l,th.l{text-align:left}
.scroll{max-height:360px;overflow:auto;border:1px solid #e4e4e4}
.charts{display:flex;flex-wrap:wrap;gap:10px}svg{background:#fff}
.frame{fill:none;stroke:#bbb}.grid{stroke:#eee}.tick{font-size:9.5px;fill:#555}
.name{font-size:11px;fill:#222}.ok{fill:#4c78a8;fill-opacity:.75}.top{fill:#f58518;
stroke:#7a3d00;stroke-width:.6}.stopped{fill:#999;fill-opacity:.5}.bad{stroke:#d62728;
stroke-width:1.4;fill:none}.rd{fill-opacity:.8}.band{fill-opacity:.09}.line{fill:none;stroke-width:1.1;stroke-opacity:.55}
.line:hover,.curve:hover{stroke-width:3;stroke-opacity:1}.axis{stroke:#333}
.curve{fill:none;stroke-width:1.8}.rung{stroke:#888;stroke-dasharray:3 3}
.best-line{fill:none;stroke:#f58518;stroke-width:1.8}
.front-line{fill:none;stroke:#f58518;stroke-width:1.4;stroke-dasharray:4 2}
.infeasible{fill:none;stroke:#d62728;stroke-width:1.2}
.rung-path{fill:none;stroke-width:.8;stroke-opacity:.45}.stopped-path{stroke:#999}
.ok-path{stroke:#4c78a8;stroke-opacity:.8}.top-path{stroke:#f58518;stroke-opacity:1;stroke-width:1.4}
.bar{fill:#4c78a8}.chance{stroke:#d62728;stroke-width:2}
pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px;max-height:300px}
.muted{color:#777}.status-ok{color:#2a7a2a}.status-bad{color:#b22}
button{font:inherit;font-size:12px}
#tip{position:absolute;background:#222;color:#fff;padding:3px 7px;border-radius:3px;
font-size:12px;pointer-events:none;max-width:560px;white-space:normal;z-index:9}
[data-t]{cursor:default}
h1,p,li{overflow-wrap:anywhere}.reason{overflow-wrap:anywhere;word-break:break-word}
.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.clip{fill:#999}.stopped-tick{stroke:#888;stroke-width:1.2}.ring{stroke:#f58518;stroke-width:2}
.region{fill:none;stroke-width:1.8;stroke-dasharray:6 3}.scroll-x{overflow-x:auto}
.stage-button[aria-pressed=true]{font-weight:bold;background:#dde7f3}
"""

SCRIPT = """
(function(){
  var labels=JSON.parse(document.getElementById("labels").textContent||"{}");
  var tip=document.getElementById("tip");
  document.addEventListener("mouseover",function(e){
    var t=e.target.getAttribute?e.target.getAttribute("data-t"):null;
    if(t===null||!Object.prototype.hasOwnProperty.call(labels,t)){tip.hidden=true;return;}
    tip.textContent=labels[t];tip.hidden=false;
    tip.style.left=(e.pageX+12)+"px";tip.style.top=(e.pageY+12)+"px";
  });
})();
(function(){
  var table=document.getElementById("leaderboard");
  if(!table){return;}
  var heads=table.tHead.rows[0].cells;
  for(var i=0;i<heads.length;i++){(function(col){
    heads[col].addEventListener("click",function(){
      var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var dir=heads[col].getAttribute("data-dir")==="asc"?"desc":"asc";
      for(var k=0;k<heads.length;k++){heads[k].removeAttribute("data-dir");}
      heads[col].setAttribute("data-dir",dir);
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute("data-v"),y=b.cells[col].getAttribute("data-v");
        var nx=x===""?NaN:Number(x),ny=y===""?NaN:Number(y),c;
        if(isNaN(nx)&&isNaN(ny)){c=(x||"").localeCompare(y||"");}
        else if(isNaN(nx)){return 1;}else if(isNaN(ny)){return -1;}else{c=nx-ny;}
        return dir==="asc"?c:-c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  })(i);}
  var stages=document.querySelectorAll(".stage-button");
  stages.forEach(function(b){b.addEventListener("click",function(){
    var k=b.getAttribute("data-stage");
    document.querySelectorAll(".stage,.stage-bar").forEach(function(g){
      g.style.display=g.getAttribute("data-stage")===k?"":"none";});
    stages.forEach(function(o){o.setAttribute("aria-pressed",o===b?"true":"false");});
  });});
  var copy=document.getElementById("copy-best");
  if(copy){copy.addEventListener("click",function(){
    var text=document.getElementById("best-yaml").textContent;
    var range=document.createRange();range.selectNodeContents(document.getElementById("best-yaml"));
    var sel=window.getSelection();sel.removeAllRanges();sel.addRange(range);
    if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).catch(function(){});}
  });}
})();
"""


def page(c: Content) -> str:
    """The whole report as one HTML document."""
    body = "\n".join(
        p
        for p in (
            _summary(c),
            leaderboard(c),
            charts(c),
            _importance(c),
            _rounds(c),
            _retest(c),
            _failures(c),
        )
        if p
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(c.title)}</title><style>{STYLE}</style></head><body>",
        body,
        f'<p class="muted">hpsearch {escape(c.version)} · {escape(c.run_id)}</p>',
        '<div id="tip" hidden></div>',
        f'<script type="application/json" id="labels">{_labels(c, body)}</script>',
        f"<script>{SCRIPT}{CSV_SCRIPT}</script></body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _labels(c: Content, body: str) -> str:
    """What hovering a trial's point or line shows, once per trial drawn in ``body``: a JSON
    object in the page, safe inside its script element (no ``<`` at all, so nothing can
    close it)."""
    import json
    import re

    params = shown_params(c.space, c.importance)
    drawn = {int(t) for t in re.findall(r'data-t="(\d+)"', body)}
    text = json.dumps(
        {
            str(r.trial): visible(svg.label(r, c.metric, params))
            for r in c.records
            if r.trial in drawn
        }
    )
    return text.replace("<", "\\u003c")  # JSON's own escape: the element cannot end early


def _summary(c: Content) -> str:
    counts = ", ".join(f"{n} {escape(s)}" for s, n in c.counts.items() if n) or "no trials yet"
    rows = [
        ("run", c.run_id),
        ("kind", c.kind),
        ("status", c.status),
        ("trials", f"{c.done} of {c.planned}: {counts}"),
        ("goal", c.goal_text or f"{c.direction} {c.metric}"),
        ("started", c.started),
        ("wall time", f"{c.wall_time:.1f} s" if c.wall_time is not None else "-"),
    ]
    if len(c.rounds) > 1:
        rows.append(("rounds", f"{len(c.rounds)} ({c.rounds[-1].strategy})"))
    if c.parent:
        rows.append(("re-test of", c.parent))
    body = "".join(
        f'<tr><th class="l">{escape(k)}</th><td class="l">{v if k == "trials" else escape(str(v))}'
        "</td></tr>"
        for k, v in rows
    )
    best = "<p>No trial meets the constraints.</p>" if c.ok else "<p>No ok trial.</p>"
    if c.best is not None:
        shown = {p.name for p in shown_params(c.space, c.importance)}
        values = " ".join(
            f"<code>{escape(k)}={escape(value_text(c.space, k, v))}</code>"
            for k, v in c.best.params.items()
            if k in shown
        )
        more = sum(k not in shown for k in c.best.params)
        if more:
            values += f" <span class='muted'>and {more} more (best.yaml has them all)</span>"
        where = f", round {c.best.round}" if len(c.rounds) > 1 else ""
        best = (
            f"<p><b>best</b>: {escape(c.metric)} = <b>{number(c.best.metrics.get(c.metric))}"
            f"</b> (trial {c.best.trial}{where}) {values}</p>"
        )
    yaml = ""
    if c.best_yaml:
        yaml = (
            "<details><summary>best.yaml, copy-ready: <code>hpsearch run best.yaml</code> "
            're-trains the winner</summary><p><button id="copy-best" type="button">select '
            f'it</button></p><pre id="best-yaml">{escape(c.best_yaml)}</pre></details>'
        )
    return f"<h1>{escape(c.title)}</h1><table>{body}</table>{best}{yaml}" + (
        f"<p class='muted'>{escape(c.note)}</p>" if c.note else ""
    )


def _importance(c: Content) -> str:
    if c.importance is None or not c.importance.params:
        return ""
    rows = [(i.name, i.share, i.chance) for i in c.importance.params[:IMPORTANCE_BARS]]
    notes = [n for n in (c.importance.basis, c.importance.caution) if n]
    more = len(c.importance.params) - len(rows)
    if more > 0:
        notes.insert(0, f"and {more} more parameters: hpsearch importance lists them all")
    return (
        "<h2>Importance</h2><p class='muted'>share of the metric's variance each parameter "
        "explains on its own (η² of its bins, less what the same bins explain by chance, the "
        f"red tick; as <code>hpsearch importance</code> prints it); {c.importance.trials} ok "
        "trials</p>"
        + svg.bars(rows, lambda v: f"{v:.0%}")
        + "".join(f"<p class='muted'>{escape(n)}</p>" for n in notes)
    )


def _rounds(c: Content) -> str:
    if len(c.rounds) < 2:
        return ""
    names: list[str] = []
    for info in c.rounds:
        names += [n for n in info.ranges if n not in names]
    columns = ["round", "what", "trials", "space", "best", "best so far", *names]
    head = "".join(f"<th>{escape(h)}</th>" for h in columns)
    rows = []
    for info in c.rounds:
        cells = [
            str(info.round),
            info.summary,
            str(info.trials) if info.trials == info.planned else f"{info.trials}/{info.planned}",
            f"{info.range_left:.0%}",
            number(info.best),
            number(info.best_so_far),
        ]
        cells += [info.ranges.get(n, "") for n in names]
        rows.append("<tr>" + "".join(f"<td class='l'>{escape(x)}</td>" for x in cells) + "</tr>")
    return (
        "<h2>Rounds</h2><p class='muted'>each round's region (its share of the search's "
        "space and each parameter's range), what it was for, and its best</p>"
        "<div class='scroll'><table><thead><tr>"
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _retest(c: Content) -> str:
    retest = c.retest
    if not isinstance(retest, dict) or not isinstance(retest.get("winners"), list):
        return ""
    head = ["rank", "trial", "original", "mean", "std", "seeds", "new rank", "lucky"]
    rows = []
    for w in retest["winners"]:
        if not isinstance(w, dict):
            continue
        values = w["values"] if isinstance(w.get("values"), list) else []
        cells = [
            w.get("rank"),
            w.get("trial"),
            number(w.get("original")),
            number(w.get("mean")),
            number(w.get("std")),
            len(values),
            w.get("new_rank"),
            w.get("lucky"),
        ]
        rows.append("<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in cells) + "</tr>")
    holds = retest.get("ranking_holds")
    verdict = (
        "the original ranking holds"
        if holds is True
        else "the ranking changed on fresh seeds"
        if holds is False
        else "no verdict"
    )
    return (
        f"<h2>Re-test of {escape(str(retest.get('of')))}</h2><p>{verdict}</p><table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _failures(c: Content) -> str:
    if not c.failures:
        return ""
    items = []
    for f in c.failures[:FAILURE_GROUPS]:
        example = c.by_trial.get(f["trials"][0]) if f["trials"] else None
        values = ""
        if example is not None:
            values = " ".join(f"{k}={value_text(c.space, k, v)}" for k, v in example.params.items())
            values = f"<br><span class='muted'>e.g. trial {example.trial}: {escape(values)}</span>"
        shown = ", ".join(map(str, f["trials"][:12])) + (" …" if f["count"] > 12 else "")
        items.append(
            f"<li><b>{f['count']} {escape(f['status'])}</b>: "
            f'<span class="reason">{escape(_clip(f["reason"], 400))}</span> '
            f"<span class='muted'>(trials {escape(shown)})</span>{values}</li>"
        )
    more = len(c.failures) - FAILURE_GROUPS
    if more > 0:
        items.append(f"<li class='muted'>and {more} more reasons (hpsearch show lists them)</li>")
    return "<h2>Failures by reason</h2><ul>" + "".join(items) + "</ul>"
