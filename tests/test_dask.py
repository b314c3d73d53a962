"""The dask backend (with the [dask] extra): same results as loky, survives a dead worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import invoke
from .objectives import KillOnce

pytest.importorskip("distributed")

CONFIG = """\
name: daskrun
data: {source: spirals, classes: 3, samples: 300}
model: {layers: 1, epochs: 3}
space:
  learning_rate: {scale: log, min: 1.0e-3, max: 1.0e-1}
  hidden_units: {scale: log, min: 8, max: 32}
search: {trials: 6}
run: {runs_dir: RUNS, jobs: 2}
"""


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        processes=True,
    ) as c:
        yield c


def test_dask_gives_the_loky_leaderboard(tmp_path, cluster):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("RUNS", str(tmp_path / "runs")))
    boards = []
    for args in (
        ["--backend", "loky"],
        ["--backend", "dask", "--scheduler", cluster.scheduler_address],
    ):
        result = invoke("run", str(path), "--json", "--quiet", *args)
        assert result.exit_code == 0, result.output
        boards.append((Path(json.loads(result.stdout)["run_dir"]) / "leaderboard.csv").read_text())
    assert boards[0] == boards[1]


def test_a_killed_dask_worker_leaves_a_complete_search(tmp_path, cluster):
    from hpsearch.config import load_config
    from hpsearch.search import start_search

    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("RUNS", str(tmp_path / "runs")))
    config = load_config(path)
    search = start_search(config, objective=KillOnce(str(tmp_path / "killed")))
    records = list(search.run(backend="dask", scheduler=cluster.scheduler_address))
    search.finish("complete")
    assert (tmp_path / "killed").exists()
    assert sorted(r["trial"] for r in records) == list(range(6))
    victim = next(r for r in records if r["trial"] == 2)
    assert victim["status"] in ("ok", "failed")
    assert all(r["status"] == "ok" for r in records if r["trial"] != 2)


def test_local_cluster_when_no_scheduler_is_given(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        CONFIG.replace("RUNS", str(tmp_path / "runs")).replace("trials: 6", "trials: 3")
    )
    result = invoke("run", str(path), "--json", "--quiet", "--backend", "dask")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 3
