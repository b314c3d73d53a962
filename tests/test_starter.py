"""Getting started: the course's tuning priorities in ``params``, and ``hpsearch init``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpsearch import api
from hpsearch.config import load_config
from hpsearch.trainer.registry import REGISTRY

from .helpers import invoke, one_line_error, run_json

ROOT = Path(__file__).resolve().parents[1]

COURSE_TIERS = {
    "learning_rate": "1",
    "beta1": "2",
    "momentum_beta": "2",
    "hidden_units": "2",
    "batch_size": "2",
    "layers": "3",
    "lr_decay": "3",
    "adam_beta1": "-",
    "adam_beta2": "-",
    "adam_epsilon": "-",
}


def rows_by_name(text: str) -> dict[str, list[str]]:
    """The words of each table row, by the hyperparameter it starts with."""
    rows = {}
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in REGISTRY:
            rows[words[0]] = words
    return rows


def test_params_shows_the_course_tier_of_each_hyperparameter():
    result = invoke("params")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith("name"))
    assert header.split()[:2] == ["name", "tier"]
    rows = rows_by_name(result.stdout)
    assert set(rows) == set(REGISTRY)
    for name, tier in COURSE_TIERS.items():
        assert rows[name][1] == tier, name
    assert "usually left at their defaults 0.9, 0.999, 1e-8" in " ".join(result.stdout.split())
    assert api.hyperparameters()["learning_rate"].tier == 1  # the data is in the registry


def test_params_at_80_columns_keeps_every_scale_whole(monkeypatch):
    monkeypatch.setattr("hpsearch.console._isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("params")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in result.stdout
    header = next(line for line in lines if line.startswith("name"))
    assert "scale" in header.split() and "tier" in header.split()
    rows = rows_by_name(result.stdout)
    assert set(rows) == set(REGISTRY)
    for name, h in REGISTRY.items():
        scale = h.suggested_scale if h.type in ("int", "float") else "choice"
        assert scale in rows[name], (name, rows[name])
    hidden = [line for line in lines if line.startswith("hidden:")]
    assert all("scale" not in line for line in hidden)


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_registry_tiers_come_with_a_search_range_on_the_suggested_scale(tier):
    written = [h for h in REGISTRY.values() if h.tier == tier and h.search_range]
    assert written, tier
    for h in written:
        low, high = h.search_range
        assert h.interval is not None and h.interval.contains(low) and h.interval.contains(high)
        assert low < high


# -- hpsearch init ------------------------------------------------------------------------------


def starter_space(path: Path) -> dict:
    return {p.name: p for p in load_config(path).space}


def test_init_writes_a_commented_starter_that_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "wrote hpsearch.yaml: tier 1 learning_rate; tier 2 beta1, hidden_units, batch_size; "
        "data spirals; 40 trials",
        "next: hpsearch run hpsearch.yaml",
    ]
    text = (tmp_path / "hpsearch.yaml").read_text()
    assert "  # tier 1, the one that matters most: step size α0 of gradient descent\n" in text
    assert "  # log scale: 0.0001 … 1, drawn evenly per decade\n" in text
    config = load_config(tmp_path / "hpsearch.yaml")
    quickstart = load_config(ROOT / "configs" / "quickstart.yaml")
    assert config.data == quickstart.data  # the quickstart's built-in dataset
    assert invoke("validate", "hpsearch.yaml").exit_code == 0


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_init_tier_n_searches_tiers_up_to_n_on_their_registry_scale_and_range(tmp_path, tier):
    path = tmp_path / "start.yaml"
    result = invoke("init", str(path), "--tier", str(tier))
    assert result.exit_code == 0, result.output
    space = starter_space(path)
    expected = {h.name for h in REGISTRY.values() if h.tier and h.tier <= tier and h.search_range}
    assert set(space) == expected and "learning_rate" in expected
    assert (tier >= 3) == ("layers" in expected) == ("lr_decay" in expected)
    for name, p in space.items():
        h = REGISTRY[name]
        assert (p.scale.name, (p.low, p.high)) == (h.suggested_scale, h.search_range)
        assert p.integer == (h.type == "int")
        assert f"  # tier {h.tier}, " in path.read_text()
    model = load_config(path).model
    assert not set(model) & set(space)  # a searched setting is not also fixed


@pytest.mark.slow
@pytest.mark.parametrize("tier", [1, 3])
def test_init_then_run_as_written(tmp_path, monkeypatch, tier):
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "--tier", str(tier)).exit_code == 0
    doc = run_json("run", "hpsearch.yaml", "--trials", "2")
    assert doc["counts"]["ok"] == 2, doc


@pytest.mark.parametrize("existing", ["file", "directory", "dangling symlink"])
def test_init_never_overwrites(tmp_path, monkeypatch, existing):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "hpsearch.yaml"
    if existing == "file":
        target.write_text("mine: 1\n")
    elif existing == "directory":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "nowhere")
    result = invoke("init")
    one_line_error(result, "hpsearch.yaml exists; give another path or remove it")
    assert result.stderr == "error: hpsearch.yaml exists; give another path or remove it\n"
    if existing == "file":
        assert target.read_text() == "mine: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hpsearch.yaml"]


def test_init_never_overwrites_a_file_made_while_it_checks(tmp_path, monkeypatch):
    """Another process writes the file between the check and the write: it is kept."""
    import hpsearch.starter

    target = tmp_path / "hpsearch.yaml"
    real = hpsearch.starter.load_dataset

    def meanwhile(*args, **kwargs):
        target.write_text("theirs\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(hpsearch.starter, "load_dataset", meanwhile)
    one_line_error(invoke("init", str(target)), "exists; give another path or remove it")
    assert target.read_text() == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["hpsearch.yaml"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "0"], "error: --tier: must be 1, 2 or 3, got 0"),
        (["--tier", "4"], "error: --tier: must be 1, 2 or 3, got 4"),
        (["--data", "mnist"], "error: --data mnist: unknown value 'mnist' (a string); expected"),
        (["--data", "npz"], "error: --data npz: give the .npz file itself, e.g. --data train.npz"),
        (["--data", "gone.npz"], "error: --data gone.npz: no such file"),
        (["--data", "t.csv"], "error: --data t.csv: a .csv file needs the name of its label"),
        (["no/dir.yaml"], "error: no/dir.yaml: no directory no; make it first"),
    ],
)
def test_init_refuses_a_bad_tier_or_data_and_writes_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", *args)
    assert one_line_error(result).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_init_data_file_is_written_relative_to_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "d.npz", X=rng.normal(size=(60, 3)), y=np.arange(60) % 3)
    (tmp_path / "sub").mkdir()
    result = invoke("init", "sub/start.yaml", "--data", "data/d.npz")
    assert result.exit_code == 0, result.output
    assert "data data/d.npz" in result.stdout
    assert 'data: {path: "../data/d.npz"}' in (tmp_path / "sub" / "start.yaml").read_text()
    monkeypatch.chdir(tmp_path / "sub")
    assert invoke("validate", "start.yaml").exit_code == 0


def test_init_into_a_directory_that_does_not_exist_names_the_directory(tmp_path, monkeypatch):
    """Not the data file, whose path from a directory that does not exist cannot be found."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(60, 3)), y=np.arange(60) % 3)
    line = one_line_error(invoke("init", "no/start.yaml", "--data", "d.npz"))
    assert line == "error: no/start.yaml: no directory no; make it first (mkdir -p no)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_init_data_file_is_found_from_a_config_directory_reached_by_a_symlink(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "d.npz", X=rng.normal(size=(60, 3)), y=np.arange(60) % 3)
    (tmp_path / "deep" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "deep" / "sub")
    result = invoke("init", "link/start.yaml", "--data", "data/d.npz")
    assert result.exit_code == 0, result.output
    assert invoke("validate", "link/start.yaml").exit_code == 0


def test_init_help_names_the_default_file():
    text = " ".join(invoke("init", "--help").stdout.split())
    assert "default: hpsearch.yaml" in text and "--tier" in text and "--data" in text
