"""timeline.jsonl: when and where each training ran, written by the driver as trainings are
handed out and come back; read for the report's workers chart, never trusted (a bad line is
skipped, a FIFO is not opened for reading), never part of what a run found."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hpsearch.store.timeline import read_timeline

from .helpers import invoke, run_json


def _lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_each_training_is_handed_out_then_comes_back_from_a_worker(make_config):
    run_dir = Path(run_json("run", str(make_config(run={"jobs": 2})))["run_dir"])
    lines = _lines(run_dir)
    handed = [x["trial"] for x in lines if "dispatched" in x]
    back = [x for x in lines if "worker" in x]
    assert sorted(handed) == sorted(x["trial"] for x in back) == list(range(6))
    for x in back:  # after its hand-out, on a worker of this machine, for its seconds
        out = next(y for y in lines if y.get("dispatched") and y["trial"] == x["trial"])
        assert x["started"] >= out["dispatched"] - 0.01 and x["status"] == "ok"
        assert x["worker"].count(":") == 1 and x["seconds"] > 0 and x["epochs"] == 4
    timeline = read_timeline(run_dir)
    assert len(timeline.spans) == 6 and timeline.in_flight == {} and timeline.skipped == 0
    assert 1 <= len({s.worker for s in timeline.spans}) <= 2
    # Not a record of the search: trials.jsonl has no time of day and no worker.
    trial = json.loads((run_dir / "trials.jsonl").read_text().splitlines()[0])
    assert "worker" not in trial and "started" not in trial

    # Hand-edited or hostile, it only loses its picture.
    path = run_dir / "timeline.jsonl"
    good = path.read_text()
    path.write_text(
        good
        + "not json\n"
        + json.dumps({"trial": 9, "worker": "w", "started": 1e308, "seconds": 1e308}) + "\n"
        + json.dumps({"trial": -1, "dispatched": 5}) + "\n"
        + json.dumps({"trial": 3, "worker": 7, "started": 1, "seconds": 1, "status": "ok"}) + "\n"
        + json.dumps({"trial": 7, "round": 0, "dispatched": 1.0}) + "\n"
        + '{"trial": 5, "wor'
    )  # fmt: skip
    timeline = read_timeline(run_dir)
    assert len(timeline.spans) == 6 and timeline.skipped == 5 and set(timeline.in_flight) == {7}
    assert invoke("report", str(run_dir)).exit_code == 0
    assert "<h2>Workers</h2>" in (run_dir / "report.html").read_text()
    path.unlink()
    os.mkfifo(path)  # opening it to read would wait for a writer forever
    assert read_timeline(run_dir).spans == []
    result = invoke("report", str(run_dir))
    assert result.exit_code == 0, result.output
    assert "<h2>Workers</h2>" not in (run_dir / "report.html").read_text()
