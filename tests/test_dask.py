"""The dask backend (with the [dask] extra): the same results as worker processes; a dead
worker survived."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hpsearch

from .helpers import DASK_SMALL, invoke
from .objectives import KillOnce

pytest.importorskip("distributed")

DASK = DASK_SMALL


@pytest.fixture(scope="module")
def cluster():
    import dask
    from dask.distributed import LocalCluster

    # One retry after a worker death (Dask's default is 3, each with a worker restart).
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            processes=True,
        ) as c,
    ):
        yield c


def _on_processes_and_dask(path: Path, cluster) -> list[Path]:
    """The run directories of ``hpsearch run PATH`` on worker processes, then on Dask."""
    runs = []
    for args in (
        ["--backend", "processes"],
        ["--backend", "dask", "--scheduler", cluster.scheduler_address],
    ):
        result = invoke("run", str(path), "--json", "--quiet", *args)
        assert result.exit_code == 0, result.output
        runs.append(Path(json.loads(result.stdout)["run_dir"]))
    return runs


@pytest.mark.slow
def test_dask_gives_the_processes_leaderboard(make_config, cluster):
    runs = _on_processes_and_dask(make_config(base=DASK), cluster)
    assert (runs[0] / "leaderboard.csv").read_text() == (runs[1] / "leaderboard.csv").read_text()


@pytest.mark.slow
def test_a_killed_dask_worker_leaves_a_complete_search(tmp_path, make_config, cluster):
    path = make_config(base=DASK)
    objective = KillOnce(str(tmp_path / "killed"))
    run = hpsearch.run(
        path, objective=objective, backend="dask", scheduler=cluster.scheduler_address
    )
    assert (tmp_path / "killed").exists()
    assert [r.trial for r in run.trials] == list(range(6))
    assert run.trials[2].status in ("ok", "failed")
    assert all(r.ok for r in run.trials if r.trial != 2)


@pytest.mark.slow
def test_local_cluster_when_no_scheduler_is_given(make_config):
    path = make_config(base=DASK, search={"trials": 3})
    result = invoke("run", str(path), "--json", "--quiet", "--backend", "dask")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 3


@pytest.mark.slow
def test_a_trial_that_always_kills_its_dask_worker_is_failed(make_config, cluster):
    from .objectives import AlwaysKill

    path = make_config(base=DASK)
    address = cluster.scheduler_address
    run = hpsearch.run(path, objective=AlwaysKill(), backend="dask", scheduler=address)
    records = {r.trial: r.to_json() for r in run.trials}
    assert sorted(records) == list(range(6))
    assert records[2]["status"] == "failed" and "KilledWorker" in records[2]["error"]
    # A bystander queued on the dying worker twice can share its fate (Dask's rule); it is
    # then recorded the same way, never lost.
    for i in (0, 1, 3, 4, 5):
        assert records[i]["status"] == "ok" or "KilledWorker" in records[i]["error"]


@pytest.mark.slow
def test_early_stopping_on_dask_takes_the_same_decisions(make_config, cluster):
    path = make_config(
        base=DASK,
        model={"epochs": 9},
        search={"trials": 9},
        early_stop={"method": "halving", "min_epochs": 1, "eta": 3},
    )
    runs = _on_processes_and_dask(path, cluster)

    def lines(run_dir: Path, name: str) -> list[dict]:
        items = [json.loads(line) for line in (run_dir / name).read_text().splitlines()]
        for item in items:
            item.pop("seconds")
        return sorted(items, key=lambda item: (item["trial"], item.get("rung", 0)))

    for name in ("trials.jsonl", "rungs.jsonl"):
        assert lines(runs[0], name) == lines(runs[1], name)
    assert (runs[0] / "leaderboard.csv").read_text() == (runs[1] / "leaderboard.csv").read_text()


@pytest.mark.slow
def test_a_model_guided_budget_on_dask_picks_the_same_trials(make_config, cluster):
    # The model's picks are made in the driver and written with each round: a Dask run of a
    # budget gives the trials, values and rounds of a run on worker processes.
    runs = _on_processes_and_dask(make_config(base={**DASK, "search": {"budget": 12}}), cluster)
    assert (runs[0] / "leaderboard.csv").read_text() == (runs[1] / "leaderboard.csv").read_text()
    rounds = [(r / "rounds.jsonl").read_text().splitlines() for r in runs]
    assert rounds[0] == rounds[1] and '"points"' in rounds[0][-1]
