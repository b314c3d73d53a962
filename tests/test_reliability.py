"""The faults hpsearch promises to survive (docs/reliability.md lists each with its test)."""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpsearch
from hpsearch import yamlio
from hpsearch.config import load_config, parse_config
from hpsearch.errors import ConfigError
from hpsearch.events import TrialFinished
from hpsearch.record import TrialRecord
from hpsearch.store import RunStore

from .helpers import (
    QUICKSTART,
    assert_no_workers_left,
    invoke,
    leaderboard,
    reference_leaderboard,
    run_json,
)
from .objectives import Greedy, KillOnceLoky

# -- fuzzing the config loader ------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1e-4", "nan", "yes", "log", "one_minus_log", "int", "choice"]),
)
KEYS = [
    "name",
    "seed",
    "data",
    "model",
    "space",
    "search",
    "zoom",
    "run",
    "objective",
    "scale",
    "min",
    "max",
    "type",
    "choice",
    "trials",
    "metric",
    "direction",
    "learning_rate",
    "beta1",
    "hidden_units",
    "source",
    "jobs",
    "backend",
    "python",
    "command",
    "top",
    "margin",
    "x",
]
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=25,
)


def _path_items(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key), value
            yield from _path_items(value, (*prefix, key))


@st.composite
def mutated_configs(draw):
    import copy

    data = copy.deepcopy(QUICKSTART)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p, _ in _path_items(data)]
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(documents)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "rename":
            parent[draw(st.sampled_from(KEYS))] = parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(documents)
    return data


def _load_or_config_error(data) -> None:
    try:
        parse_config(data, filename="fuzz.yaml")
    except ConfigError as exc:
        assert "\n" not in str(exc)


@pytest.mark.slow
@settings(max_examples=500)
@given(documents)
def test_fuzz_arbitrary_documents_give_a_config_or_a_config_error(data):
    _load_or_config_error(data)


@pytest.mark.slow
@settings(max_examples=500)
@given(mutated_configs())
def test_fuzz_mutated_configs_give_a_config_or_a_config_error(data):
    _load_or_config_error(data)


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_through_the_yaml_loader(text):
    try:
        data, _ = yamlio.load(text, "fuzz.yaml")
    except ConfigError:
        return
    _load_or_config_error(data)


@pytest.mark.slow
@settings(max_examples=60)
@given(mutated_configs())
def test_fuzz_the_cli_never_prints_a_traceback(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "config.yaml"
    try:
        path.write_text(yamlio.dump(data))
    except Exception:
        return
    result = invoke("validate", str(path))
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


# -- determinism ----------------------------------------------------------------------------------


def _records(run_dir: Path) -> dict:
    out = {}
    for line in (run_dir / "trials.jsonl").read_text().splitlines():
        r = json.loads(line)
        out[r["trial"]] = (r["params"], r["metrics"], r["status"])
    return out


@pytest.mark.slow
def test_identical_records_on_every_backend(make_config):
    variants = [
        ["--backend", "sequential"],
        ["--backend", "processes", "--jobs", "1"],
        ["--backend", "processes", "--jobs", "2"],
        ["--backend", "threading", "--jobs", "2"],
        ["--backend", "joblib", "--jobs", "2"],  # joblib's loky
    ]
    try:
        import distributed  # noqa: F401

        variants.append(["--backend", "dask", "--jobs", "2"])
    except ImportError:
        pass
    path = make_config(search={"trials": 6})
    seen = []
    for args in variants:
        doc = run_json("run", str(path), *args)
        seen.append(_records(Path(doc["run_dir"])))
    assert all(records == seen[0] for records in seen[1:])
    assert len(seen[0]) == 6


@pytest.mark.slow
def test_interrupted_at_random_points_then_resumed_gives_the_same_leaderboard(
    tmp_path, make_config
):
    path = make_config(search={"trials": 10})
    reference = reference_leaderboard(path, tmp_path / "reference")
    rng = random.Random(1234)
    for stop_after in sorted(rng.sample(range(1, 10), 4)):
        finished = []

        def interrupt(event, stop_after=stop_after, finished=finished):
            if isinstance(event, TrialFinished):
                finished.append(event.record)
                if len(finished) == stop_after:
                    raise KeyboardInterrupt  # Ctrl-C while the display draws a trial

        outcome = hpsearch.start_run(path, backend="sequential").run(interrupt)
        assert outcome.status == "interrupted"
        assert len(hpsearch.load_run(outcome.run_dir).trials) == stop_after
        resumed = hpsearch.resume(outcome.run_dir, backend="sequential")
        assert resumed.status == "complete" and len(resumed.trials) == 10
        assert leaderboard(outcome.run_dir) == reference, stop_after


# -- trial faults ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_on_its_first_attempt_only_reruns_the_trial(tmp_path, make_config):
    objective = KillOnceLoky(str(tmp_path / "marker"))
    run = hpsearch.run(make_config(search={"trials": 8}), objective=objective, jobs=2)
    assert (tmp_path / "marker").exists()
    assert [r.trial for r in run.trials] == list(range(8))
    assert all(r.ok for r in run.trials)


@pytest.mark.slow
def test_a_trial_whose_memory_grows_fails_alone(make_config):
    run = hpsearch.run(make_config(search={"trials": 4}), objective=Greedy(), jobs=2)
    records = {r.trial: r for r in run.trials}
    assert records[1].status == "failed" and "MemoryError" in records[1].error
    assert all(records[i].ok for i in (0, 2, 3))


# -- process faults -------------------------------------------------------------------------------


def test_a_full_disk_stops_the_run_cleanly_and_resume_finishes_it(
    tmp_path, make_config, monkeypatch
):
    import hpsearch.store.core as store_module

    path = make_config(search={"trials": 6})
    reference = reference_leaderboard(path, tmp_path / "reference")
    real = store_module.append_line
    written = []

    def full_disk(f, line):
        if f.name.endswith("trials.jsonl"):
            if len(written) == 3:
                f.write(line[:10])  # part of the line made it before the disk filled
                raise OSError(28, "No space left on device")
            written.append(line)
        real(f, line)

    monkeypatch.setattr(store_module, "append_line", full_disk)
    result = invoke("run", str(path), "--quiet", "--backend", "sequential")
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr and "hpsearch resume" in result.stderr
    assert "Traceback" not in result.output
    run_dir = next(p for p in (tmp_path / "runs").iterdir())
    monkeypatch.setattr(store_module, "append_line", real)
    resumed = invoke("resume", str(run_dir), "--quiet")
    assert resumed.exit_code == 0, resumed.output
    assert leaderboard(run_dir) == reference


@pytest.mark.slow
def test_two_runs_into_one_runs_directory_at_once(tmp_path, make_config):
    path = make_config(search={"trials": 6})
    reference = reference_leaderboard(path, tmp_path / "reference")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "hpsearch", "run", str(path), "--quiet", "--jobs", "1"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    for run_dir in runs:
        assert len((run_dir / "trials.jsonl").read_text().splitlines()) == 6
        assert leaderboard(run_dir) == reference


def _append_many(run_dir: str, worker: int, count: int) -> None:
    store = RunStore(Path(run_dir))
    for i in range(count):
        store.append(
            TrialRecord(
                worker * count + i,
                {"x": i},
                i,
                "ok",
                {"m": 0.5},
                1,
                0.0,
                curves={"epoch": [1], "m": [0.5]},
            )
        )
    store.close()


@pytest.mark.slow
def test_concurrent_appends_lose_and_tear_no_record(tmp_path, make_config):
    config = load_config(make_config(search={"trials": 2}))
    store = RunStore.create(config, tmp_path / "runs")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_many, args=(str(store.path), w, 400)) for w in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    lines = (store.path / "trials.jsonl").read_text().splitlines()
    assert len(lines) == 1600
    assert sorted(json.loads(line)["trial"] for line in lines) == list(range(1600))
    assert len(store.load_trials().records) == 1600


@pytest.mark.slow
def test_no_worker_is_left_after_a_normal_run(tmp_path, make_config):
    path = make_config(search={"trials": 4})
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(path), "--quiet", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert process.wait(timeout=120) == 0
    assert_no_workers_left(process.pid)


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_a_runs_directory_that_cannot_be_made_is_one_line(tmp_path, make_config, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    runs = blocker if where == "a-file" else blocker / "runs"
    result = invoke("run", str(make_config(search={"trials": 2})), "--runs-dir", str(runs))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "cannot create" in result.stderr


@pytest.mark.slow
def test_resume_of_a_killed_run_with_a_running_summary(tmp_path, make_config):
    from hpsearch.search import start_search

    path = make_config(search={"trials": 5})
    reference = reference_leaderboard(path, tmp_path / "reference")
    config = load_config(path)
    search = start_search(config)
    first = search.history.rounds[0]
    for done, _ in enumerate(search.run_round(first, backend="sequential"), start=1):
        if done == 2:
            break
    search.store.close()  # no finish(): the driver "died"; summary.json still says running
    search.lock.release()  # as the kernel does for a killed process
    assert json.loads((search.store.path / "summary.json").read_text())["status"] == "running"
    assert invoke("resume", str(search.store.path), "--quiet").exit_code == 0
    assert leaderboard(search.store.path) == reference
    assert (search.store.path / "best.yaml").exists()
