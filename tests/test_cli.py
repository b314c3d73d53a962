import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch import __version__

from .helpers import QUICKSTART, invoke

ROOT = Path(__file__).resolve().parents[1]


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"hpsearch {__version__}"


@pytest.mark.parametrize("command", ["validate", "sample", "params"])
def test_every_command_has_help_from_its_docstring(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_validate_prints_scales_ranges_and_quantiles(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert lines["learning_rate"][1:] == ["log", "1.0e-04–1.0e+00", "2.5e-04", "1.0e-02", "4.0e-01"]
    # one_minus_log: the median of 0.9..0.999 is 0.99, the 90 % quantile 1 - 10**-2.8.
    assert lines["beta1"][1:] == ["one_minus_log", "0.900–0.9990", "0.937", "0.990", "0.9984"]
    assert "is valid" in result.stdout


def test_sample_table_shows_spread_per_decade(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    result = invoke("sample", str(path), "-n", "400")
    assert result.exit_code == 0
    assert "400 sampled trials" in result.stdout
    assert "1.0e-04–1.0e-03" in result.stdout and "0.990–0.9990" in result.stdout


def test_sample_rejects_impossible_count(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    result = invoke("sample", str(path), "-n", "0")
    assert result.exit_code == 2


def test_params_lists_the_registry():
    result = invoke("params")
    assert result.exit_code == 0
    for name in ("learning_rate", "beta1", "bn_momentum", "batch_size", "dtype"):
        assert name in result.stdout


def test_installed_entry_points_work_in_a_subprocess(tmp_path):
    """``python -m hpsearch`` and the installed console script, as a user calls them."""
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    env = {**os.environ, "COLUMNS": "120"}
    out = subprocess.run(
        [sys.executable, "-m", "hpsearch", "sample", str(path), "-n", "1000", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    trials = json.loads(out.stdout)["trials"]
    assert len(trials) == 1000
    bad = tmp_path / "bad.yaml"
    bad.write_text("space:\n  learning_rate: {scale: log, min: 0, max: 1}\n")
    script = Path(sys.executable).with_name("hpsearch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hpsearch"]
    out = subprocess.run([*command, "validate", str(bad)], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr == (
        f"error: {bad}:2: space.learning_rate.min: must be > 0 for scale 'log', got 0\n"
    )
    assert out.stdout == ""


def test_example_configs_validate():
    configs = sorted((ROOT / "configs").glob("*.yaml"))
    assert configs
    for path in configs:
        result = invoke("validate", str(path))
        assert result.exit_code == 0, (path, result.stderr)


def test_validate_checks_the_data_too(tmp_path):
    path = tmp_path / "csv.yaml"
    path.write_text(
        "data: {path: missing.csv, target: label}\n"
        "space:\n  learning_rate: {scale: log, min: 1.0e-4, max: 1.0}\n"
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "missing.csv" in result.stderr and "not found" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_validate_reports_the_dataset(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    result = invoke("validate", str(path))
    assert "data: spirals, 1600 training / 400 validation examples, 2 features, 4 classes" in (
        result.stdout
    )
