"""Values from a config or a run shown as they are: never read as rich markup, emoji codes or
terminal escapes, never as a link, image or HTML in the Markdown summary, invisible characters
shown escaped, and a long message wrapped in the HTML report (issue 23, items 15-18)."""

from __future__ import annotations

from pathlib import Path

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


def test_markup_in_values_is_shown_as_typed_by_validate_sample_and_show(hostile_config):
    config = str(hostile_config())
    _shown_as_typed(_terminal("validate", config), CLOSE, LINK, EMOJI)
    _shown_as_typed(_terminal("sample", config, "-n", "6"), CLOSE, LINK, EMOJI)
    run_dir = run_json("run", config)["run_dir"]
    _shown_as_typed(_terminal("show", run_dir), CLOSE, f"boom {CLOSE} {LINK}")


@pytest.mark.slow
def test_markup_in_values_is_shown_as_typed_by_run_compare_and_list(hostile_config):
    config = str(hostile_config())
    output = _terminal("run", config)
    _shown_as_typed(output, CLOSE, LINK, f"boom {CLOSE} {LINK}")
    assert "run: " in output  # the final report is printed, after every trial
    live = str(hostile_config("live"))
    _shown_as_typed(_terminal("run", live, live=True), CLOSE, f"boom {CLOSE} {LINK}")
    first = run_json("run", config)["run_dir"]
    second = run_json("run", config, "--seed", "5")["run_dir"]
    _shown_as_typed(_terminal("compare", first, second))
    _shown_as_typed(_terminal("list", "--runs-dir", str(Path(config).parent / "runs")))


# -- the Markdown summary, as GitHub renders it ---------------------------------------------------

LINKY = ["https://evil.example/x", "a@evil.example", "mailto:b@evil.example", "www.evil.org"]
FAILING = """
def objective(params, seed):
    if params["kind"] == "a@evil.example":
        raise ValueError("see https://evil.example/e, c@evil.example or www.evil.net")
    return {"loss": params["x"] ** 2}
"""
# What the summary's own Markdown makes: a heading, paragraphs, bold, tables.
OWN_TAGS = {"h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td"}


def _github(markdown: str) -> str:
    """``markdown`` as GitHub renders it (cmark-gfm with GitHub's extensions)."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE,  # raw HTML kept: any from a value would show
        extensions=["autolink", "table", "strikethrough", "tagfilter"],
    )


def test_the_markdown_summary_has_no_link_image_or_html_from_a_run(tmp_path, make_config):
    import re

    (tmp_path / "linky.py").write_text(FAILING)
    config = make_config(
        "www.evil.com",
        base={
            "objective": {"python": "linky:objective", "workdir": str(tmp_path)},
            "space": {
                "x": {"scale": "linear", "min": 0.0, "max": 1.0},
                "kind": {"choice": [*LINKY, "<b>x</b>", "![i](https://e.com/i.png)"]},
            },
            "search": {"trials": 24, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        },
    )
    run_dir = run_json("run", str(config))["run_dir"]
    result = CliRunner().invoke(app, ["report", run_dir, "--markdown"], catch_exceptions=False)
    html = _github(result.stdout)
    assert "<a " not in html and "<img" not in html, html
    assert set(re.findall(r"<([a-z0-9]+)", html)) <= OWN_TAGS, html
    # Shown as typed, once rendered.
    text = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")
    for value in [*LINKY, "<b>x</b>", "www.evil.com", "see https://evil.example/e"]:
        assert value in text.replace("\u2060", ""), value


# -- invisible characters, shown escaped ------------------------------------------------------

SPOOF = "photo\u202egnp.exe"  # shows as "photoexe.png"
HIDDEN = "zero\u200bwidth"
ESCAPED = ["photo\\u202egnp.exe", "zero\\u200bwidth"]
RAW_OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
INVISIBLE = f"""
def objective(params, seed):
    if params["kind"] == "plain":
        raise ValueError("bad \\u202eftp " + {RAW_OSC8!r})
    return {{"loss": params["x"] ** 2}}
"""


@pytest.fixture
def invisible_run(tmp_path, make_config):
    (tmp_path / "invisible.py").write_text(INVISIBLE)
    config = make_config(
        "invisible",
        base={
            "objective": {"python": "invisible:objective", "workdir": str(tmp_path)},
            "space": {
                "x": {"scale": "linear", "min": 0.0, "max": 1.0},
                "kind": {"choice": [SPOOF, HIDDEN, "plain"]},
            },
            "search": {"trials": 9, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        },
    )
    return config, run_json("run", str(config))["run_dir"]


def _none_invisible(text: str) -> None:
    for ch in ("\u202e", "\u200b", "\x1b]8"):
        assert ch not in text, (ch, text)


def test_bidi_and_zero_width_characters_are_shown_escaped_on_the_terminal(invisible_run):
    config, run_dir = invisible_run
    for args in (["validate", str(config)], ["sample", str(config)], ["show", run_dir]):
        output = _terminal(*args)
        _none_invisible(output)
        assert all(value in output for value in ESCAPED), output
    output = _terminal("show", run_dir)
    assert "bad \\u202eftp \\x1b]8;;https://evil.example\\x1b\\click" in output


def test_bidi_and_zero_width_characters_are_shown_escaped_in_the_reports(invisible_run):
    _, run_dir = invisible_run
    assert CliRunner().invoke(app, ["report", run_dir]).exit_code == 0
    page = (Path(run_dir) / "report.html").read_text()
    _none_invisible(page)
    assert all(value in page for value in ESCAPED)
    assert "bad \\u202eftp \\x1b]8;;https://evil.example" in page
    markdown = CliRunner().invoke(app, ["report", run_dir, "--markdown"]).stdout
    shown = _github(markdown)
    _none_invisible(markdown + shown)
    assert all(value in shown for value in ESCAPED), shown
