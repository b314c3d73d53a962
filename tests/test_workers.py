"""Worker processes under stress: crashes with one worker, timeouts an objective defeats,
orphans after kill -9, two drivers on one run, interrupts and closed pipes, deaths at scale."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .helpers import DROP, invoke, trial_records


def noop(param: str = "x") -> str:
    """A module whose ``noop`` returns the parameter ``param``."""
    return f"def noop(params, seed):\n    return params[{param!r}]\n"


# Objectives of these tests take x in 0..1 and report a loss.
OWN = {
    "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
    "search": {"metric": "loss", "direction": "minimize"},
}


@pytest.fixture
def config(make_config):
    """``config(objective, trials, **sections) -> Path``: ``c.yaml``, a search of x with the
    ``objective`` section given."""

    def make(objective: dict, trials: int, **sections) -> Path:
        return make_config(
            "c", base=OWN, objective=objective, search={"trials": trials}, **sections
        )

    return make


def spawn(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hpsearch", *args],
        cwd=cwd,
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def wait_for_lines(file: Path, count: int, process: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if file.exists() and len(file.read_text().splitlines()) >= count:
            return
        if process.poll() is not None:
            raise AssertionError(process.communicate())
        time.sleep(0.02)
    raise AssertionError(f"{file} did not reach {count} lines")


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# -- 4. one worker, in a process of its own --------------------------------------------------------

CRASHY = """\
import ctypes, os, signal
def f(params, seed):
    if params['x'] < 0.2:
        ctypes.string_at(0)  # segfault
    if params['x'] > 0.8:
        os.kill(os.getpid(), signal.SIGKILL)
    return params['x']
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", [["--jobs", "1"], ["--jobs", "-1", "--one-core"]])
def test_with_one_worker_a_crashing_trial_fails_alone(tmp_path, config, how):
    (tmp_path / "crashy.py").write_text(CRASHY)
    path = config({"python": "crashy:f"}, trials=10)
    args = [a for a in how if a != "--one-core"]
    one_core = (lambda: os.sched_setaffinity(0, {0})) if "--one-core" in how else None
    process = spawn("run", str(path), *args, "--json", "--quiet", cwd=tmp_path, preexec_fn=one_core)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    doc = json.loads(out)
    recs = trial_records(doc["run_dir"])
    assert len(recs) == 10 and doc["status"] == "complete"
    for r in recs:
        crash = r["params"]["x"] < 0.2 or r["params"]["x"] > 0.8
        assert r["status"] == ("failed" if crash else "ok"), r
        if crash:
            assert "worker process died" in r["error"]
            assert "SIGSEGV" in r["error"] or "SIGKILL" in r["error"]
    assert "Traceback" not in err


def test_sequential_is_the_in_process_debugging_backend(tmp_path, config):
    (tmp_path / "where.py").write_text("import os\ndef f(params, seed):\n    return os.getpid()\n")
    path = config({"python": "where:f"}, trials=3)
    for backend, same in (("sequential", True), ("processes", False)):
        doc = json.loads(invoke("run", str(path), "--json", "--quiet", "--backend", backend).stdout)
        pids = {r["metrics"]["loss"] for r in trial_records(doc["run_dir"])}
        assert (pids == {os.getpid()}) is same


# -- 12. timeouts that objectives try to defeat ----------------------------------------------------

STUBBORN = """\
import time
def f(params, seed):
    if params['x'] < 0.5:
        while True:  # swallows the alarm, again and again
            try:
                time.sleep(10)
            except BaseException:
                pass
    return params['x']
"""


@pytest.mark.slow
def test_a_trial_that_swallows_its_timeout_is_killed_and_recorded_timeout(tmp_path, config):
    (tmp_path / "stubborn.py").write_text(STUBBORN)
    path = config({"python": "stubborn:f", "timeout": 0.5}, trials=6, run={"jobs": 2})
    started = time.monotonic()
    result = invoke("run", str(path), "--json", "--quiet")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    recs = trial_records(json.loads(result.stdout)["run_dir"])
    assert len(recs) == 6
    for r in recs:
        if r["params"]["x"] < 0.5:
            assert r["status"] == "timeout" and "did not stop at its timeout" in r["error"]
        else:
            assert r["status"] == "ok"
    assert took < 30


LEAVER = """\
import os, subprocess, sys
mode = sys.argv[1]
if mode == "background":
    child = subprocess.Popen(["sleep", "30"])  # keeps stdout open
elif mode == "session":
    child = subprocess.Popen(["setsid", "sleep", "30"])
else:  # blocks in a session of its own until the timeout
    child = subprocess.Popen(["setsid", "sleep", "30"])
    open("pids", "a").write(f"{child.pid}\\n")
    child.wait()
open("pids", "a").write(f"{child.pid}\\n")
print("loss=1")
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["background", "session", "blocking"])
def test_a_commands_leftover_processes_neither_hold_nor_outlive_the_trial(tmp_path, config, mode):
    (tmp_path / "leaver.py").write_text(LEAVER)
    command = {"command": f"{sys.executable} leaver.py {mode} {{x}}", "timeout": 2}
    path = config(command, trials=2, run={"jobs": 2})
    started = time.monotonic()
    result = invoke("run", str(path), "--json", "--quiet")
    took = time.monotonic() - started
    recs = trial_records(json.loads(result.stdout)["run_dir"])
    expected = "timeout" if mode == "blocking" else "ok"
    assert [r["status"] for r in recs] == [expected, expected], recs
    assert took < 15  # not the 30 s the leftovers would hold it
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    time.sleep(0.2)
    assert pids and not any(alive(p) for p in pids)


# -- 13. orphans after kill -9, and one driver per run ---------------------------------------------

SLOW = """\
import os, sys, time
trial = sys.argv[1]
with open("log", "a") as f:
    f.write(f"start {trial} {os.getpid()} {time.time()}\\n")
time.sleep(0.5)
with open("log", "a") as f:
    f.write(f"end {trial} {os.getpid()} {time.time()}\\n")
print("loss=1")
"""


@pytest.fixture
def slow_config(tmp_path, config):
    """``slow_config(trials=16) -> Path``: trials of half a second each, logged to ``log``."""
    (tmp_path / "slow.py").write_text(SLOW)

    def make(trials: int = 16) -> Path:
        command = {"command": f"{sys.executable} slow.py {{trial}} {{x}}"}
        return config(command, trials=trials, run={"jobs": 2})

    return make


@pytest.mark.slow
def test_after_kill_9_nothing_runs_on_and_resume_runs_no_trial_twice_at_once(tmp_path, slow_config):
    path = slow_config(trials=8)
    process = spawn("run", str(path), cwd=tmp_path)
    wait_for_lines(tmp_path / "log", 3, process)
    descendants = children(process.pid)
    assert len(descendants) >= 2  # workers and their commands
    process.kill()
    process.wait()
    killed = time.time()
    time.sleep(1.0)
    assert not [p for p in descendants if alive(p)]
    run_dir = next((tmp_path / "runs").iterdir())
    result = invoke("resume", str(run_dir), "--quiet")
    assert result.exit_code == 0, result.output
    spans: dict[str, list[list[float]]] = {}
    for line in (tmp_path / "log").read_text().splitlines():
        what, trial, _, at = line.split()
        if what == "start":
            spans.setdefault(trial, []).append([float(at), float("inf")])
        else:
            spans[trial][-1][1] = float(at)
    for runs in spans.values():
        runs = sorted([start, min(end, killed + 1.0)] for start, end in runs)  # cut short
        for (_, end), (start, _) in itertools.pairwise(runs):
            assert start >= end  # a trial never ran twice at the same time


@pytest.mark.slow
def test_show_and_list_count_a_running_run_and_call_a_killed_one_stopped(tmp_path, slow_config):
    path = slow_config(trials=10)
    process = spawn("run", str(path), cwd=tmp_path)
    wait_for_lines(tmp_path / "log", 6, process)  # at least two trials written
    run_dir = next((tmp_path / "runs").iterdir())

    def seen() -> tuple[dict, dict]:
        shown = json.loads(invoke("show", str(run_dir), "--json").stdout)["summary"]
        listed = json.loads(invoke("list", "--runs-dir", str(tmp_path / "runs"), "--json").stdout)
        return shown, listed["runs"][0]

    shown, listed = seen()
    assert shown["status"] == listed["status"] == "running"
    assert shown["trials_done"] >= 2 and listed["trials"] >= 2
    process.kill()
    process.wait()
    done = len(trial_records(run_dir))
    shown, listed = seen()
    assert shown["status"] == listed["status"] == "stopped"
    assert shown["trials_done"] == listed["trials"] == done == shown["counts"]["ok"]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "running"  # untouched
    assert invoke("resume", str(run_dir), "--quiet").exit_code == 0
    assert seen()[0]["status"] == "complete"


@pytest.mark.slow
def test_a_second_driver_on_a_running_run_is_refused_naming_the_holder(tmp_path, slow_config):
    path = slow_config(trials=12)
    process = spawn("run", str(path), cwd=tmp_path)
    wait_for_lines(tmp_path / "log", 2, process)
    run_dir = next((tmp_path / "runs").iterdir())
    result = invoke("resume", str(run_dir))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert f"in use by another hpsearch (pid {process.pid} on " in result.stderr
    assert "hpsearch run" in result.stderr  # the holder's command line (python -m hpsearch run)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143

    first, second = (spawn("resume", str(run_dir), "--quiet", cwd=tmp_path) for _ in range(2))
    outcomes = sorted([first.wait(timeout=120), second.wait(timeout=120)])
    errors = first.stderr.read() + second.stderr.read()
    assert outcomes == [0, 2], errors
    assert "in use by another hpsearch" in errors
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "complete"
    assert len(trial_records(run_dir)) == 12


# -- 14. interrupts and closed pipes leave no traceback --------------------------------------------


@pytest.mark.slow
def test_a_closed_stdout_pipe_is_an_interruption(tmp_path, slow_config):
    path = slow_config(trials=6)
    process = spawn("run", str(path), cwd=tmp_path)
    first = process.stdout.readline()  # like `| head -1`
    assert first.startswith("run ")
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    err = process.stderr.read()
    assert "Traceback" not in err and "Exception" not in err, err
    run_dir = next((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert "hpsearch resume" in err
    assert invoke("resume", str(run_dir), "--quiet").exit_code == 0
    assert len(trial_records(run_dir)) == 6


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_leaves_no_traceback_and_exits_128_plus_the_signal(
    tmp_path, slow_config, signum
):
    path = slow_config(trials=20)
    process = spawn("run", str(path), cwd=tmp_path)
    wait_for_lines(tmp_path / "log", 2, process)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert "Traceback" not in err and "Exception in thread" not in err, err
    assert "hpsearch resume" in out


# -- 20. worker deaths at scale cost only the deaths -----------------------------------------------

COUNTING = """\
import os, signal
def f(params, seed):
    return params['x']
def g(params, seed):
    with open(os.environ['COUNT_FILE'], 'a') as f:
        f.write(f"{params['i']}\\n")
    if params['i'] in (150, 450):
        os.kill(os.getpid(), signal.SIGKILL)
    return params['i']
"""


@pytest.mark.slow
def test_a_worker_death_reruns_only_the_trial_it_was_running(tmp_path, config, monkeypatch):
    (tmp_path / "counting.py").write_text(COUNTING)
    path = config(
        {"python": "counting:g"},
        1200,
        space={"x": DROP, "i": {"choice": list(range(600))}},
        run={"jobs": 2},
    )
    count_file = tmp_path / "count"
    monkeypatch.setenv("COUNT_FILE", str(count_file))
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    recs = trial_records(json.loads(result.stdout)["run_dir"])
    killers = [r for r in recs if r["params"]["i"] in (150, 450)]
    assert killers  # drawn: 1,200 trials of 600 values
    assert all(r["status"] == "failed" for r in killers)
    assert all(r["status"] == "ok" for r in recs if r not in killers)
    calls = len(count_file.read_text().splitlines())
    assert calls == len(recs) + len(killers)  # each killer once more, nobody else again


@pytest.mark.slow
def test_external_worker_kills_never_fail_a_bystander(tmp_path, config):
    (tmp_path / "sleepy.py").write_text(
        "import time\ndef f(params, seed):\n    time.sleep(0.02)\n    return params['x']\n"
    )
    path = config({"python": "sleepy:f"}, trials=400, run={"jobs": 2})
    process = spawn("run", str(path), "--json", "--quiet", cwd=tmp_path)
    kills = 0
    stop = threading.Event()

    def killer():
        nonlocal kills
        time.sleep(1.0)
        while not stop.is_set() and kills < 20:
            for pid in children(process.pid):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"hpsearch.worker" in cmdline:
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
                    break
            time.sleep(0.15)

    thread = threading.Thread(target=killer)
    thread.start()
    out, err = process.communicate(timeout=300)
    stop.set()
    thread.join()
    assert process.returncode == 0, err
    recs = trial_records(json.loads(out)["run_dir"])
    assert len(recs) == 400 and kills >= 5
    failed = [r for r in recs if r["status"] != "ok"]
    assert len(failed) <= kills // 2  # a trial fails only when killed twice
    assert all("worker process died" in r["error"] for r in failed)


# -- 21. scale: lazy sampling, quick reports, too many jobs, big params ----------------------------


@pytest.mark.slow
def test_two_million_trials_start_at_once(tmp_path, config):
    (tmp_path / "noop.py").write_text(noop())
    path = config({"python": "noop:noop"}, trials=2_000_000, run={"jobs": 2})
    process = spawn("run", str(path), cwd=tmp_path)
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        files = list(runs.glob("*/trials.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= 100:
            break
        time.sleep(0.05)
    else:
        process.kill()
        raise AssertionError(process.communicate())
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130


@pytest.mark.slow
def test_reporting_many_epochs_is_linear():
    from hpsearch.objectives.base import Curves

    curves = Curves(None)
    started = time.perf_counter()
    for epoch in range(200_000):
        curves(epoch, loss=1.0 / (epoch + 1), acc=0.5)
    assert time.perf_counter() - started < 20  # quadratic: hours
    assert len(curves.curves["loss"]) == 200_000


@pytest.mark.slow
def test_more_jobs_than_cores_warns(tmp_path, config):
    (tmp_path / "noop.py").write_text(noop())
    path = config({"python": "noop:noop"}, trials=4)
    result = invoke("run", str(path), "--jobs", str(os.cpu_count() * 4 + 1), "--quiet")
    assert result.exit_code == 0
    assert "is more than the" in result.stderr and "CPU cores" in result.stderr


@pytest.mark.slow
def test_thousands_of_params_reach_a_command_through_a_file(tmp_path, config):
    (tmp_path / "many.py").write_text(
        "import json, os\n"
        "params = json.load(open(os.environ['HPSEARCH_PARAMS_FILE']))\n"
        "print('loss=' + str(len(params)))\n"
    )
    fixed = {f"p{i}": "x" * 20 for i in range(6000)}
    path = config({"command": f"{sys.executable} many.py {{x}}"}, 2, model=fixed)
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    recs = trial_records(json.loads(result.stdout)["run_dir"])
    assert {r["metrics"]["loss"] for r in recs} == {6001}


def test_a_long_choice_list_loads_in_linear_time():
    from hpsearch.config import parse_config

    values = list(range(100_000))
    started = time.perf_counter()
    config_ = parse_config(
        {
            "objective": {"python": "m:f"},
            "space": {"x": {"choice": values}},
            "search": {"metric": "loss", "direction": "minimize"},
        }
    )
    assert time.perf_counter() - started < 10  # quadratic: minutes
    assert len(config_.space["x"].choices) == 100_000
    assert config_.space["x"].index(99_999) == 99_999


# -- found in review: the pool under pressure ----------------------------------------------------


@pytest.mark.slow
def test_quick_trials_with_big_messages_never_deadlock(tmp_path, config):
    """Batches and records bigger than the socket buffers: driver and worker both keep
    reading (the worker reads in a thread of its own)."""
    (tmp_path / "noop.py").write_text(noop("p0"))
    space = {f"p{i}": {"scale": "linear", "min": 0.0, "max": 1.0} for i in range(200)}
    path = config({"python": "noop:noop"}, 1200, space={"x": DROP, **space}, run={"jobs": 1})
    process = spawn("run", str(path), "--json", "--quiet", cwd=tmp_path)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert json.loads(out)["counts"]["ok"] == 1200


@pytest.mark.slow
def test_a_slow_import_does_not_count_against_a_trials_timeout(tmp_path, config):
    (tmp_path / "heavy.py").write_text(
        "import time\ntime.sleep(2.0)\ndef f(params, seed):\n    return params['x']\n"
    )
    path = config({"python": "heavy:f", "timeout": 0.5}, trials=4, run={"jobs": 2})
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 4


def test_trials_get_the_default_sigint_handling_on_every_backend(tmp_path, config):
    (tmp_path / "sig.py").write_text(
        "import signal\n"
        "def f(params, seed):\n"
        "    return float(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
    )
    path = config({"python": "sig:f"}, trials=2)
    for backend in ("sequential", "processes"):
        doc = json.loads(invoke("run", str(path), "--json", "--backend", backend).stdout)
        assert doc["best"]["value"] == 0.0, backend


@pytest.mark.slow
def test_ctrl_c_with_threads_leaves_no_command_running(tmp_path, config):
    (tmp_path / "leak.sh").write_text("setsid sleep 321 &\nsleep 322\necho loss=1\n")
    command = {"command": "sh leak.sh {x}"}
    path = config(command, trials=4, run={"jobs": 2, "backend": "threading"})
    process = spawn("run", str(path), cwd=tmp_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        b"sleep\x00322" in _cmdline(p) for p in children(process.pid)
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    time.sleep(0.3)
    left = [
        p
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and b"sleep\x0032" in _cmdline(int(p.name))
    ]
    assert not [p for p in left if alive(int(p.name)) and str(tmp_path) in _environ(int(p.name))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace") + str(
            Path(f"/proc/{pid}/cwd").resolve()
        )
    except OSError:
        return ""


def test_a_bad_epoch_line_from_a_command_is_no_curve_point_and_fails_nothing(tmp_path, config):
    (tmp_path / "ep.sh").write_text(
        'echo \'{"epoch": "1", "loss": 0.9}\'\n'
        'echo \'{"epoch": 1e999, "loss": 0.8}\'\n'
        'echo \'{"epoch": 2, "loss": 0.7}\'\n'
        "echo loss=0.5\n"
    )
    path = config({"command": "sh ep.sh {x}"}, trials=2)
    doc = json.loads(invoke("run", str(path), "--json", "--quiet").stdout)
    assert doc["counts"]["ok"] == 2
    curves = (Path(doc["run_dir"]) / "curves.jsonl").read_text().splitlines()
    assert all(json.loads(line)["epoch"] == [2] for line in curves)


def test_a_worker_that_dropped_an_objective_is_sent_it_again():
    from hpsearch.pool import WorkerPool
    from hpsearch.sampling import Trial

    from .objectives import Constant

    pool = WorkerPool(1)
    try:
        for value in [0, 1, 2, 3, 4, 5, 0, 1]:
            records = list(pool.run(Constant(value), [Trial(value, {}, 0)], None, 1))
            assert [r.status for r in records] == ["ok"]
            assert records[0].metrics["val_accuracy"] == value
        assert pool.starts == 1  # one worker throughout: nothing died
    finally:
        pool.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("bootstrap", "starts"),
    [
        ("import sys; sys.exit(1)", 3),  # a broken install: three in a row say so
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 30),  # killed from outside
    ],
)
def test_workers_that_never_start_stop_the_search_with_one_reason(monkeypatch, bootstrap, starts):
    import hpsearch.worker
    from hpsearch.pool import WorkerError, WorkerPool
    from hpsearch.sampling import Trial

    from .objectives import Constant

    monkeypatch.setattr(hpsearch.worker, "BOOTSTRAP", bootstrap)
    pool = WorkerPool(1)
    try:
        with pytest.raises(WorkerError, match="exit as soon as they start"):
            list(pool.run(Constant(0), [Trial(0, {}, 0)], None, 1))
        assert pool.starts == starts
    finally:
        pool.kill()
