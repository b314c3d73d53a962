import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch import __version__
from hpsearch.cli import app
from hpsearch.config import load_config
from hpsearch.trainer.registry import REGISTRY

from .helpers import QUICKSTART, invoke

ROOT = Path(__file__).resolve().parents[1]
# Every command of the app, by the name it is called with, and the function it runs.
COMMANDS = {
    info.name or info.callback.__name__.replace("_", "-"): info.callback
    for info in app.registered_commands
}


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"hpsearch {__version__}"


def test_the_main_help_lists_every_command_with_its_summary_line():
    assert {"run", "resume", "zoom", "show", "validate"} <= set(COMMANDS)
    result = invoke("--help")
    assert result.exit_code == 0
    listed = [line.split(maxsplit=1) for line in result.stdout.splitlines() if line.strip()]
    for command, function in COMMANDS.items():
        assert [command, inspect.getdoc(function).splitlines()[0]] in listed, command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_from_its_docstring(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    doc = inspect.getdoc(COMMANDS[command])
    assert doc, f"{command} has no docstring"
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert doc.splitlines()[0] in lines  # the summary line, on a line of its own


def test_validate_prints_scales_ranges_and_quantiles(make_config):
    path = make_config(base=QUICKSTART)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert lines["learning_rate"][1:] == ["log", "1.0e-04–1.0e+00", "2.5e-04", "1.0e-02", "4.0e-01"]
    # one_minus_log: the median of 0.9..0.999 is 0.99, the 90 % quantile 1 - 10**-2.8.
    assert lines["beta1"][1:] == ["one_minus_log", "0.900–0.9990", "0.937", "0.990", "0.9984"]
    assert "is valid" in result.stdout


@pytest.mark.slow
def test_sample_table_shows_spread_per_decade(make_config):
    path = make_config(base=QUICKSTART)
    result = invoke("sample", str(path), "-n", "400")
    assert result.exit_code == 0
    assert "400 sampled trials" in result.stdout
    assert "1.0e-04–1.0e-03" in result.stdout and "0.990–0.9990" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}

    def spread(name: str) -> dict[str, int]:
        """The row of ``name``: each interval's share of the trials, in per cent."""
        cells = rows[name]
        return {cells[i]: int(cells[i + 1].rstrip("%")) for i in range(0, len(cells), 2)}

    # A log scale: a quarter of the trials in each of the four decades of 1e-4..1.
    decades = ["1.0e-04–1.0e-03", "1.0e-03–1.0e-02", "1.0e-02–1.0e-01", "1.0e-01–1.0e+00"]
    assert list(spread("learning_rate")) == decades
    assert all(abs(share - 25) <= 5 for share in spread("learning_rate").values())
    # one_minus_log: half in each decade of 1 − β, 0.9..0.99 and 0.99..0.999.
    assert list(spread("beta1")) == ["0.900–0.990", "0.990–0.9990"]
    assert all(abs(share - 50) <= 7 for share in spread("beta1").values())


def test_sample_rejects_impossible_count(make_config):
    path = make_config(base=QUICKSTART)
    result = invoke("sample", str(path), "-n", "0")
    assert result.exit_code == 2


def test_params_lists_the_registry():
    result = invoke("params")
    assert result.exit_code == 0
    for name in ("learning_rate", "beta1", "bn_momentum", "batch_size", "dtype"):
        assert name in result.stdout
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(REGISTRY) <= listed


@pytest.mark.slow
def test_installed_entry_points_work_in_a_subprocess(tmp_path, make_config):
    """``python -m hpsearch`` and the installed console script, as a user calls them."""
    path = make_config(base=QUICKSTART)
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


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_example_configs_validate(name):
    path = ROOT / "configs" / name
    if load_config(path).data.source == "digits":
        pytest.importorskip("sklearn")  # the [datasets] extra
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


def test_validate_reports_the_dataset(make_config):
    path = make_config(base=QUICKSTART)
    result = invoke("validate", str(path))
    assert "data: spirals, 1600 training / 400 validation examples, 2 features, 4 classes" in (
        result.stdout
    )
