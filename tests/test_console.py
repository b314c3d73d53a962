"""Tables at any width: whole off a terminal, whole columns hidden (and named) on a narrow one."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

if sys.platform != "win32":
    import fcntl
    import pty
    import struct
    import termios

from hpsearch.display import final_report
from hpsearch.runs import load_run
from hpsearch.trainer.registry import REGISTRY

from .helpers import invoke

# Seven parameters: more columns than 80 characters hold.
SEVEN = {
    "name": "seven",
    "seed": 0,
    "data": {"source": "spirals", "classes": 3, "samples": 200},
    "model": {"epochs": 2},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
        "beta2": {"scale": "one_minus_log", "min": 0.99, "max": 0.9999},
        "hidden_units": {"scale": "log", "min": 8, "max": 64, "type": "int"},
        "batch_size": {"choice": [32, 64]},
        "l2": {"scale": "log", "min": 1.0e-5, "max": 1.0e-2},
        "optimizer": {"choice": ["adam", "rmsprop"]},
    },
    "search": {"trials": 4},
    "zoom": {"trials": 3},
    "run": {"jobs": 1, "backend": "sequential"},
}
NAMES = ["learning_rate", "beta1", "beta2", "hidden_units", "batch_size", "l2", "optimizer"]


def terminal_80(monkeypatch) -> None:
    """From now on the CLI's output is as on a terminal 80 columns wide (CliRunner's is not a
    terminal)."""
    monkeypatch.setattr("hpsearch.console._isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")


def in_a_terminal(*args: str, columns: int) -> str:
    """``hpsearch ARGS`` in a pseudo-terminal ``columns`` wide; what it showed, without escapes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(master)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def only_run(tmp_path: Path):
    """The config, summary and ranked trials of the one run under ``tmp_path/runs``."""
    (path,) = (tmp_path / "runs").iterdir()
    run = load_run(path)
    return path, run.config, run.summary, run.ranked()


def table_lines(text: str, header: str) -> list[str]:
    """The header line starting with ``header`` and the rows under it, up to a blank-ish end."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = [lines[start]]
    for line in lines[start + 1 :]:
        if not re.match(r"\s*\d+\s", line):
            break
        rows.append(line)
    return rows


def test_params_off_a_terminal_has_each_description_on_its_line():
    result = invoke("params")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for h in REGISTRY.values():
        (line,) = [line for line in lines if line.split() and line.split()[0] == h.name]
        assert line.rstrip().endswith(h.description)
    assert "…" not in result.stdout and "hidden:" not in result.stdout


@pytest.mark.slow
def test_params_piped_in_a_real_process():
    """``hpsearch params | cat``: rich took COLUMNS, the width of a terminal on stdin, or 80.
    Under pytest (readline loaded) the child inherits COLUMNS=80: ignored off a terminal."""
    out = subprocess.run(
        [sys.executable, "-m", "hpsearch", "params"], capture_output=True, text=True, check=True
    )
    assert "update rule" in out.stdout
    assert any(
        line.rstrip().endswith("floating-point precision of training")
        for line in out.stdout.splitlines()
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_params_in_an_80_column_terminal_wraps_descriptions_and_keeps_the_scale():
    text = in_a_terminal("params", columns=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in text
    assert "hidden: type, default — widen the terminal, or pipe the output to less -S" in lines
    words = text.split()
    for h in REGISTRY.values():  # every word of every description is there, none cut
        assert all(word in words for word in h.description.split()), h.name


def test_final_table_when_piped_has_every_parameter_and_status_uncut(tmp_path, make_config):
    result = invoke("run", str(make_config(base=SEVEN)))
    assert result.exit_code == 0, result.output
    header, *rows = table_lines(result.stdout, "rank")
    assert header.split() == ["rank", "trial", "val_accuracy", *NAMES, "status"]
    assert len(rows) == 4 and all(len(row.split()) == 3 + len(NAMES) + 1 for row in rows)
    assert "…" not in result.stdout and "hidden:" not in result.stdout
    _, config, _, ranked = only_run(tmp_path)
    for row, r in zip(rows, ranked, strict=True):  # every value whole, formatted for its scale
        assert row.split()[3:-1] == [config.space[n].format(r.params[n]) for n in NAMES]


def test_final_table_on_a_narrow_terminal_hides_whole_columns_and_says_which(tmp_path, make_config):
    result = invoke("run", str(make_config(base=SEVEN)), "--quiet")
    assert result.exit_code == 0, result.output
    run_dir, config, summary, ranked = only_run(tmp_path)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    final_report(console, config, summary, ranked, run_dir)
    text = out.getvalue()
    header, *rows = table_lines(text, "rank")
    shown = header.split()
    assert shown == ["rank", "trial", "val_accuracy", *NAMES[: len(shown) - 3]]
    hidden = [*NAMES[len(shown) - 3 :], "status"][::-1]
    assert f"hidden: {', '.join(hidden)} — widen the terminal, or see" in " ".join(text.split())
    assert all(len(line) <= 80 for line in [header, *rows]) and "…" not in text
    assert all(len(row.split()) == len(shown) for row in rows)
    assert len(rows) == 4 and 3 < len(shown) < 3 + len(NAMES)


def test_the_rounds_table_shows_every_round_piped_and_at_80_columns(
    tmp_path, make_config, monkeypatch
):
    path = make_config(base=SEVEN)
    for narrow in (False, True):
        if narrow:
            terminal_80(monkeypatch)
        result = invoke("run", str(path), "--rounds", "1")
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        start = [line.strip() for line in lines].index("rounds")
        header, first, *rest = lines[start + 1 :]
        assert header.split()[:3] == ["round", "trials", "space"] and header.split()[-1] == "what"
        assert first.split()[:3] == ["0", "4", "100%"] and "the whole space" in first
        assert next(line for line in rest if line.split()[0] == "1")
        words = " ".join(" ".join(lines[start:]).split())
        assert "zoom inside the search's region around the top 2 of its 4 trials" in words
        assert "…" not in result.stdout
        if narrow:
            assert all(len(line) <= 80 for line in lines[start:])


@pytest.mark.slow
def test_list_and_compare_keep_run_ids_whole_and_hide_runs_that_do_not_fit(
    tmp_path, make_config, monkeypatch
):
    path = make_config(base=SEVEN)
    for seed in ("1", "2", "3"):
        assert invoke("run", str(path), "--quiet", "--seed", seed).exit_code == 0
    runs = json.loads(invoke("list", "--runs-dir", str(tmp_path / "runs"), "--json").stdout)["runs"]
    ids = [r["run_id"] for r in runs]
    dirs = [r["path"] for r in runs]
    piped = invoke("compare", *dirs).stdout
    assert piped.splitlines()[1].split() == ids  # each on the header line, whole
    terminal_80(monkeypatch)
    listed = invoke("list", "--runs-dir", str(tmp_path / "runs")).stdout
    assert [line.split()[0] for line in listed.splitlines()[2:5]] == ids
    narrow = invoke("compare", *dirs).stdout
    assert narrow.splitlines()[1].split() == ids[:2]
    assert f"hidden: {ids[2]} — widen the terminal" in " ".join(narrow.split())
    assert all(len(line) <= 80 for line in narrow.splitlines()) and "…" not in narrow


def test_force_color_gives_colours_but_no_width_limit(monkeypatch):
    """FORCE_COLOR makes rich treat a CI log as a terminal; it has no width to fit all the same."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    plain = invoke("params").stdout
    assert "\x1b[" not in plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = invoke("params").stdout
    assert re.search(r"\x1b\[[0-9;]*m", coloured)  # styled: bold headers, ...
    text = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert text.split() == plain.split()  # ... and the same words as piped: nothing cut
    assert "hidden:" not in text
    assert any(
        line.rstrip().endswith("floating-point precision of training") for line in text.splitlines()
    )
