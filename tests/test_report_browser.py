"""The report's charts as a user sees them, in headless Chromium: every chart kind present for
a plain, an early-stopping, a multi-round and a failing run, none blank, no label over another;
and a 50,000-trial run's page within its size (bench/report_size.py times it)."""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest

from .helpers import DROP, TRAINER, merged, run_json
from .test_html_report import _browser, _browser_programs, _not_blank, _report

OVERLAPS = """
return [...document.querySelectorAll('svg')].flatMap(s => {
  const boxes = [...s.querySelectorAll('text')]
    .filter(t => t.getClientRects().length > 0)
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i][1], b = boxes[j][1];
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
        b.top < a.bottom - 1) out.push(s.getAttribute('aria-label') + ': ' + boxes[i][0] +
        ' / ' + boxes[j][0]);
  }
  return out;
});
"""

SECTIONS = {
    "plain": [
        "Leaderboard",
        "Optimisation history",
        "loss against each parameter",
        "Parallel coordinates",
        "Workers",
        "Importance",
        "Failures by reason",
    ],
    "rounds": ["Pareto front", "Optimisation history", "Rounds", "Parallel coordinates", "Workers"],
    "halving": [
        "Early stopping: val_accuracy at each rung",
        "Learning curves of the top 5",
        "Parallel coordinates",
        "Workers",
    ],
}


def _look(driver, page: Path, tmp_path: Path, kind: str) -> list[str]:
    """Load ``page``; check its sections, that no chart is blank or has text over text and
    that the browser logged no error. Returns the page's section titles."""
    from selenium.webdriver.common.by import By

    driver.get(page.as_uri())
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    titles = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    for title in SECTIONS[kind]:
        assert title in titles, (kind, title, titles)
    assert driver.execute_script(OVERLAPS) == []
    for k, chart in enumerate(driver.find_elements(By.CSS_SELECTOR, "svg")):
        if not chart.is_displayed():
            continue
        shot = tmp_path / f"{kind}-{k}.png"
        shot.write_bytes(chart.screenshot_as_png)
        assert _not_blank(shot, 0.02), (kind, chart.get_attribute("aria-label"))
    return titles


@pytest.mark.slow
def test_every_chart_kind_in_a_browser(tmp_path, make_config):
    _browser_programs()
    from selenium.webdriver.common.by import By

    (tmp_path / "obj.py").write_text(
        "def objective(params, seed):\n"
        "    if params['kind'] == 'fail':\n"
        "        raise ValueError('a failing kind')\n"
        "    return {'loss': (params['x'] - 0.3) ** 2 + params['y'] * 0.01, 'size': params['y']}\n"
    )
    base = {
        "objective": {"python": "obj:objective", "workdir": str(tmp_path)},
        "space": {
            "x": {"scale": "linear", "min": 0.0, "max": 1.0},
            "y": {"scale": "log", "min": 1e-3, "max": 1.0},
            "kind": {"choice": ["fine", "fail", "good"]},
        },
        "search": {"trials": 24, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "processes", "jobs": 2},
    }
    plain = run_json("run", str(make_config("plain", base=base)))["run_dir"]
    several = {  # a search of several rounds and several goals, one constraint
        "metric": DROP,
        "direction": DROP,
        "metrics": {"loss": "minimize", "size": "minimize"},
        "constraints": ["size <= 0.5"],
    }
    rounds = run_json(
        "run",
        str(
            make_config(
                "rounds", base=merged(base, {"search": several}), zoom={"rounds": 2, "trials": 8}
            )
        ),
    )["run_dir"]
    halving = run_json(
        "run",
        str(
            make_config(
                "halving",
                base=merged(TRAINER, {"search": {"trials": 12}, "model": {"epochs": 9}}),
                early_stop={"method": "halving", "min_epochs": 1, "eta": 3},
            )
        ),
    )["run_dir"]
    driver = _browser()
    try:
        for kind, run_dir in (("plain", plain), ("rounds", rounds), ("halving", halving)):
            _report(run_dir)
            _look(driver, Path(run_dir) / "report.html", tmp_path, kind)
        # Parallel coordinates of an early-stopping run: a stage per rung, the first with
        # every trial; a click shows another stage's lines and colour bar, and only those.
        buttons = driver.find_elements(By.CSS_SELECTOR, ".stage-button")
        assert len(buttons) == 3 and buttons[0].text.endswith("(12)")

        def visible_lines():
            return len(
                [p for p in driver.find_elements(By.CSS_SELECTOR, "path.line") if p.is_displayed()]
            )

        assert visible_lines() == 12
        buttons[-1].click()
        assert 0 < visible_lines() < 12 and buttons[-1].get_attribute("aria-pressed") == "true"
        assert driver.execute_script(OVERLAPS) == []
    finally:
        driver.quit()


def _fifty_thousand(tmp_path: Path, make_config) -> Path:
    """A finished run of 50,000 trials: a real run of 20, its logs then grown by hand (a run
    of 50,000 takes 20 s here; reading and reporting them is what is tested)."""
    (tmp_path / "tiny.py").write_text(
        "def objective(params, seed):\n    return {'loss': (params['a'] - 0.2) ** 2}\n"
    )
    config = make_config(
        "big",
        base={
            "objective": {"python": "tiny:objective", "workdir": str(tmp_path)},
            "space": {
                "a": {"scale": "linear", "min": 0.0, "max": 1.0},
                "b": {"scale": "log", "min": 1e-3, "max": 1.0},
                "c": {"choice": ["x", "y", "z"]},
                "d": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
            },
            "search": {"trials": 20, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        },
    )
    run_dir = Path(run_json("run", str(config))["run_dir"])
    total = 50_000
    rng = np.random.default_rng(0)
    a, b = rng.random(total), 10 ** rng.uniform(-3, 0, total)
    c, d = rng.choice(["x", "y", "z"], total), 1 - 10 ** rng.uniform(-3, -1, total)
    lines = io.StringIO()
    for i in range(20, total):
        failed = i % 97 == 0
        lines.write(
            json.dumps(
                {
                    "trial": i,
                    "round": 0,
                    "params": {"a": a[i], "b": b[i], "c": str(c[i]), "d": d[i]},
                    "seed": i,
                    "status": "failed" if failed else "ok",
                    "metrics": {} if failed else {"loss": (a[i] - 0.2) ** 2},
                    "epochs": None,
                    "seconds": 0.001,
                    "error": "ValueError: no" if failed else None,
                }
            )
            + "\n"
        )
    with open(run_dir / "trials.jsonl", "a") as f:
        f.write(lines.getvalue())
    rounds = json.loads((run_dir / "rounds.jsonl").read_text())
    rounds["trials"] = total
    (run_dir / "rounds.jsonl").write_text(json.dumps(rounds) + "\n")
    return run_dir


UNPACK = """
const done = arguments[arguments.length - 1];
const text = document.getElementById('csv-data').textContent.trim();
const bytes = Uint8Array.from(atob(text), c => c.charCodeAt(0));
const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
new Response(stream).text().then(t => done(t.split('\\n').length - 1));
"""


@pytest.mark.slow
def test_fifty_thousand_trials_make_a_page_under_five_megabytes(tmp_path, make_config):
    run_dir = _fifty_thousand(tmp_path, make_config)
    html = _report(run_dir)
    size = (run_dir / "report.html").stat().st_size
    assert size < 5_000_000, size
    assert "the top 500 of 50,000 trials" in html
    assert "2,000 of the 50,000 trials drawn" in html
    assert html.count("<tr>") < 600  # the leaderboard's top rows, the summary's, no more
    packed = html.split('id="csv-data">')[1].split("<")[0]
    rows = gzip.decompress(base64.b64decode(packed)).decode().splitlines()
    assert len(rows) == 50_001 and rows[0].startswith("rank,trial")
    driver = _browser()
    try:
        driver.get((run_dir / "report.html").as_uri())
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert driver.execute_async_script(UNPACK) == 50_001  # header and rows, as downloaded
    finally:
        driver.quit()
