"""Dask workers as batch jobs (``run.cluster``, dask-jobqueue), without a real cluster: a fake
``sbatch``/``scancel``/``squeue`` on PATH (tests/fakeslurm) runs each submitted job script as
local processes, so dask-jobqueue's own submission, worker start and cancellation run. A worker
lost mid-trial is not a failure; ``--scheduler-file``; every bad setting one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hpsearch

from .helpers import DASK_SMALL, invoke, one_line_error
from .objectives import AlwaysKill, ScancelOnce, WhereRun

pytest.importorskip("distributed")
pytest.importorskip("dask_jobqueue")

ROOT = Path(__file__).resolve().parent.parent
FAKE = ROOT / "tests" / "fakeslurm"
SMALL = {**DASK_SMALL, "name": "onslurm"}
SCHEDULER = ("--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0")
WORKERS = ("--nthreads", "1", "--nworkers", "2", "--no-dashboard")
SLURM = {"kind": "slurm", "cores": 1, "memory": "1GB", "workers": 2, "queue": "debug"}


@pytest.fixture
def slurm(tmp_path, monkeypatch):
    """The fake SLURM on PATH, its state in a folder of the test's; every job it started is
    checked gone at the end (hpsearch cancels its workers' jobs)."""
    state = tmp_path / "slurm"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{FAKE}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    # The jobs' workers import the tests' objectives, as a cluster's would import the user's.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    yield state
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and live_jobs(state):
        time.sleep(0.2)
    left = live_jobs(state)
    for pid in left.values():  # never leave a worker behind, even when the test failed
        os.killpg(pid, signal.SIGKILL)
    assert left == {}, f"jobs still running after the command: {sorted(left)}"


def live_jobs(state: Path) -> dict[str, int]:
    out = {}
    for pidfile in (state / "jobs").glob("*.pid") if (state / "jobs").exists() else []:
        pid = int(pidfile.read_text())
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            continue
        out[pidfile.stem] = pid
    return out


def scripts(state: Path) -> list[str]:
    return [p.read_text() for p in sorted((state / "jobs").glob("*.sh"))]


def leaderboard(result) -> str:
    assert result.exit_code == 0, result.output
    return (Path(json.loads(result.stdout)["run_dir"]) / "leaderboard.csv").read_text()


@pytest.mark.slow
def test_a_search_on_slurm_jobs_gives_the_processes_leaderboard(make_config, slurm):
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM})
    on_slurm = invoke("run", str(path), "--json", "--quiet")
    on_processes = invoke("run", str(path), "--json", "--quiet", "--backend", "processes")
    assert leaderboard(on_slurm) == leaderboard(on_processes)
    submitted = scripts(slurm)
    assert len(submitted) == 2  # two workers, one core each: two jobs
    for script in submitted:
        assert "#SBATCH -p debug" in script and "#SBATCH --cpus-per-task=1" in script
        assert "distributed.cli.dask_worker" in script
    assert len(list((slurm / "jobs").glob("*.cancelled"))) == 2  # scancel'ed at the end


@pytest.mark.slow
def test_a_worker_whose_job_is_cancelled_mid_trial_is_not_a_failure(tmp_path, make_config, slurm):
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM})
    marker = tmp_path / "cancelled"
    # Trials of 0.8 s: the search outlasts the lost job long enough for a new one to come.
    run = hpsearch.run(path, objective=ScancelOnce(str(marker), pause=0.8), quiet=True)
    assert marker.exists()  # trial 2 did cancel its job, mid-trial
    assert [(r.trial, r.status) for r in run.trials] == [(i, "ok") for i in range(6)]
    # The cancelled job was replaced (dask-jobqueue alone would go on with one worker).
    assert len(scripts(slurm)) == 3
    # Recorded once each, with what the processes backend gives.
    lines = (Path(run.path) / "trials.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["trial"] for line in lines) == list(range(6))
    again = hpsearch.run(path, objective=ScancelOnce(str(marker), pause=0), backend="processes")
    assert [r.metrics for r in run.trials] == [r.metrics for r in again.trials]


@pytest.mark.slow
def test_gpus_of_a_job_become_its_workers_device_slots(tmp_path, make_config, slurm):
    cluster = {**SLURM, "cores": 2, "gpus": 2, "workers": 2}  # one job, two worker processes
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": cluster})
    folder = tmp_path / "where"
    folder.mkdir()
    run = hpsearch.run(path, objective=WhereRun(str(folder)), quiet=True)
    assert all(r.ok for r in run.trials)
    (script,) = scripts(slurm)
    assert "#SBATCH --gres=gpu:2" in script
    seen = {}
    for trial in range(6):
        device, _job, pid = (folder / str(trial)).read_text().split()
        seen.setdefault(pid, set()).add(device)
    # Each worker process of the job keeps to one GPU, and the two take different ones.
    assert all(len(devices) == 1 for devices in seen.values())
    assert set().union(*seen.values()) <= {"0", "1"}
    if len(seen) == 2:
        assert len(set().union(*seen.values())) == 2


@pytest.mark.slow
def test_a_trial_that_kills_every_worker_fails_after_worker_deaths_losses(make_config):
    # hpsearch's own local cluster: Dask does not retry (allowed-failures 0), hpsearch counts.
    path = make_config(base=SMALL, run={"backend": "dask", "worker_deaths": 2})
    run = hpsearch.run(path, objective=AlwaysKill(), quiet=True)
    records = {r.trial: r for r in run.trials}
    assert sorted(records) == list(range(6))
    assert records[2].status == "failed"
    assert "its Dask worker died 2 times" in records[2].error
    assert "run.worker_deaths" in records[2].error
    # A trial waiting on a dying worker is lost with it and runs again; one unlucky enough to
    # share the culprit's worker each time shares its fate (Dask's rule), recorded the same
    # way, once, never lost.
    for i in (0, 1, 3, 4, 5):
        assert records[i].ok or "its Dask worker died 2 times" in records[i].error
    lines = (Path(run.path) / "trials.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["trial"] for line in lines) == list(range(6))


@pytest.mark.slow
def test_scheduler_file_reaches_a_scheduler_started_apart(tmp_path, make_config):
    file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m"]
    scheduler = subprocess.Popen(
        [*dask, "distributed.cli.dask_scheduler", "--scheduler-file", str(file), *SCHEDULER],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 30
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = subprocess.Popen(
            [*dask, "distributed.cli.dask_worker", "--scheduler-file", str(file), *WORKERS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        path = make_config(base=SMALL)
        flags = ("--json", "--quiet", "--backend", "dask", "--scheduler-file", str(file))
        result = invoke("run", str(path), *flags)
        assert json.loads(result.stdout)["counts"]["ok"] == 6, result.output
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


# -- what is refused, one line each -------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "fragments"),
    [
        ({"cluster": SLURM}, ["run.cluster", "applies to the dask backend only"]),
        (
            {"backend": "dask", "cluster": {**SLURM, "kind": "condor"}},
            ["run.cluster.kind", "unknown cluster kind 'condor'"],
        ),
        ({"backend": "dask", "cluster": {"cores": 2}}, ["run.cluster", "needs a kind"]),
        (
            {"backend": "dask", "cluster": {**SLURM, "wallclock": "1:00:00"}},
            ["run.cluster.wallclock", "unknown key 'wallclock'"],
        ),
        (
            {"backend": "dask", "cluster": {**SLURM, "walltime": "two hours"}},
            ["run.cluster.walltime", "a walltime such as '02:00:00'"],
        ),
        (
            {"backend": "dask", "cluster": {**SLURM, "job_extra": ["--x=1\nrm -rf ~"]}},
            ["run.cluster.job_extra", "item 1: must be one line"],
        ),
        (
            {"backend": "dask", "cluster": {**SLURM, "adapt": {"min": 4, "max": 2}}},
            ["run.cluster.adapt", "min must be at most max"],
        ),
        (
            {"backend": "dask", "jobs": -1, "cluster": {"kind": "slurm"}},
            ["run.cluster", "how many workers?"],
        ),
        (
            {"backend": "dask", "scheduler": "tcp://127.0.0.1:1", "cluster": SLURM},
            ["run.cluster", "give one of run.scheduler, run.scheduler_file and run.cluster"],
        ),
        ({"backend": "dask", "worker_deaths": 0}, ["run.worker_deaths", "a positive integer"]),
    ],
)
def test_a_bad_cluster_setting_is_one_line(make_config, run, fragments):
    path = make_config(base=SMALL, run=run)
    one_line_error(invoke("validate", str(path)), str(path), *fragments)


def test_the_cluster_flags_are_checked_like_the_keys(make_config):
    path = make_config(base=SMALL)
    one_line_error(
        invoke("run", str(path), "--cluster", "slurm"),
        "--cluster: applies to the dask backend only",
        "add --backend dask",
    )
    one_line_error(
        invoke("run", str(path), "--backend", "dask", "--cluster", "slurmm"),
        "--cluster",
        "unknown cluster kind 'slurmm'",
        "slurm",
    )
    one_line_error(
        invoke(
            "run",
            str(path),
            "--backend",
            "dask",
            "--cluster",
            "slurm",
            "--scheduler",
            "tcp://127.0.0.1:1",
        ),
        "give one of --scheduler, --scheduler-file and --cluster",
    )


def test_validate_prints_the_job_script(make_config):
    cluster = {
        **SLURM,
        "account": "proj42",
        "walltime": "02:00:00",
        "gpus": 1,
        "job_extra": ["--constraint=a100"],
        "prologue": ["module load python/3.11"],
        "workers": None,
        "adapt": {"min": 0, "max": 16},
    }
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": cluster})
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "cluster: slurm, 0–16 workers as trials wait" in result.stdout
    for line in (
        "#SBATCH -p debug",
        "#SBATCH -A proj42",
        "#SBATCH -t 02:00:00",
        "#SBATCH --constraint=a100",
        "#SBATCH --gres=gpu:1",
        "module load python/3.11",
    ):
        assert line in result.stdout.splitlines()
    assert "distributed.cli.dask_worker" in result.stdout


def test_jobqueue_yaml_fills_what_the_config_leaves_out(make_config, tmp_path, monkeypatch):
    import dask

    path = make_config(base=SMALL, run={"backend": "dask", "jobs": 4, "cluster": "slurm"})
    one_line_error(invoke("validate", str(path)), "a slurm job needs cores and memory")
    with dask.config.set(
        {"jobqueue.slurm.cores": 8, "jobqueue.slurm.memory": "32GB", "jobqueue.slurm.queue": "q1"}
    ):
        result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "#SBATCH -p q1" in result.stdout and "--cpus-per-task=8" in result.stdout
    assert "--nworkers 8" in result.stdout  # one single-threaded worker a core


def test_sbatch_refusing_the_job_is_one_line_and_nothing_runs(make_config, slurm):
    (slurm / "refuse").write_text("sbatch: error: invalid partition specified: debug\n")
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM})
    line = one_line_error(
        invoke("run", str(path), "--quiet"), "sbatch refused hpsearch's worker job (exit 1)"
    )
    assert "invalid partition specified: debug" in line
    assert "hpsearch resume" in line  # the run was made: its trials are still to run


def test_no_sbatch_on_path_is_one_line_before_a_run_is_made(make_config, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM})
    one_line_error(invoke("run", str(path)), "sbatch is not on PATH")
    assert not (tmp_path / "runs").exists()


def test_without_dask_jobqueue_one_line_says_what_to_install(make_config, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM})
    one_line_error(invoke("run", str(path)), "pip install 'hpsearch[cluster]'")
    one_line_error(invoke("validate", str(path)), "pip install 'hpsearch[cluster]'")
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # a plain install: no Dask
    one_line_error(invoke("run", str(path)), "pip install 'hpsearch[cluster]'")


def test_a_worker_takes_its_share_of_the_jobs_gpus(monkeypatch):
    from hpsearch.dask_runner import allocated_device

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("SLURM_JOB_GPUS", raising=False)
    assert allocated_device(2, "job-0") is None  # no GPU in the job
    monkeypatch.setenv("SLURM_JOB_GPUS", "4,5")
    assert [allocated_device(2, f"SLURMCluster-3-{k}") for k in range(2)] == ["4", "5"]
    assert allocated_device(4, "w-3") == "5"  # more workers than GPUs: round them
    assert allocated_device(1, "w-7") == "4"  # one process a job: the name's number is no rank
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")  # what the job may see, first
    assert allocated_device(2, "w-1") == "1"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist (dask scheduler --scheduler-file FILE writes it)"),
        ('{"address": 5', "cannot read it"),
        ('{"address": "rm -rf ~"}', "no scheduler address in it"),
        ("[1, 2]", "no scheduler address in it"),
    ],
)
def test_a_bad_scheduler_file_is_one_line_before_a_run_is_made(
    make_config, tmp_path, content, fragment
):
    file = tmp_path / "scheduler.json"
    if content is not None:
        file.write_text(content)
    path = make_config(base=SMALL)
    flags = ("--backend", "dask", "--scheduler-file", str(file))
    one_line_error(invoke("run", str(path), *flags), f"--scheduler-file {file}: {fragment}")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_jobs_that_end_before_their_workers_come_are_one_line_not_a_wait(make_config, slurm):
    cluster = {**SLURM, "prologue": ["exit 3"]}  # a job script that fails at once
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": cluster})
    started = time.monotonic()
    one_line_error(
        invoke("run", str(path), "--quiet"),
        "ended before its workers reached the scheduler, and no worker is left",
        "hpsearch resume",
    )
    assert time.monotonic() - started < 30


def test_a_cluster_takes_gpus_from_its_jobs_not_run_devices(make_config):
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": SLURM, "devices": [0, 1]})
    one_line_error(invoke("validate", str(path)), "run.devices", "give run.cluster.gpus")


def test_settings_a_job_lacks_are_one_line_before_a_run_is_made(make_config, slurm, tmp_path):
    path = make_config(base=SMALL, run={"backend": "dask", "jobs": 2})
    one_line_error(
        invoke("run", str(path), "--cluster", "slurm"), "a slurm job needs cores and memory"
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_local_cluster_ignores_what_only_a_batch_system_takes(make_config):
    local = {"kind": "local", "workers": 2, "account": "proj42", "queue": "gpu"}
    path = make_config(base=SMALL, run={"backend": "dask", "cluster": local})
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 6


@pytest.mark.slow
def test_a_zoom_round_runs_on_a_cluster_named_by_its_flags(make_config):
    path = make_config(base=SMALL)
    run_dir = json.loads(invoke("run", str(path), "--json", "--quiet").stdout)["run_dir"]
    flags = ("--backend", "dask", "--cluster", "local", "--jobs", "2", "--trials", "3")
    result = invoke("zoom", run_dir, "--json", "--quiet", *flags)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 9
    one_line_error(invoke("zoom", run_dir, "--cluster", "local"), "add --backend dask")
