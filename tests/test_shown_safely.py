"""Values from a config or a run shown as they are: never read as rich markup, emoji codes or
terminal escapes, never as a link, image or HTML in the Markdown summary, invisible characters
shown escaped, and a long message wrapped in the HTML report (issue 23, items 15-18)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hpsearch.cli import app

from .helpers import merged, run_json

CLOSE = "[/bold]"
LINK = "[link=https://evil.example]x[/link]"
EMOJI = ":thumbs_up:"
OTHER = "m[/bold][link=https://evil.example]m[/link]"  # another metric the objective reports

OBJECTIVE = f"""
def objective(params, seed):
    if params["kind"] == {LINK!r}:
        raise ValueError("boom {CLOSE} {LINK}")
    return {{"loss": params["x"] ** 2, {OTHER!r}: 1.0}}
"""

# A terminal with colours: where rich would write styles and hyperlinks (OSC 8) if it read
# a value as markup.
TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "300", "NO_COLOR": None}
OSC8 = "\x1b]8;"


@pytest.fixture
def hostile_config(tmp_path, make_config):
    (tmp_path / "hostile_obj.py").write_text(OBJECTIVE)

    def make(name: str = "hostile", **sections):
        base = {
            "name": name,
            "objective": {"python": "hostile_obj:objective", "workdir": str(tmp_path)},
            "space": {
                "x": {"scale": "linear", "min": 0.0, "max": 1.0},
                "kind": {"choice": [CLOSE, LINK, EMOJI]},
            },
            "search": {"trials": 6, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        }
        return make_config(name, base=merged(base, sections))

    return make


def _terminal(*args: str, live: bool = False):
    """``hpsearch ARGS`` as on a colour terminal (``live``: the live display, else plain lines);
    it must exit 0 or 1 with no traceback."""
    env = {**TERMINAL, "CI": None if live else "1"}
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    return result.stdout + result.stderr


def _shown_as_typed(output: str, *values: str) -> None:
    assert OSC8 not in output, repr(output)
    for value in values:
        assert value in output, (value, output)


def test_markup_in_values_is_shown_as_typed_by_every_command(hostile_config):
    config = str(hostile_config())
    _shown_as_typed(_terminal("validate", config), CLOSE, LINK, EMOJI)
    _shown_as_typed(_terminal("sample", config, "-n", "6"), CLOSE, LINK, EMOJI)
    output = _terminal("run", config)
    _shown_as_typed(output, CLOSE, LINK, f"boom {CLOSE} {LINK}")
    assert "run: " in output  # the final report is printed, after every trial
    live = str(hostile_config("live"))
    _shown_as_typed(_terminal("run", live, live=True), CLOSE, f"boom {CLOSE} {LINK}")
    first = run_json("run", config)["run_dir"]
    _shown_as_typed(_terminal("show", first), CLOSE, f"boom {CLOSE} {LINK}")
    second = run_json("run", config, "--seed", "5")["run_dir"]
    _shown_as_typed(_terminal("compare", first, second))
    _shown_as_typed(_terminal("list", "--runs-dir", str(hostile_config().parent / "runs")))
