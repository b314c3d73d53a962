"""Objectives that misbehave or are hostile: quoting tricks, reserved names, stray bytes,
exceptions that are not Exceptions, module names that shadow the standard library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsearch.objectives import CommandObjective

from .helpers import invoke, one_line_error, trial_records

OWN = {
    "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
    "search": {"trials": 3, "metric": "loss", "direction": "minimize"},
    "run": {"jobs": 1},
}


@pytest.fixture
def own_config(make_config):
    """``own_config(objective, trials=3, **sections) -> Path``: ``own.yaml``, a search of x
    (and the space given) with the ``objective`` section given."""

    def make(objective: dict, trials: int = 3, **sections) -> Path:
        return make_config(
            "own", base=OWN, objective=objective, search={"trials": trials}, **sections
        )

    return make


# -- 10. placeholders inside quotes -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("template", "where"),
    [
        ('echo "{x}"', 'inside "..."'),
        ("echo '{x}'", "inside '...'"),
        ("echo $'{x}'", "inside $'...'"),
        ("echo \\{x}", "after a backslash"),
        ("echo $(( {x} + 1 ))", "inside arithmetic $((...))"),
        ("echo ${{A:-{x}}}", "inside ${...}"),
        ("cat <<EOF\n{x}\nEOF", "in a here-document"),
        ("echo --lr ${x}", "right after a $"),
        ("echo hi # {x}", "in a comment"),
        ("echo `echo {x}`", "inside `...`"),
        ("echo $(( ((1)) + {x} ))", "inside arithmetic $((...))"),
        ("echo $[ 1 + {x} ]", "inside arithmetic $[...]"),
        ('python t.py --tag "run {x}" {x}', 'inside "..."'),
    ],
)
def test_a_quoted_placeholder_is_refused_before_any_trial(tmp_path, own_config, template, where):
    path = own_config({"command": template})
    for command in ("validate", "run"):
        one_line_error(invoke(command, str(path)), "objective.command", f"{{x}} stands {where}")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "template",
    [
        "cat <<EOF\nhi\nEOF\necho {x}",
        "echo a#{x}",
        "((n=1)); echo {x}",
        "echo $(( (1) )) {x}",
        "(cd . && echo {x})",
        'echo {{"a": 1}} {x}',
    ],
)
def test_a_bare_placeholder_is_accepted_wherever_the_shell_reads_quotes(own_config, template):
    path = own_config({"command": template})
    assert invoke("validate", str(path)).exit_code == 0


HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '"; touch pwned; "',
    "a b\\ c",
    "--flag=1 && touch pwned",
    "\n touch pwned",
    "",
    "$HOME ~ * ?",
]


@pytest.mark.slow
@settings(max_examples=60)
@given(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(
            alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            max_size=20,
        ),
    )
)
def test_bare_placeholders_pass_any_value_verbatim(tmp_path_factory, value):
    """Through the real shell: whatever the value, the program receives it as one argument
    and nothing else runs."""
    tmp = tmp_path_factory.mktemp("shell")
    for template in (
        "printf '%s' {x} > out",
        "printf '%s' $(printf '%s' ok) {x} > out",
        "(printf '%s' {x}) > out",
        "printf '%s' `printf ''`{x} > out",
    ):
        objective = CommandObjective(template, str(tmp), {}, "loss")
        objective({"x": value}, 0, 5.0)
        out = (tmp / "out").read_text()
        assert out.endswith(value) and out in (value, "ok" + value)
        assert not (tmp / "pwned").exists()


# -- 5. reserved names ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed", "trial"])
@pytest.mark.parametrize("section", ["space", "model"])
def test_a_parameter_named_like_a_builtin_placeholder_is_refused(tmp_path, name, section):
    entry = "{scale: linear, min: 0, max: 9}" if section == "space" else "3"
    path = tmp_path / "c.yaml"
    path.write_text(
        'objective: {command: "echo loss=1"}\n'
        f"{section}:\n  {name}: {entry}\n"
        + ("" if section == "space" else "space: {x: {scale: linear, min: 0, max: 1}}\n")
        + "search: {metric: loss, direction: minimize}\n"
    )
    one_line_error(invoke("validate", str(path)), f"{section}.{name}", f"'{name}' is reserved")


def test_leaderboard_headers_are_unique_whatever_the_names(tmp_path, own_config):
    (tmp_path / "mod.py").write_text(
        "def f(params, seed):\n"
        "    return {'loss': params['x'], 'x': 1.0, 'rank': 2.0, 'status': 3.0}\n"
    )
    path = own_config(
        {"python": "mod:f"},
        space={"epochs": {"scale": "linear", "min": 1, "max": 5}, "error": {"choice": ["a", "b"]}},
    )
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    header = (Path(doc["run_dir"]) / "leaderboard.csv").read_text().splitlines()[0].split(",")
    assert len(header) == len(set(header)), header
    assert {"x", "epochs", "error", "x (param)", "epochs (hpsearch)", "error (hpsearch)"} <= set(
        header
    )


# -- 6. bytes that are not UTF-8 ------------------------------------------------------------------


@pytest.mark.slow
def test_a_stray_byte_in_a_commands_output_does_not_fail_the_trial(tmp_path, own_config):
    (tmp_path / "noisy.py").write_text(
        "import sys\n"
        "sys.stdout.buffer.write(b'caf\\xe9 \\xff\\n')\n"
        "sys.stderr.buffer.write(b'warn \\xfe\\n')\n"
        "print('loss=0.25')\n"
    )
    path = own_config({"command": f"{sys.executable} noisy.py {{x}}"})
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"]["ok"] == 3
    assert all(r["metrics"]["loss"] == 0.25 for r in trial_records(doc["run_dir"]))


# -- 15. BaseExceptions that are not Exceptions ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sequential", "processes"])
def test_a_base_exception_fails_its_trial_only(tmp_path, own_config, backend):
    (tmp_path / "mod.py").write_text(
        "import asyncio\n"
        "class Odd(BaseException):\n"
        "    pass\n"
        "def f(params, seed):\n"
        "    if params['x'] < 0.5:\n"
        "        raise asyncio.CancelledError('cancelled')\n"
        "    if params['x'] < 0.7:\n"
        "        raise Odd('odd')\n"
        "    if params['x'] < 0.8:\n"
        "        raise GeneratorExit('exit')\n"
        "    return params['x']\n"
    )
    path = own_config({"python": "mod:f"}, trials=12)
    result = invoke("run", str(path), "--json", "--quiet", "--backend", backend)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    recs = trial_records(doc["run_dir"])
    assert len(recs) == 12
    failed = [r for r in recs if r["status"] == "failed"]
    assert failed and all(r["params"]["x"] < 0.8 for r in failed)
    assert {r["error"].split(":")[0] for r in failed} <= {"CancelledError", "Odd", "GeneratorExit"}
    assert invoke("resume", doc["run_dir"]).exit_code == 0


# -- 16. a module named like the standard library ----------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("module", ["queue", "random", "json", "signal"])
def test_an_objective_module_named_like_a_standard_module(tmp_path, own_config, module):
    (tmp_path / f"{module}.py").write_text(
        "import math\ndef f(params, seed):\n    return math.sqrt(params['x'])\n"
    )
    path = own_config({"python": f"{module}:f"})
    assert invoke("validate", str(path)).exit_code == 0
    for backend in ("sequential", "processes", "threading"):
        result = invoke("run", str(path), "--json", "--quiet", "--backend", backend)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["counts"]["ok"] == 3
    import importlib

    standard = importlib.import_module(module)  # what the driver's own imports get
    assert not hasattr(standard, "f"), module  # not the objective's module
    assert str(tmp_path) not in str(getattr(standard, "__file__", None)), module


def test_an_objective_package_with_relative_imports(tmp_path, own_config):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("def square(x):\n    return x * x\n")
    (package / "obj.py").write_text(
        "from .helpers import square\ndef f(params, seed):\n    return square(params['x'])\n"
    )
    path = own_config({"python": "pkg.obj:f"})
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"]["ok"] == 3
    assert all(
        r["metrics"]["loss"] == r["params"]["x"] * r["params"]["x"]
        for r in trial_records(doc["run_dir"])
    )
