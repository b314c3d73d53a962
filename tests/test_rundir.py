"""The run directory as untrusted input: what makes a directory a run, hand-edited and
truncated files, unreadable neighbours, a full disk, and `--rounds` searches cut short."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch import store as store_module

from .helpers import ZOOMY, invoke, one_line_error, run_json, trial_records, wait_for_round

# -- 1. a --rounds search cut short ------------------------------------------------------------


def rounds_of(doc: dict) -> list[tuple]:
    return [(e["round"], e["trials"], e["best"], e["summary"]) for e in doc["rounds"]]


@pytest.mark.slow
def test_killed_between_rounds_resume_runs_the_rounds_left(tmp_path, make_config):
    """Killed after the coarse round was written but before round 1 was: resuming runs both
    rounds, and ends where an uninterrupted search ends."""
    reference = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "2")
    run_dir = Path(reference["run_dir"])
    rounds = (run_dir / "rounds.jsonl").read_text().splitlines()
    (run_dir / "rounds.jsonl").write_text(rounds[0] + "\n")
    trials = (run_dir / "trials.jsonl").read_text().splitlines()
    coarse = [line for line in trials if json.loads(line)["round"] == 0]
    (run_dir / "trials.jsonl").write_text("\n".join(coarse) + "\n")
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "status": "running"}))

    doc = run_json("resume", str(run_dir))
    assert rounds_of(doc) == rounds_of(reference)
    assert doc["best"] == reference["best"]
    assert (run_dir / "rounds.jsonl").read_text().splitlines() == rounds


@pytest.mark.slow
def test_kill_9_during_a_round_then_resume_finishes_every_round(tmp_path, make_config):
    path = make_config(base=ZOOMY, model={"epochs": 60})
    reference_dir = tmp_path / "reference"
    reference = run_json("run", str(path), "--rounds", "2", "--runs-dir", str(reference_dir))

    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(path), "--rounds", "2", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs = tmp_path / "runs"
    round_one = wait_for_round(runs, 1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert round_one is not None
    (run_dir,) = runs.iterdir()  # one search, one directory
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "running"

    result = invoke("resume", str(run_dir), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [e["round"] for e in doc["rounds"]] == [0, 1, 2]
    assert rounds_of(doc) == rounds_of(reference)
    assert doc["status"] == "complete" and doc["best"] == reference["best"]
    assert len(list(runs.iterdir())) == 1


# -- 3. only a run directory is a run ----------------------------------------------------------


def test_resume_and_zoom_refuse_a_directory_that_is_not_a_run(tmp_path, make_config, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(make_config(base=ZOOMY), project / "config.yaml")
    own = {"leaderboard.csv": "mine\n", "summary.json": '{"mine": 1}\n', "best.yaml": "mine\n"}
    for name, text in own.items():
        (project / name).write_text(text)
    monkeypatch.chdir(project)
    for command in ("resume", "zoom", "show", "plot", "retest", "importance"):
        result = invoke(command, ".")
        one_line_error(result, "not a run directory")
    result = invoke("resume", str(project))
    one_line_error(result, "not a run directory")
    for name, text in own.items():
        assert (project / name).read_text() == text
    assert sorted(p.name for p in project.iterdir()) == sorted([*own, "config.yaml"])
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_every_run_is_marked_and_runs_made_before_the_marker_still_open(make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    run_dir = Path(doc["run_dir"])
    assert run_dir.is_absolute()
    marker = json.loads((run_dir / store_module.MARKER).read_text())
    assert marker["run_id"] == run_dir.name and marker["kind"] == "search"
    (run_dir / store_module.MARKER).unlink()  # as a run made by hpsearch 0.1.0
    assert invoke("show", str(run_dir)).exit_code == 0
    assert run_json("resume", str(run_dir))["status"] == "complete"


# -- 17. a full disk, unreadable neighbours ------------------------------------------------------


def test_a_full_disk_before_the_first_trial_leaves_no_run_behind(
    tmp_path, make_config, monkeypatch
):
    import hpsearch.store.core as core

    real = core.atomic_write

    def full(path, text):
        if Path(path).name == "summary.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(core, "atomic_write", full)
    result = invoke("run", str(make_config(base=ZOOMY)))
    one_line_error(result, "No space left on device")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_full_disk_while_resume_repairs_a_torn_line_is_one_line(make_config, monkeypatch):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    trials = Path(doc["run_dir"]) / "trials.jsonl"
    with trials.open("a") as f:
        f.write('{"trial": 9, "par')
    before = trials.read_text()
    import hpsearch.files

    monkeypatch.setattr(
        hpsearch.files,
        "atomic_write",
        lambda path, text: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
    )
    result = invoke("resume", doc["run_dir"])
    one_line_error(result, "No space left on device", "trials.jsonl")
    assert trials.read_text() == before


def test_an_unreadable_directory_among_the_runs_is_skipped(tmp_path, make_config, monkeypatch):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    runs = tmp_path / "runs"
    locked = runs / "someone-elses"
    locked.mkdir()
    real_is_file = pathlib.Path.is_file

    def is_file(self):
        if locked in self.parents or self == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(pathlib.Path, "is_file", is_file)
    real_iterdir = pathlib.Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(pathlib.Path, "iterdir", iterdir)
    result = invoke("list", "--runs-dir", str(runs))
    assert result.exit_code == 0, result.output
    assert Path(doc["run_dir"]).name in result.stdout
    assert "someone-elses: cannot read it: Permission denied" in result.stderr
    assert invoke("show", "latest", "--runs-dir", str(runs)).exit_code == 0
    prefix = Path(doc["run_dir"]).name[:8]
    assert invoke("show", prefix, "--runs-dir", str(runs)).exit_code == 0


# -- 19. hand-edited files of the wrong shape ----------------------------------------------------


SUMMARY_EDITS = [
    ("best", "x", "field 'best': expected an object or null, got a string"),
    ("round", "two", "field 'round': expected a round number, got a string"),
    ("counts", {"ok": "many"}, "field 'counts'"),
    ("parent", "../../etc", "field 'parent': expected a run id or null"),
    ("best", {"trial": "one", "value": 1}, "field 'best.trial'"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("field", "value", "message"), SUMMARY_EDITS)
def test_a_hand_edited_summary_is_one_line_naming_the_field(
    tmp_path, make_config, field, value, message
):
    good = run_json("run", str(make_config(base=ZOOMY)))
    doc = run_json("run", str(make_config(base=ZOOMY)))
    summary_file = Path(doc["run_dir"]) / "summary.json"
    summary = json.loads(summary_file.read_text())
    summary[field] = value
    summary_file.write_text(json.dumps(summary))
    for args in (("show",), ("zoom",), ("resume",), ("importance",), ("retest",)):
        result = invoke(*args, doc["run_dir"])
        one_line_error(result, "summary.json", message)
    listing = invoke("list", "--runs-dir", str(tmp_path / "runs"))
    assert listing.exit_code == 0
    assert Path(good["run_dir"]).name in listing.stdout
    assert message in listing.stderr


RECORD_EDITS = [
    (lambda r: r.update(metrics=None), "field 'metrics': expected an object of numbers, got null"),
    (lambda r: r.pop("params"), "field 'params': expected an object of parameter values"),
    (lambda r: r.update(status="great"), "field 'status'"),
    (lambda r: r.update(seed="x"), "field 'seed': expected an integer or null, got a string"),
    (
        lambda r: r["params"].update(batch_size="32"),
        "field 'params.batch_size': '32' is not in the run's space",
    ),
    (lambda r: r["params"].update(learning_rate=5.0), "field 'params.learning_rate'"),
    (lambda r: r["params"].pop("beta1"), "no value for 'beta1'"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("edit", "message"), RECORD_EDITS)
def test_a_hand_edited_trial_record_is_one_line_naming_line_and_field(make_config, edit, message):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    trials = Path(doc["run_dir"]) / "trials.jsonl"
    lines = trials.read_text().splitlines()
    record = json.loads(lines[1])
    edit(record)
    lines[1] = json.dumps(record)
    trials.write_text("\n".join(lines) + "\n")
    for command in ("show", "zoom", "resume", "importance", "plot", "retest", "compare"):
        runs = [doc["run_dir"]] * (2 if command == "compare" else 1)
        result = invoke(command, *runs)
        one_line_error(result, "trials.jsonl:2:", message)
    result = invoke("train", str(make_config(base=ZOOMY)), "--from", doc["run_dir"])
    one_line_error(result, "trials.jsonl:2:")


@pytest.mark.slow
def test_report_with_an_epoch_that_is_not_a_number_fails_that_trial_only(tmp_path, make_config):
    # Below x = 0.5 the epoch is not a number; above it, it is.
    (tmp_path / "objective.py").write_text(
        "def f(params, seed, report):\n"
        "    report(object() if params['x'] < 0.5 else 1, loss=1.0)\n"
        "    return params['x']\n"
        "def g(params, seed, report):\n"
        "    report('one' if params['x'] < 0.5 else 1, loss=1.0)\n"
        "    return params['x']\n"
    )
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    for function in ("f", "g"):
        config = make_config(
            function,
            base={
                "objective": {"python": f"objective:{function}"},
                "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
                "search": {"trials": 8, "metric": "loss", "direction": "minimize"},
                "run": {"jobs": 1},
            },
        )
        doc = run_json("run", str(config))
        records = trial_records(doc["run_dir"])
        failed = [r for r in records if r["params"]["x"] < 0.5]
        assert failed and len(failed) < len(records)  # both kinds of trial were drawn
        assert (doc["counts"]["failed"], doc["counts"]["ok"]) == (len(failed), 8 - len(failed))
        assert all(r["status"] == "failed" for r in failed)
        assert all("epoch must be a number" in r["error"] for r in failed)
        assert all(r["status"] == "ok" for r in records if r not in failed)
        assert invoke("show", doc["run_dir"]).exit_code == 0
        plotted = invoke("plot", doc["run_dir"], "--out", str(tmp_path / "p.png"))
        if has_matplotlib:
            assert plotted.exit_code == 0, plotted.output
        else:
            one_line_error(plotted, "plotting needs matplotlib")


def test_the_run_directory_is_absolute_so_a_chdir_in_an_objective_cannot_move_it(
    tmp_path, make_config, monkeypatch
):
    (tmp_path / "objective.py").write_text(
        "import os\ndef f(params, seed):\n    os.chdir('/')\n    return params['x']\n"
    )
    make_config(
        "wander",
        base={
            "objective": {"python": "objective:f"},
            "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
            "search": {"trials": 4, "metric": "x", "direction": "minimize"},
        },
        run={"runs_dir": "runs", "backend": "sequential"},
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "wander.yaml", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert os.getcwd() == str(tmp_path)
    doc = json.loads(result.stdout)
    assert Path(doc["run_dir"]).parent == tmp_path / "runs"
    assert len((Path(doc["run_dir"]) / "trials.jsonl").read_text().splitlines()) == 4


# -- found in review: a hostile lock file, numbers beyond floats ---------------------------------


def test_a_lock_file_that_is_a_link_or_garbage_is_one_line(tmp_path, make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    lock = Path(doc["run_dir"]) / ".lock"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    one_line_error(invoke("resume", doc["run_dir"]), ".lock")
    assert victim.read_text() == "precious\n"
    lock.unlink()
    os.mkfifo(lock)
    one_line_error(invoke("resume", doc["run_dir"]), ".lock", "not a regular file")
    lock.unlink()
    lock.write_text('{"pid": 123456789012345678901234567890, "token": "x", "host": "h"}')
    assert invoke("resume", doc["run_dir"], "--quiet").exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "edit"),
    [
        (
            "summary.json",
            lambda s: s.replace('"wall_time": ', '"wall_time": 1' + "0" * 400 + ', "was": '),
        ),
        (
            "trials.jsonl",
            lambda s: s.replace('"seconds": ', '"seconds": 1' + "0" * 400 + ', "was": ', 1),
        ),
        (
            "trials.jsonl",
            lambda s: s.replace('"metrics": {', '"metrics": {"big": 1' + "0" * 400 + ", ", 1),
        ),
        ("trials.jsonl", lambda s: s.replace('"seconds": ', '"seconds": NaN, "was": ', 1)),
    ],
)
def test_numbers_no_float_can_hold_are_one_line(make_config, where, edit):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    file = Path(doc["run_dir"]) / where
    file.write_text(edit(file.read_text()))
    for command in ("show", "resume", "importance"):
        one_line_error(invoke(command, doc["run_dir"]), where)


# -- the rounds log ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_round_cut_off_while_being_written_is_written_again_alike(make_config):
    reference = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "2")
    run_dir = Path(reference["run_dir"])
    rounds = (run_dir / "rounds.jsonl").read_text().splitlines()
    trials = [line for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    # Killed while round 2's line was being written: none of its trials can have started.
    (run_dir / "rounds.jsonl").write_text("\n".join(rounds[:2]) + "\n" + rounds[2][:40])
    kept = [t for t in trials if json.loads(t)["round"] < 2]
    (run_dir / "trials.jsonl").write_text("\n".join(kept) + "\n")
    doc = run_json("resume", str(run_dir))
    assert (run_dir / "rounds.jsonl").read_text().splitlines() == rounds
    assert doc["best"] == reference["best"] and doc["trials_done"] == len(trials)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda r: {**r, "first": 3}, "does not follow round 0"),
        (lambda r: {**r, "round": 5}, "round 5 out of order"),
        (lambda r: {**r, "seed": "x"}, "field 'seed': expected a seed"),
        (
            lambda r: {**r, "region": {"ranges": {"learning_rate": {"min": 5.0, "max": 9.0}}}},
            "field 'region.ranges.learning_rate': expected min < max inside",
        ),
        (
            lambda r: {**r, "region": {"ranges": {"nope": {"min": 0, "max": 1}}}},
            "field 'region.ranges.nope': not a parameter of the search",
        ),
    ],
)
def test_a_hand_edited_rounds_log_is_one_line_naming_file_and_field(make_config, edit, fragment):
    doc = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "1")
    log = Path(doc["run_dir"]) / "rounds.jsonl"
    lines = log.read_text().splitlines()
    lines[1] = json.dumps(edit(json.loads(lines[1])))
    log.write_text("\n".join(lines) + "\n")
    for command in ("show", "resume", "report"):
        one_line_error(invoke(command, doc["run_dir"]), "rounds.jsonl", fragment)


@pytest.mark.slow
def test_a_trial_in_no_round_or_another_round_is_one_line(make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "1")
    trials = Path(doc["run_dir"]) / "trials.jsonl"
    lines = trials.read_text().splitlines()
    record = json.loads(lines[0])
    lines[0] = json.dumps({**record, "round": 1})
    trials.write_text("\n".join(lines) + "\n")
    one_line_error(
        invoke("show", doc["run_dir"]), f"trial {record['trial']} (round 1 in trials.jsonl)"
    )
