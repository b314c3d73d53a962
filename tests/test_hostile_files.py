"""Tampered and hostile run files (issue 23): a FIFO, a file where a directory belongs, a
decompression bomb, rung lines for the wrong trials, a full disk at the lock. Each is one line
or the documented behaviour, never a hang, a crash or a duplicate training."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch import yamlio

from .helpers import HALVING, invoke, one_line_error, run_json


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A complete early-stopping run, its checkpoints kept (copy it before tampering)."""
    where = tmp_path_factory.mktemp("finished")
    config = where / "halving.yaml"
    config.write_text(yamlio.dump({**HALVING, "run": {"jobs": 1, "runs_dir": str(where / "runs")}}))
    return Path(run_json("run", str(config), "--keep-checkpoints")["run_dir"])


def copy_run(finished: Path, tmp_path: Path, name: str = "run") -> Path:
    target = tmp_path / "runs" / name
    shutil.copytree(finished, target)
    return target


def interrupt_before_last(run: Path) -> int:
    """Make ``run`` look killed as its best trial trained its last rung: that trial's final
    record and last rung result gone, the summary ``interrupted``; returns that trial."""
    best = json.loads((run / "summary.json").read_text())["best"]["trial"]
    drop_lines(run / "trials.jsonl", lambda item: item["trial"] == best)
    rungs = [json.loads(line) for line in (run / "rungs.jsonl").read_text().splitlines()]
    last = max(i for i, item in enumerate(rungs) if item["trial"] == best)
    kept = rungs[:last] + rungs[last + 1 :]
    (run / "rungs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    return best


def drop_lines(file: Path, drop) -> None:
    items = [json.loads(line) for line in file.read_text().splitlines()]
    file.write_text("".join(json.dumps(item) + "\n" for item in items if not drop(item)))


def hpsearch(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m hpsearch ARGS`` in a subprocess; a hang fails the test (TimeoutExpired)."""
    return subprocess.run(
        [sys.executable, "-m", "hpsearch", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


# -- 13: a FIFO (any non-regular file) in a run directory -----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("trials.jsonl", "show"),
        ("summary.json", "show"),
        ("config.yaml", "show"),
        ("rounds.jsonl", "show"),
        ("best.yaml", "report"),
        ("rungs.jsonl", "resume"),
    ],
)
def test_a_fifo_as_a_run_file_is_one_line_never_a_hang(finished, tmp_path, name, command):
    run = copy_run(finished, tmp_path)
    if command == "resume":
        interrupt_before_last(run)
    fifo(run / name)
    result = hpsearch(command, str(run), cwd=tmp_path, timeout=30)
    one_line(result, f"{name}: is not a regular file (a FIFO)")


@pytest.mark.slow
def test_a_fifo_as_curves_jsonl_leaves_the_curves_out_of_a_report(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    fifo(run / "curves.jsonl")
    result = hpsearch("report", str(run), cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr  # curves are a convenience, as when unreadable
    assert (run / "report.html").is_file()


@pytest.mark.slow
def test_list_warns_of_a_run_with_a_fifo_and_lists_the_others(finished, tmp_path):
    copy_run(finished, tmp_path, "good")
    fifo(copy_run(finished, tmp_path, "bad") / "summary.json")
    result = hpsearch("list", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "summary.json: is not a regular file (a FIFO)" in result.stderr
    assert "good" in result.stdout and "bad" in result.stdout


@pytest.mark.slow
def test_a_checkpoint_that_is_a_fifo_trains_that_trial_from_scratch(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    best = interrupt_before_last(run)
    expected = (finished / "leaderboard.csv").read_text()
    fifo(run / "checkpoints" / f"trial-{best:06d}" / "trainer.npz")
    result = hpsearch("resume", str(run), "--quiet", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (run / "leaderboard.csv").read_text() == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", ["summary.json", "config.yaml", "best.yaml"])
def test_a_huge_sparse_small_run_file_is_one_line_never_read_whole(make_config, name):
    """1 GiB of nothing (a sparse file costs no disk): never read into memory, where a 1 TiB
    one would end the process; summary.json is read for every run `list` shows."""
    run = Path(run_json("run", str(make_config()))["run_dir"])
    os.truncate(run / name, 2**30)
    command = "report" if name == "best.yaml" else "show"
    line = one_line_error(invoke(command, str(run)))
    assert line.endswith(
        f"{name}: 1024 MiB, far more than hpsearch writes there (64 MiB at most); "
        "move it away or delete it"
    ), line
    if name == "summary.json":
        result = invoke("list", "--runs-dir", str(run.parent))
        assert result.exit_code == 0 and "64 MiB at most" in result.stderr, result.output


@pytest.mark.slow
def test_a_socket_as_a_log_is_one_line_naming_it(finished, tmp_path, monkeypatch):
    import socket

    run = copy_run(finished, tmp_path)
    interrupt_before_last(run)
    (run / "curves.jsonl").unlink()
    monkeypatch.chdir(run)  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("curves.jsonl")
        result = invoke("resume", str(run), "--quiet")
    one_line_error(result, "curves.jsonl: is not a regular file (a socket)")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rungs.jsonl", "trials.jsonl"])
def test_a_run_log_linked_outside_the_run_is_never_written_through(finished, tmp_path, name):
    run = copy_run(finished, tmp_path)
    interrupt_before_last(run)
    outside = tmp_path / "precious"
    outside.write_bytes((run / name).read_bytes())  # read back as the run's own
    before = outside.read_bytes()
    (run / name).unlink()
    (run / name).symlink_to(outside)
    result = invoke("resume", str(run), "--quiet")
    one_line_error(result, f"{name}: ", "a symbolic link")
    assert outside.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("name", ["best.yaml", "summary.json", "trials.jsonl", "config.yaml"])
def test_a_run_file_linked_to_another_file_is_never_read(finished, tmp_path, name):
    """Found in review of issue 23: reads followed symbolic links, so a best.yaml linked to a
    file of another user's went into the report anyone may be sent."""
    run = copy_run(finished, tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("password: hunter2\n")
    (run / name).unlink()
    (run / name).symlink_to(secret)
    for args in (["report", str(run), "--markdown"], ["report", str(run)], ["show", str(run)]):
        result = invoke(*args)
        assert "hunter2" not in result.output
        if result.exit_code or args[0] == "report":  # show does not read best.yaml
            one_line_error(result, f"{name}: is a symbolic link (hpsearch reads a run's own")


# -- 12: a file where a checkpoint directory belongs ----------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("where", ["trial", "checkpoints"])
def test_a_file_as_a_checkpoint_directory_trains_from_scratch(finished, tmp_path, where):
    run = copy_run(finished, tmp_path)
    best = interrupt_before_last(run)
    expected = (finished / "leaderboard.csv").read_text()
    target = run / "checkpoints"
    if where == "trial":
        target = target / f"trial-{best:06d}"
    shutil.rmtree(target)
    target.write_text("not a checkpoint\n")
    result = hpsearch("resume", str(run), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (run / "leaderboard.csv").read_text() == expected
    assert (run / "checkpoints" / f"trial-{best:06d}").is_dir()  # --keep-checkpoints: kept


# -- 11: a rung result for a trial not in its rung --------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trial", "rung", "why"),
    [(999, 1, ""), (0, 1, ""), (1, 2, ""), (1, 7, ": no such rung")],
    ids=["unknown", "stopped", "not-promoted", "no-such-rung"],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rung_line_for_a_trial_not_in_its_rung_is_one_line(
    finished, tmp_path, trial, rung, why, jobs
):
    run = copy_run(finished, tmp_path)
    interrupt_before_last(run)
    lines = (run / "rungs.jsonl").read_text().splitlines()
    promoted = [json.loads(line) for line in lines if json.loads(line)["rung"] == 1]
    assert [item["trial"] for item in promoted] == [1, 3, 6, 11]  # 6 alone to go on
    forged = {**promoted[0], "trial": trial, "rung": rung}
    (run / "rungs.jsonl").write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    trials_before = (run / "trials.jsonl").read_text()
    result = invoke("resume", str(run), "--jobs", jobs, "--quiet")
    one_line_error(
        result,
        f"rungs.jsonl:{len(lines) + 1}: trial {trial} is not in bracket 0 rung {rung}{why}; "
        "delete that line",
    )
    assert (run / "trials.jsonl").read_text() == trials_before  # nothing trained


# -- 14: a decompression bomb as a checkpoint ------------------------------------------------


def bomb(checkpoint: Path, name: str, header: dict, size: int) -> None:
    """Rewrite ``checkpoint`` (an .npz) with member ``name`` declaring ``header`` followed by
    ``size`` zero bytes, deflated (a few kilobytes on disk per 16 MiB declared)."""
    import zipfile

    with zipfile.ZipFile(checkpoint) as old:
        members = {info.filename: old.read(info) for info in old.infolist()}
    with zipfile.ZipFile(checkpoint, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for member, content in members.items():
            if member != f"{name}.npy":
                new.writestr(member, content)
        with new.open(f"{name}.npy", "w", force_zip64=True) as out:
            out.write(b"\x93NUMPY\x01\x00")
            text = repr(header).encode().ljust(118) + b"\n"
            out.write(len(text).to_bytes(2, "little") + text)
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                out.write(chunk)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("params", {"descr": "<f8", "fortran_order": False, "shape": (2**24,)}),
        ("meta", {"descr": "<U8388608", "fortran_order": False, "shape": ()}),
    ],
    ids=["params", "meta"],
)
def test_a_decompression_bomb_as_a_checkpoint_is_never_inflated(tmp_path, name, header):
    import tracemalloc

    from hpsearch.data import load_dataset
    from hpsearch.data.sources import DataConfig
    from hpsearch.trainer import train
    from hpsearch.trainer.checkpoint import FILE

    data = load_dataset(DataConfig("spirals", classes=3, samples=300), 0)
    params = {"epochs": 4}
    whole = train(params, data, 2)
    train(params, data, 2, budget=2, checkpoint_dir=str(tmp_path))
    declared = 2**27 if name == "params" else 2**25  # 128 MiB, 32 MiB
    bomb(tmp_path / FILE, name, header, declared)
    assert (tmp_path / FILE).stat().st_size < 2**20
    tracemalloc.start()
    try:
        again = train(params, data, 2, budget=4, checkpoint_dir=str(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24, f"{peak / 2**20:.0f} MiB"  # never inflated
    assert again.curves == whole.curves  # a bad checkpoint: trained from scratch


@pytest.mark.slow
def test_a_checkpoint_whose_npy_header_is_a_bomb_is_never_inflated(tmp_path):
    """An .npy header declaring a length of 1 GiB (format 2.0): numpy reads a header whole
    before it checks its size, so the zip's declared sizes are checked before any header."""
    import tracemalloc
    import zipfile

    from hpsearch.data import load_dataset
    from hpsearch.data.sources import DataConfig
    from hpsearch.trainer import train
    from hpsearch.trainer.checkpoint import FILE

    data = load_dataset(DataConfig("spirals", classes=3, samples=300), 0)
    params = {"epochs": 4}
    whole = train(params, data, 2)
    train(params, data, 2, budget=2, checkpoint_dir=str(tmp_path))
    with zipfile.ZipFile(tmp_path / FILE) as old:
        members = {info.filename: old.read(info) for info in old.infolist()}
    with zipfile.ZipFile(tmp_path / FILE, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for member, content in members.items():
            if member != "params.npy":
                new.writestr(member, content)
        with new.open("params.npy", "w", force_zip64=True) as out:
            out.write(b"\x93NUMPY\x02\x00" + (2**30).to_bytes(4, "little"))
            for _ in range(2**30 // 2**20):
                out.write(bytes(2**20))
    tracemalloc.start()
    try:
        again = train(params, data, 2, budget=4, checkpoint_dir=str(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24, f"{peak / 2**20:.0f} MiB"  # never inflated
    assert again.curves == whole.curves  # a bad checkpoint: trained from scratch


# -- 19: a full disk at the lock; curves.jsonl a directory -----------------------------------


def test_a_full_disk_at_the_lock_leaves_no_run_directory(make_config, monkeypatch):
    import errno

    config = make_config()

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)  # the lock's write of its holder
    result = invoke("run", str(config), "--quiet")
    one_line_error(result, ".lock: cannot write it: No space left on device")
    runs = config.parent / "runs"
    assert not runs.exists() or os.listdir(runs) == []  # nothing left, not even hidden


@pytest.mark.slow
def test_curves_jsonl_a_directory_is_blamed_on_curves_jsonl(finished, tmp_path, make_config):
    run = copy_run(finished, tmp_path)
    interrupt_before_last(run)
    plain = Path(run_json("run", str(make_config()))["run_dir"])
    first, *rest = (plain / "trials.jsonl").read_text().splitlines()
    failed = {**json.loads(first), "status": "failed", "error": "ValueError: x"}
    (plain / "trials.jsonl").write_text("\n".join([json.dumps(failed), *rest]) + "\n")
    for where in (run, plain):
        (where / "curves.jsonl").unlink()
        (where / "curves.jsonl").mkdir()
    for args in (["resume", str(run)], ["resume", str(plain), "--retry", "failed"]):
        result = invoke(*args, "--quiet")
        line = one_line_error(result, "curves.jsonl: is not a regular file (a directory)")
        assert "trials.jsonl" not in line


@pytest.mark.parametrize("link", ["checkpoints", "trial"])
def test_a_linked_checkpoint_directory_is_never_written_or_deleted_through(tmp_path, link):
    """Found in review of issue 23: with ``checkpoints`` (or a trial's directory) a link to a
    directory outside the run, a trial's checkpoint went there and finishing it deleted it."""
    from hpsearch.store.rungs import RungLog

    run, victim = tmp_path / "run", tmp_path / "victim"
    run.mkdir()
    (victim / "trial-000003").mkdir(parents=True)
    (victim / "trial-000003" / "precious").write_text("keep me\n")
    log = RungLog(run)
    if link == "checkpoints":
        (run / "checkpoints").symlink_to(victim)
    else:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "trial-000003").symlink_to(victim / "trial-000003")
    made = log.checkpoint_dir(3)
    assert made.is_dir() and not made.is_symlink() and not (run / "checkpoints").is_symlink()
    assert made.resolve().is_relative_to(run.resolve())
    log.remove_checkpoints(3)
    log.remove_checkpoints()
    assert (victim / "trial-000003" / "precious").read_text() == "keep me\n"
    if link == "checkpoints":  # a link made after the run's own directory went
        (run / "checkpoints").symlink_to(victim)
        log.remove_checkpoints(3)
        assert (victim / "trial-000003" / "precious").read_text() == "keep me\n"
        assert not (run / "checkpoints").exists()


def test_a_link_planted_at_a_temporary_name_is_never_written_through(tmp_path):
    """Found in review of issue 23: summary.json, leaderboard.csv and best.yaml are written
    to ``.NAME.PID.tmp`` first; a link planted at that name truncated the file it named."""
    from hpsearch.files import atomic_write

    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    target = tmp_path / "summary.json"
    (tmp_path / f".summary.json.{os.getpid()}.tmp").symlink_to(victim)
    atomic_write(target, "{}\n")
    assert target.read_text() == "{}\n" and not target.is_symlink()
    assert victim.read_text() == "keep me\n"
