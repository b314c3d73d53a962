"""The YAML dumper and loader: every value round-trips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsearch import yamlio
from hpsearch.config import load_config

from .helpers import invoke

# -- dump, then load: the same values -----------------------------------------------------------

# Strings that a YAML 1.1 or 1.2 reader takes for something else, or that need escaping.
AWKWARD = [
    "1e-4", "0o17", "2e3", "0x1F", "-.5", "+1", "1.", "1_000", "0b11", "010", "1:30",
    ".inf", "-.inf", "+.inf", ".nan", ".NaN", "yes", "no", "on", "off", "y", "n", "True",
    "FALSE", "null", "Null", "~", "", "<<", "=", "2024-01-01", "2001-12-14t21:59:43.10-05:00",
    " x", "x ", "a: b", "a #b", "#", "- x", "-", "[", "{", "!x", "!!str", "&a", "*a", "? x",
    "%x", "@", "`", "'", '"', "\\", "\n", "a\nb", "\r", "\t", " ", "\x85", "\u2028", "\u2029",
    "\ufeff", "\x00", "\x7f", "\xa0", "---", "...", "é", "\U0001f600",
]  # fmt: skip
strings = st.text() | st.sampled_from(AWKWARD) | st.lists(st.sampled_from(AWKWARD)).map("".join)


def documents(finite: bool):
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=not finite, allow_infinity=not finite),
        strings,
    )
    values = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(strings, children, max_size=5)
        ),
        max_leaves=30,
    )
    return st.dictionaries(strings, values, max_size=6)


def same(a, b) -> bool:
    """Equal, of the same types all the way down; -0.0 is not 0.0 and NaN is NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=500)
@given(documents(finite=False))
def test_dump_then_load_gives_back_every_value(data):
    text = yamlio.dump(data)
    assert same(yamlio.load(text, "x.yaml")[0], data), text


@settings(max_examples=500)
@given(documents(finite=True))
def test_plain_pyyaml_reads_the_dump_with_the_same_values(data):
    text = yamlio.dump(data)
    assert same(yaml.safe_load(text), data), text


@pytest.mark.parametrize(
    "value",
    [
        *AWKWARD,
        0.0, -0.0, 1.0, 1e-4, 1e-5, 2e3, 1e16, 1e300, 5e-324, -1.5e-7,
        math.inf, -math.inf, math.nan,
        0, -7, 15, 10**40, True, False, None,
        ["1e-4", 1e-4, "0o17", 15, "yes", True],
        {"1e-4": "0o17", "yes": {"on": ["2e3", None]}, "": []},
    ],
    ids=repr,
)  # fmt: skip
def test_round_trip_examples(value):
    data = {"value": value, "in a list": [value], value if isinstance(value, str) else "k": 1}
    text = yamlio.dump(data)
    assert same(yamlio.load(text, "x.yaml")[0], data), text
    if not (isinstance(value, float) and not math.isfinite(value)):
        assert same(yaml.safe_load(text), data), text


def test_dump_writes_no_anchors_for_a_value_used_twice():
    shared = [1, 2]
    text = yamlio.dump({"a": shared, "b": {"c": shared}})
    assert "&" not in text and "*" not in text


STRINGS_OBJECTIVE = """
def objective(params, seed, report=None):
    # The best trials are those with the octal-looking string.
    return {"loss": (params["x"] - 1) ** 2 + (0 if params["kind"] == "0o17" else 10)}
"""
KINDS = ["1e-4", "0o17", "2e3", "yes"]


def test_string_choices_survive_a_run_resume_and_zoom(tmp_path):
    (tmp_path / "strmodel.py").write_text(STRINGS_OBJECTIVE)
    path = tmp_path / "config.yaml"
    path.write_text(
        'name: strings\nobjective: {python: "strmodel:objective"}\n'
        "space:\n"
        "  x: {scale: linear, min: -2.0, max: 4.0}\n"
        f"  kind: {{choice: {json.dumps(KINDS)}}}\n"
        "search: {trials: 12, metric: loss, direction: minimize}\n"
        f"run: {{runs_dir: {tmp_path / 'runs'}, jobs: 1, backend: sequential}}\n"
    )
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    run_dir = Path(doc["run_dir"])
    assert doc["best"]["params"]["kind"] == "0o17"
    saved, _ = yamlio.load((run_dir / "config.yaml").read_text(), "config.yaml")
    assert saved["space"]["kind"]["choice"] == KINDS
    assert load_config(run_dir / "config.yaml").space["kind"].choices == tuple(KINDS)
    best, _ = yamlio.load((run_dir / "best.yaml").read_text(), "best.yaml")
    assert best["model"]["kind"] == "0o17"
    assert yaml.safe_load((run_dir / "best.yaml").read_text())["model"]["kind"] == "0o17"
    resumed = invoke("resume", str(run_dir), "--quiet")
    assert resumed.exit_code == 0, resumed.output
    zoomed = invoke("zoom", str(run_dir), "--json", "--quiet", "--trials", "3")
    assert zoomed.exit_code == 0, zoomed.output
    assert "Traceback" not in zoomed.output
    assert json.loads(zoomed.stdout)["counts"]["ok"] == 3
