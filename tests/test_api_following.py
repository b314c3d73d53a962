"""Following a search from the Python API: a callback that fails leaves a resumable run, and
the search shows its progress on stderr unless ``quiet=True``."""

from __future__ import annotations

import json

import pytest

import hpsearch
from hpsearch.events import TrialFinished
from hpsearch.lock import RunLock


def test_a_failing_on_event_leaves_the_run_interrupted_and_resume_finishes_it(
    make_config, tmp_path
):
    seen = []

    def plot_breaks_after_one(event):
        if isinstance(event, TrialFinished):
            seen.append(event)
            if len(seen) == 1:
                raise ValueError("the plot broke")

    with pytest.raises(ValueError, match="the plot broke"):
        hpsearch.run(make_config(), trials=3, backend="sequential", on_event=plot_breaks_after_one)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
    RunLock(run_dir).acquire().release()  # free: a RunError were it still held
    assert len(hpsearch.load_run(run_dir).trials) == 1
    done = hpsearch.resume(run_dir, backend="sequential")  # the same process, at once
    assert done.status == "complete" and len(done.trials) == 3


class Leave(BaseException):
    """Not an Exception (as SystemExit is not)."""


@pytest.mark.parametrize("raised", [SystemExit(3), Leave()], ids=["SystemExit", "BaseException"])
def test_an_on_event_raising_sys_exit_leaves_the_run_interrupted_too(make_config, tmp_path, raised):
    def leave(event):
        raise raised

    with pytest.raises(type(raised)):
        hpsearch.run(make_config(), trials=2, backend="sequential", on_event=leave, quiet=True)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert hpsearch.load_run(run_dir).status == "interrupted"  # never "running" in this process
    assert hpsearch.resume(run_dir, backend="sequential", quiet=True).status == "complete"


def test_a_search_shows_its_progress_on_stderr_unless_quiet(make_config, capsys):
    path = make_config()
    run = hpsearch.run(path, trials=3, backend="sequential")
    shown = capsys.readouterr()
    assert shown.out == ""  # stdout stays the caller's
    lines = shown.err.splitlines()
    assert lines[0] == f"run {run.run_id}: 3 of 3 trials to go, maximize val_accuracy"
    assert [line.split(" trial ")[0] for line in lines[1:]] == ["[1/3]", "[2/3]", "[3/3]"]
    hpsearch.zoom(run, trials=2, backend="sequential")
    assert "[5/5] trial 4 ok" in capsys.readouterr().err
    hpsearch.run(path, trials=3, backend="sequential", quiet=True)
    hpsearch.zoom(run, trials=2, backend="sequential", quiet=True)
    assert capsys.readouterr() == ("", "")
