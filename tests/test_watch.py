"""``hpsearch watch RUN``: a run in progress seen from another shell, read-only, until it ends.

Most tests watch a finished run made to look as if it were going on (its summary marked
running, some trials cut, ``.lock`` naming this test process as its live driver, or a pid no
process has as a dead one) and change it between two looks; one test watches a real run that
is killed (kill -9) and resumed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hpsearch import interrupts, watching

from .helpers import invoke, one_line_error, run_json, spawn_cli

DEAD = 4_194_305  # above Linux's PID_MAX_LIMIT: no process has this pid
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

OBJECTIVE = """\
import os
import time

def f(params, seed):
    time.sleep(float(os.environ.get("WATCHED_SLEEP", "0")))
    return {"loss": (params["x"] - 0.3) ** 2}
"""


def _config(directory: Path, trials: int, **run) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "watched.py").write_text(OBJECTIVE)
    doc = {
        "name": "watched",
        "objective": {"python": "watched:f"},
        "space": {
            "x": {"scale": "linear", "min": 0.0, "max": 1.0},
            # Long names: the view is wider than 80 columns unless fitted to them.
            "learning_rate_of_the_first_layer": {"scale": "log", "min": 1e-4, "max": 1.0},
            "momentum_of_the_optimizer": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
            "batch_size_for_training": {"choice": [32, 64, 128]},
        },
        "search": {"trials": trials, "metric": "loss", "direction": "minimize"},
        "run": {"runs_dir": str(directory / "runs"), **run},
    }
    path = directory / "watched.yaml"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A complete run of 6 trials (0 to 5, written in order)."""
    path = _config(tmp_path_factory.mktemp("finished"), 6, backend="sequential", jobs=1)
    return Path(run_json("run", str(path))["run_dir"])


@pytest.fixture
def copy(finished, tmp_path) -> Path:
    """A copy of the finished run, in ``tmp_path/runs``."""
    return Path(shutil.copytree(finished, tmp_path / "runs" / finished.name))


def _holder(pid: int) -> str:
    since = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    token = f"{pid}x{'0' * 12}"
    return json.dumps({"pid": pid, "host": socket.gethostname(), "token": token, "since": since})


def _summary(run_dir: Path, **changes) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, **changes}))


def _going_on(run_dir: Path, keep: int, driver: int = os.getpid(), torn: bool = True) -> list[str]:
    """The run as its driver ``driver`` had it after ``keep`` trials (and the start of the
    next line, cut, if ``torn``); returns the lines of its trials.jsonl."""
    lines = (run_dir / "trials.jsonl").read_text().splitlines()
    cut = lines[keep][:20] if torn else ""
    (run_dir / "trials.jsonl").write_text("".join(f"{line}\n" for line in lines[:keep]) + cut)
    _summary(run_dir, status="running")
    (run_dir / ".lock").write_text(_holder(driver) + "\n")
    return lines


def _timeline(run_dir: Path, *items: dict | str) -> None:
    with (run_dir / "timeline.jsonl").open("a") as f:
        for item in items:
            f.write((item if isinstance(item, str) else json.dumps(item)) + "\n")


def _steps(monkeypatch, *steps: Callable[[], None]) -> None:
    """watch's sleeps each make the next change to the run; then Ctrl-C."""
    todo = list(steps)

    def sleep(seconds: float) -> None:
        if not todo:
            raise interrupts.Interrupted(signal.SIGINT)
        todo.pop(0)()

    monkeypatch.setattr(watching, "time", types.SimpleNamespace(time=time.time, sleep=sleep))


def _files(root: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- a run over already ----------------------------------------------------------------------


def test_a_finished_run_is_shown_once_and_watch_exits_0(copy, monkeypatch):
    runs = str(copy.parent)
    for args in (["latest", "--runs-dir", runs], [copy.name[:12], "--runs-dir", runs, "--once"]):
        result = invoke("watch", *args)
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert f"run {copy.name}: complete" in out
        assert "trials: 6 of 6 (6 ok)" in out and "round 0: the whole space" in out
        assert re.search(r"best loss \d\.\d{4} \(trial \d\): x=0\.\d+", out)
        assert "top 5 of 6 ok trials" in out and "in flight" not in out
        assert out.splitlines()[-1].startswith(f"run {copy.name} complete: 6 trials (6 ok) in ")
    import hpsearch

    (look,) = list(hpsearch.watch(copy))  # the Python API: one snapshot of a run over
    assert (look.ended, look.done, look.planned, len(look.top)) == ("complete", 6, 6, 5)
    assert look == hpsearch.snapshot(copy.name, runs)


def test_json_is_one_object_per_line(copy):
    result = invoke("watch", str(copy), "--json")
    assert result.exit_code == 0 and result.stderr == ""
    (doc,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert doc["run_id"] == copy.name and doc["ended"] == "complete"
    assert (doc["trials_done"], doc["trials_planned"], doc["counts"]) == (6, 6, {"ok": 6})
    assert doc["best"]["trial"] == doc["top"][0]["trial"] and doc["in_flight"] is None


def test_an_unknown_run_a_bad_interval_or_a_corrupt_line_is_one_line_exit_2(copy, tmp_path):
    one_line_error(invoke("watch", "nope", "--runs-dir", str(tmp_path)), "no run 'nope'")
    result = invoke("watch", str(copy), "--interval", "0")
    assert result.exit_code == 2 and "above 0" in result.output
    lines = (copy / "trials.jsonl").read_text().splitlines()
    lines[1] = "{not json"
    (copy / "trials.jsonl").write_text("\n".join(lines) + "\n")
    one_line_error(invoke("watch", str(copy)), "trials.jsonl:2: corrupt trial record")


def test_an_interrupted_run_and_a_dead_driver_end_watch_with_their_codes(copy):
    _summary(copy, status="interrupted")
    result = invoke("watch", str(copy))
    assert result.exit_code == 130, result.output
    end = result.stdout.splitlines()[-1]
    assert "was interrupted after 6 of 6 trials; resume with: hpsearch resume" in end
    _going_on(copy, 4, driver=DEAD)
    result = invoke("watch", str(copy), "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["status"] == "stopped"
    assert f"stopped after 4 of 6 trials: its driver (pid {DEAD}) is gone" in result.stderr
    assert f"hpsearch resume {copy}" in result.stderr  # a path outside the working directory


def test_a_driver_on_another_machine_is_not_judged_from_here(copy):
    _going_on(copy, 4, driver=DEAD)
    holder = json.loads((copy / ".lock").read_text())
    (copy / ".lock").write_text(json.dumps({**holder, "host": "elsewhere"}))
    result = invoke("watch", str(copy), "--once")
    assert result.exit_code == 0, result.output
    assert f"running (driver pid {DEAD} on elsewhere, not checked from here)" in result.stdout


def test_early_stopping_rungs_are_counted(tmp_path):
    path = _config(tmp_path, 9, backend="sequential", jobs=1)
    doc = json.loads(path.read_text())
    doc["early_stop"] = {"method": "halving", "min_epochs": 1, "eta": 3, "max_epochs": 9}
    (tmp_path / "watched.py").write_text(
        "def f(params, seed, budget):\n    return {'loss': (params['x'] - 0.3) ** 2 / budget}\n"
    )
    path.write_text(json.dumps(doc))
    run_dir = run_json("run", str(path))["run_dir"]
    result = invoke("watch", run_dir, "--once")
    assert "rungs: 1 epoch 9/9 · 3 epochs 3/3 · 9 epochs 1/1" in result.stdout


# -- a run going on --------------------------------------------------------------------------


def test_a_pipe_gets_the_view_then_a_line_per_change_then_how_it_ended(copy, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):  # they would style a pipe on purpose
        monkeypatch.delenv(name, raising=False)
    lines = _going_on(copy, 3)
    t = time.time()
    _timeline(
        copy,
        {"trial": 0, "round": 0, "dispatched": t - 60},  # an earlier driver's: not in flight
        "not json",
        "[3]",
        {"trial": "3", "dispatched": t},
        {"trial": 3, "round": 0, "dispatched": t},
        {"trial": 4, "round": 0, "dispatched": t},
    )

    def fourth() -> None:
        (copy / "trials.jsonl").write_text("".join(f"{line}\n" for line in lines[:4]))
        done = {"worker": "vm:1", "started": t, "seconds": 0.2, "epochs": None, "status": "ok"}
        _timeline(copy, {"trial": 3, "round": 0, **done}, {"trial": 5, "dispatched": t})

    def the_end() -> None:
        (copy / "trials.jsonl").write_text("".join(f"{line}\n" for line in lines))
        _summary(copy, status="complete", finished=datetime.now(timezone.utc).isoformat())

    _steps(monkeypatch, lambda: None, fourth, lambda: None, the_end)
    result = invoke("watch", str(copy), "--interval", "0.01")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b" not in out and result.stderr == ""
    first, rest = out.split("top 3 of 3 ok trials", 1)
    assert f"run {copy.name}: running (driver pid {os.getpid()} on " in first
    assert "trials: 3 of 6 (3 ok)" in first  # the torn fourth line set aside, not repaired
    assert "in flight: 2 (trials 3, 4)" in first
    progress = [line for line in rest.splitlines() if "[4/6]" in line]
    assert len(progress) == 1 and "4 ok · in flight: 2 (trials 4, 5) · best" in progress[0]
    assert f"run {copy.name}: complete" in rest and "top 5 of 6 ok trials" in rest
    assert rest.splitlines()[-1].startswith(f"run {copy.name} complete: 6 trials (6 ok)")


def test_json_lines_follow_the_run(copy, monkeypatch):
    (copy / "timeline.jsonl").unlink()  # a run of hpsearch 0.2 has none
    lines = _going_on(copy, 2, torn=False)
    _steps(
        monkeypatch,
        lambda: (copy / "trials.jsonl").write_text("\n".join(lines[:5]) + "\n"),
        lambda: _summary(copy, status="complete", finished=datetime.now().astimezone().isoformat()),
    )
    result = invoke("watch", str(copy), "--json", "--interval", "0.01")
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["status"], d["trials_done"], d["ended"]) for d in docs] == [
        ("running", 2, None),
        ("running", 5, None),
        ("complete", 5, "complete"),
    ]
    assert docs[0]["in_flight"] is None  # no timeline.jsonl: nothing said of what runs
    assert docs[0]["driver"]["pid"] == os.getpid()


def test_a_run_unreadable_for_a_while_is_a_warning_while_its_driver_lives(copy, monkeypatch):
    lines = _going_on(copy, 4, torn=False)
    good = (copy / "trials.jsonl").read_text()

    def the_end() -> None:
        (copy / "trials.jsonl").write_text("".join(f"{line}\n" for line in lines))
        _summary(copy, status="complete", finished=datetime.now(timezone.utc).isoformat())

    _steps(
        monkeypatch,
        lambda: (copy / "trials.jsonl").write_text(good.replace('"trial"', '"trail"', 1)),
        lambda: _timeline(copy, {"trial": 4, "dispatched": time.time()}),
        the_end,
    )
    result = invoke("watch", str(copy))
    assert result.exit_code == 0, result.output
    (warning,) = result.stderr.splitlines()  # once, though the run changed meanwhile
    assert warning.startswith("warning: ") and "trials.jsonl:1:" in warning
    assert warning.endswith("(showing the last look)")
    assert result.stdout.splitlines()[-1].startswith(f"run {copy.name} complete: 6 trials")


def test_watching_reads_only_and_ctrl_c_ends_it_quietly(copy, monkeypatch):
    _going_on(copy, 3)
    _timeline(copy, {"trial": 3, "round": 0, "dispatched": time.time()}, '{"trial": 4, "ro')
    before = _files(copy.parent.parent)
    with open(copy / ".lock", "rb+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a driver holds it
        _steps(monkeypatch, lambda: None, lambda: None)
        result = invoke("watch", str(copy))
    assert result.exit_code == 130
    assert "trials: 3 of 6 (3 ok)" in result.stdout and "in flight: 1 (trial 3)" in result.stdout
    assert result.stderr == "" and "Traceback" not in result.output
    assert _files(copy.parent.parent) == before  # not a byte, not a time, not a new file


# -- a real run: killed, resumed -------------------------------------------------------------


def _wait(condition: Callable[[], bool], what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _trials(run_dir: Path) -> int:
    try:
        return (run_dir / "trials.jsonl").read_text().count("\n")
    except OSError:
        return 0


def _in_a_terminal(
    args: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen, threading.Thread, list[bytes]]:
    """``hpsearch ARGS`` with a pseudo-terminal for its stdout and stderr; what it writes is
    collected by a thread."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    out: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal's other side is closed: the process ended
                break
            if not data:
                break
            out.append(data)
        os.close(master)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return process, reader, out


@pytest.mark.slow
def test_a_live_run_killed_then_resumed_is_watched_to_its_end(tmp_path, monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "CI"):  # a pipe unstyled, a terminal live
        monkeypatch.delenv(name, raising=False)
    path = _config(tmp_path, 40, jobs=2)
    runs = tmp_path / "runs"
    # Trials of 0.4 s until the kill (room for a slow machine), 0.15 s once resumed.
    driver = spawn_cli(["run", str(path), "--quiet"], tmp_path, {"WATCHED_SLEEP": "0.4"})
    _wait(lambda: any(_trials(d) >= 2 for d in runs.glob("*")), "the run did not get going")
    (run_dir,) = runs.iterdir()
    shown = os.path.relpath(run_dir, tmp_path)

    first = spawn_cli(["watch", "latest", "--interval", "0.2"], tmp_path)
    assert first.stdout is not None
    assert first.stdout.readline().startswith(f"run {run_dir.name}: running (driver pid ")
    os.killpg(driver.pid, signal.SIGKILL)  # kill -9, workers and all
    driver.communicate(timeout=30)
    out, err = first.communicate(timeout=30)
    assert first.returncode == 1, (out, err)
    assert err == "" and "\x1b" not in out
    end = out.splitlines()[-1]
    assert f"its driver (pid {driver.pid}) is gone; resume with: hpsearch resume {shown}" in end
    killed_at = _trials(run_dir)
    assert killed_at < 40

    resume = spawn_cli(["resume", shown, "--quiet"], tmp_path, {"WATCHED_SLEEP": "0.15"})
    holder = run_dir / ".lock"
    _wait(lambda: f'"pid": {resume.pid},' in holder.read_text(), "resume took no lock")
    piped = spawn_cli(["watch", shown, "--interval", "0.2"], tmp_path)
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1", "TERM": "xterm-256color"}
    terminal, reader, written = _in_a_terminal(["watch", run_dir.name, "-i", "0.2"], runs, env)
    resume.communicate(timeout=60)
    assert resume.returncode == 0
    out, err = piped.communicate(timeout=30)
    assert piped.returncode == 0 and err == "", err
    assert "\x1b" not in out
    assert f"run {run_dir.name}: running (driver pid {resume.pid} on " in out.splitlines()[0]
    change = r"^\d:\d\d:\d\d \[\d+/40\] \d+ ok · in flight: \d \(trials [\d, ]+\) · best "
    assert re.search(change, out, re.M)
    assert out.splitlines()[-1].startswith(f"run {run_dir.name} complete: 40 trials (40 ok)")
    assert terminal.wait(timeout=30) == 0
    reader.join(timeout=10)
    screen = b"".join(written).decode()
    assert "\x1b[?25l" in screen  # a live view: the cursor hidden while it redraws
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", screen)  # NO_COLOR: no colour
    text = ANSI.sub("", screen).replace("\r\n", "\n")
    flat = " ".join(text.split())  # the last line, wrapped at 80 columns, comes last
    assert re.search(
        rf"run {run_dir.name} complete: 40 trials \(40 ok\) in \S+ s; best loss \S+$", flat
    )
    assert max(len(line) for part in text.split("\n") for line in part.split("\r")) <= 80
    assert "hidden: " in text  # the top table, fitted: columns left out, and named
    assert killed_at < 40 == _trials(run_dir)
