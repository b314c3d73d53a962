"""The YAML loader and dumper: every value round-trips, and no document can make the loader
run long, recurse without bound or hand on a value that is not plain data."""

from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsearch import yamlio
from hpsearch.config import load_config
from hpsearch.errors import ConfigError

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


@pytest.mark.slow
@settings(max_examples=100)
@given(documents(finite=False))
def test_dump_then_load_gives_back_every_value(data):
    text = yamlio.dump(data)
    assert same(yamlio.load(text, "x.yaml")[0], data), text


@pytest.mark.slow
@settings(max_examples=100)
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
    assert json.loads(zoomed.stdout)["counts"]["ok"] == 12 + 3


# -- documents the loader refuses -------------------------------------------------------------


def alias_bomb(levels: int = 7, width: int = 9) -> str:
    """a: &a [x, x, ...], b: &b [*a, *a, ...], ...: a few hundred bytes, width**levels values."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    text = f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]\n"
    for previous, name in itertools.pairwise(names):
        text += f"{name}: &{name} [{', '.join(['*' + previous] * width)}]\n"
    return text


LR = "  learning_rate: {scale: log, min: 1.0e-4, max: 1.0}\n"
DEEP_BLOCK = "space:\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(1, 100))

# (name, yaml text, expected line, key path, message fragment)
REFUSED = [
    ("alias-bomb", alias_bomb(), 5, None, "aliases expand the document by more than 10,000"),
    ("recursive-alias", "space: &s {x: *s}\n", 1, None, "a recursive alias"),
    ("recursive-list", "space:\n  x: &a [1, *a]\n", 2, None, "a recursive alias"),
    ("recursive-merge", "space: &s {<<: *s}\n", 1, None, "a recursive alias"),
    ("deep-flow", "space: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, None, "deeper than 64"),
    ("deep-block", DEEP_BLOCK, 64, None, "nested deeper than 64 levels"),
    (
        "deep-through-aliases",
        "space:\n  a: &a " + "[" * 40 + "]" * 40 + "\n  b: " + "[" * 30 + "*a" + "]" * 30 + "\n",
        3,
        None,
        "alias *a nests the document deeper than 64 levels",
    ),
    (
        "merge-a-scalar",
        "space:\n  learning_rate: {<<: 1, scale: log}\n",
        2,
        "space.learning_rate",
        "'<<' merges a mapping or a list of mappings",
    ),
    ("huge-integer", "seed: " + "1" * 5000 + "\nspace:\n" + LR, 1, "seed", "5,000 digits"),
    (
        "duplicate-anchor",
        "space:\n  learning_rate: &a {scale: log, min: 1.0e-4, max: 1.0}\n  l2: &a {}\n",
        3,
        None,
        "duplicate anchor 'a' (first given at line 2)",
    ),
    # Explicit tags: the core schema's are checked like plain values, others are refused.
    ("int-tag", "model: {epochs: !!int 1e-4}\nspace:\n" + LR, 1, "model.epochs", "!!int needs"),
    ("float-tag", "model: {l2: !!float abc}\nspace:\n" + LR, 1, "model.l2", "!!float needs"),
    ("bool-tag", "model: {batch_norm: !!bool x}\nspace:\n" + LR, 1, "model.batch_norm", "!!bool"),
    ("null-tag", "seed: !!null 0\nspace:\n" + LR, 1, "seed", "!!null needs null"),
    ("timestamp", "model: {l2: !!timestamp 2024-01-01}\nspace:\n" + LR, 1, "model.l2", "!!time"),
    ("binary", "name: !!binary aGk=\nspace:\n" + LR, 1, "name", "explicit tag !!binary is not"),
    ("set", "space: !!set {learning_rate}\n", 1, "space", "explicit tag !!set is not supported"),
    ("omap", "space: !!omap [{learning_rate: 1}]\n", 1, "space", "explicit tag !!omap"),
    ("pairs", "space: !!pairs [{learning_rate: 1}]\n", 1, "space", "explicit tag !!pairs"),
    ("python-tag", "name: !!python/name:os.system\nspace:\n" + LR, 1, "name", "!!python/name"),
    ("local-tag", "name: !mine x\nspace:\n" + LR, 1, "name", "explicit tag !mine is not"),
    ("tagged-key", "!!binary aGk=: 1\nspace:\n" + LR, 1, None, "explicit tag !!binary"),
    ("str-on-a-list", "name: !!str [a]\nspace:\n" + LR, 1, "name", "!!str cannot tag a list"),
    ("map-on-a-list", "space: !!map [a]\n", 1, "space", "!!map cannot tag a list"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "line", "key", "fragment"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_refused_document_is_one_located_error(tmp_path, case, text, line, key, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert fragment in message
    prefix = f"{path}:{line}: "
    assert message.startswith(prefix + (f"{key}: " if key else "")), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("case", "text", "line", "key", "fragment"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_cli_refuses_the_document_with_exit_2_and_one_line(
    tmp_path, case, text, line, key, fragment
):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}:{line}: ")
    assert fragment in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_alias_bomb_is_refused_at_once():
    text = alias_bomb(levels=7, width=9)  # 9**7: almost five million values
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand the document"):
        yamlio.load(text, "bomb.yaml")
    assert time.perf_counter() - started < 0.5
    wider = alias_bomb(levels=26, width=40)  # 40**26 values, 25 kB
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand the document"):
        yamlio.load(wider, "bomb.yaml")
    assert time.perf_counter() - started < 0.5


def test_anchors_aliases_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "model: &fixed {epochs: 3, layers: 1}\n"
        "space:\n"
        "  learning_rate: &lr {scale: log, min: 1.0e-4, max: 1.0}\n"
        "  l2: {<<: *lr, min: 1.0e-6}\n"
        "  batch_size: {choice: &sizes [32, 64]}\n"
    )
    config = load_config(path)
    assert (config.space["l2"].low, config.space["l2"].high) == (1e-6, 1.0)
    assert config.space["batch_size"].choices == (32, 64)
    assert dict(config.model) == {"epochs": 3, "layers": 1}
    # A mapping with a merge key, reached again through an alias, is still the same mapping.
    data, _ = yamlio.load("a: &a {x: 1}\nb: &b {<<: *a, x: 2}\nc: *b\nd: [*b, *b]\n", "m.yaml")
    assert data == {"a": {"x": 1}, "b": {"x": 2}, "c": {"x": 2}, "d": [{"x": 2}, {"x": 2}]}
    # Aliases that add up to the limit are fine: nine copies of a thousand values.
    text = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 9) + "]\n"
    data, _ = yamlio.load(text, "many.yaml")
    assert len(data["b"]) == 9 and all(len(item) == 1000 for item in data["b"])
    # 63 levels of nesting (the limit is 64) load.
    data, _ = yamlio.load("a: " + "[" * 63 + "]" * 63, "deep.yaml")
    depth, value = 0, data["a"]
    while value:
        depth, value = depth + 1, value[0]
    assert value == [] and depth == 62  # 63 nested lists: 62 holding one, the innermost empty


@pytest.mark.slow
def test_a_long_written_out_choice_still_loads(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(
        'objective: {python: "m:f"}\n'
        "space:\n"
        f"  x: {{choice: [{', '.join(str(i) for i in range(30_000))}]}}\n"
        "search: {metric: loss, direction: minimize}\n"
    )
    (tmp_path / "m.py").write_text("def f(params, seed):\n    return 0.0\n")
    started = time.perf_counter()
    config = load_config(path)
    assert len(config.space["x"].choices) == 30_000
    assert time.perf_counter() - started < 15  # about 1 s: linear (quadratic takes minutes)


# -- explicit tags ------------------------------------------------------------------------------


def test_core_schema_tags_are_read_like_plain_values():
    text = (
        "a: !!str 1e-4\nb: !!float 1\nc: !!int 0x1F\nd: !!bool TRUE\ne: !!null ~\n"
        "f: !!seq [1]\ng: !!map {x: !!str yes}\nh: <<\n"
    )
    data, _ = yamlio.load(text, "tags.yaml")
    assert same(
        data,
        {"a": "1e-4", "b": 1.0, "c": 31, "d": True, "e": None, "f": [1], "g": {"x": "yes"},
         "h": "<<"},
    )  # fmt: skip


OWN_OBJECTIVE = "def objective(params, seed):\n    return {'loss': params['x']}\n"

# (tagged value under model, message fragment): each passed `validate`, then failed the run
# after making its directory, or gave a traceback.
TAGGED = [
    ("!!timestamp 2024-01-01", "explicit tag !!timestamp is not supported"),
    ("!!binary aGk=", "explicit tag !!binary is not supported"),
    ("!!set {a, b}", "explicit tag !!set is not supported"),
    ("!!omap [{a: 1}]", "explicit tag !!omap is not supported"),
    ("!!int 1e-4", "!!int needs an integer such as 42, got '1e-4'"),
    ("!!float abc", "!!float needs a number such as 0.5 or 1.0e-3, got 'abc'"),
    ("!!bool maybe", "!!bool needs true or false, got 'maybe'"),
]


@pytest.mark.parametrize(("value", "fragment"), TAGGED, ids=[t[0] for t in TAGGED])
def test_a_tagged_value_is_refused_before_any_run(tmp_path, value, fragment):
    (tmp_path / "own.py").write_text(OWN_OBJECTIVE)
    path = tmp_path / "tagged.yaml"
    path.write_text(
        'objective: {python: "own:objective"}\n'
        "model:\n"
        f"  when: {value}\n"
        "space:\n"
        "  x: {scale: linear, min: 0.0, max: 1.0}\n"
        "search: {trials: 2, metric: loss, direction: minimize}\n"
        f"run: {{runs_dir: {tmp_path / 'runs'}, jobs: 1}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:3: model.when: ")
    assert fragment in str(info.value)
    for command in ("validate", "run"):
        result = invoke(command, str(path))
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {path}:3: model.when: ")
        assert fragment in result.stderr and result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "learning_rate=!!float nope",
            "--set learning_rate: !!float needs a number such as 0.5 or 1.0e-3, got 'nope'",
        ),
        ("learning_rate=!!timestamp 2024-01-01", "--set learning_rate: explicit tag !!timestamp"),
        ("epochs=!!binary aGk=", "--set epochs: explicit tag !!binary is not supported"),
        ("learning_rate=&a [*a]", "--set learning_rate: alias *a is inside the value it names"),
        ("learning_rate={a: !!int x}", "--set learning_rate.a: !!int needs an integer"),
    ],
)
def test_train_set_with_a_bad_tag_is_one_line(tmp_path, setting, message):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "data: {source: spirals, classes: 3, samples: 300}\n"
        "model: {layers: 1, epochs: 1}\n"
        "space:\n  learning_rate: {scale: log, min: 1.0e-3, max: 1.0e-1}\n"
        f"run: {{runs_dir: {tmp_path / 'runs'}}}\n"
    )
    result = invoke("train", str(path), "--set", setting)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()
    forced = invoke("train", str(path), "--set", "learning_rate=!!str 0.1")
    assert forced.exit_code == 2
    assert "--set learning_rate: must be a number, got '0.1'" in forced.stderr
