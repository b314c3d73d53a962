"""Bring your own objective: a Python function or a shell command, end to end."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from hpsearch.objectives import interpret

from .helpers import DROP, invoke, trial_records

MODULE = """
import math, os, time

def objective(params, seed, report=None):
    kind = params["kind"]
    x = params["x"]
    if report is not None:
        for epoch in range(1, 4):
            report(epoch, loss=(x - 1) ** 2 + 1 / epoch)
    if kind == "raise":
        raise RuntimeError("no luck")
    if kind == "exit":
        import sys
        sys.exit("bad x")
    if kind == "none":
        return None
    if kind == "nan":
        return float("nan")
    if kind == "inf":
        return math.inf
    if kind == "nodict":
        return {"other": 1.0}
    if kind == "sleep":
        time.sleep(10)
    if kind == "diverge" and report is not None:
        report(4, loss=float("nan"))
    return {"loss": (x - 1) ** 2, "pid": os.getpid()}

def two_args_missing(params):
    return 1.0
"""

SCRIPT = """
import json, os, sys, time
kind, x = sys.argv[1], float(sys.argv[2])
params = json.loads(os.environ["HPSEARCH_PARAMS"])
assert params["x"] == x and params["kind"] == kind
if kind == "nodict":
    print("all done")
    sys.exit(0)
for epoch in (1, 2):
    print(json.dumps({"epoch": epoch, "loss": (x - 1) ** 2 + 1 / epoch}))
if kind == "raise":
    print("something broke", file=sys.stderr)
    sys.exit(3)
if kind == "sleep":
    time.sleep(10)
if kind == "equals":
    print(f"loss={(x - 1) ** 2}")
    sys.exit(0)
print(json.dumps({"loss": (x - 1) ** 2, "trial": int(os.environ["HPSEARCH_TRIAL"])}))
"""


OWN = {
    "space": {"x": {"scale": "linear", "min": -2.0, "max": 4.0}},
    "search": {"metric": "loss", "direction": "minimize"},
    "zoom": {"trials": 4},
    "run": {"jobs": 2},
}


@pytest.fixture
def write(tmp_path, make_config):
    """``write(objective, kinds, trials=12, **sections) -> Path``: a config searching x and a
    choice of ``kinds`` with ``objective`` (MODULE and SCRIPT written next to it)."""
    (tmp_path / "mymodel.py").write_text(MODULE)
    (tmp_path / "train.py").write_text(SCRIPT)

    def make(objective: dict, kinds: list[str], trials: int = 12, **sections) -> Path:
        return make_config(
            "own",
            base=OWN,
            objective=objective,
            space={"kind": {"choice": kinds}},
            **{**sections, "search": {"trials": trials, **sections.get("search", {})}},
        )

    return make


PYTHON = {"python": "mymodel:objective", "timeout": 1.0}
COMMAND = {"command": f"{sys.executable} train.py {{kind}} {{x}}", "timeout": 1.0}


@pytest.mark.slow
@pytest.mark.parametrize("objective", [PYTHON, COMMAND], ids=["python", "command"])
def test_an_own_objective_runs_end_to_end_and_zooms(write, objective):
    path = write(objective, ["ok"])
    result = invoke("run", str(path), "--json", "--quiet", "--rounds", "1")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [e["trials"] for e in doc["rounds"]] == [12, 4]
    first = Path(doc["run_dir"])
    recs = trial_records(first)
    assert all(r["status"] == "ok" for r in recs)
    assert all(r["metrics"]["loss"] == pytest.approx((r["params"]["x"] - 1) ** 2) for r in recs)
    curves = [json.loads(line) for line in (first / "curves.jsonl").read_text().splitlines()]
    assert curves and curves[0]["epoch"][:2] == [1, 2]
    zoomed = invoke("zoom", str(first), "--json", "--quiet", "--trials", "3")
    assert zoomed.exit_code == 0 and json.loads(zoomed.stdout)["counts"]["ok"] == 12 + 4 + 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        (
            PYTHON,
            {
                "raise": ("failed", "RuntimeError: no luck"),
                "none": ("failed", "returned NoneType"),
                "nan": ("failed", "NaN"),
                "inf": ("diverged", "inf"),
                "nodict": ("failed", "without 'loss'"),
                "exit": ("failed", "SystemExit: bad x"),
                "sleep": ("timeout", "longer than 1 s"),
                "diverge": ("diverged", "loss became nan at epoch 4"),
                "ok": ("ok", None),
            },
        ),
        (
            COMMAND,
            {
                "raise": ("failed", "exit code 3: something broke"),
                "sleep": ("timeout", "its processes were killed"),
                "nodict": ("failed", "no 'loss' in its output"),
                "equals": ("ok", None),
                "ok": ("ok", None),
            },
        ),
    ],
    ids=["python", "command"],
)
def test_failures_are_recorded_and_the_search_goes_on(write, objective, expected):
    path = write(objective, list(expected), trials=3 * len(expected))
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    recs = trial_records(json.loads(result.stdout)["run_dir"])
    assert len(recs) == 3 * len(expected)
    seen = set()
    for r in recs:
        status, fragment = expected[r["params"]["kind"]]
        assert r["status"] == status, r
        if fragment:
            assert fragment in r["error"], r
        seen.add(r["params"]["kind"])
    assert seen == set(expected)


@pytest.mark.parametrize(
    ("objective", "fragment"),
    [
        ({"python": "nomodule:objective"}, "cannot load 'nomodule:objective'"),
        ({"python": "mymodel:missing"}, "has no 'missing'"),
        ({"python": "mymodel:two_args_missing"}, "cannot be called as function(params, seed)"),
        ({"python": "not a spec"}, 'must be "package.module:function"'),
        (
            {"command": "python train.py {kind} {kinf}"},
            "unknown placeholder {kinf}; did you mean 'kind'?",
        ),
        ({"command": "python train.py {kind"}, "literal braces"),
        ({"command": "python train.py {kind} {x:.3f}"}, "has a format"),
        ({"python": "mymodel:objective", "command": "x"}, "not both"),
        ({"python": "mymodel:objective", "workdir": "nowhere"}, "does not exist"),
    ],
    ids=[
        "no-module",
        "no-function",
        "signature",
        "not-a-spec",
        "unknown-placeholder",
        "braces",
        "format",
        "both",
        "no-workdir",
    ],
)
def test_a_bad_objective_is_an_exit_2_error_before_any_trial(tmp_path, write, objective, fragment):
    path = write(objective, ["ok"])
    for command in ("validate", "run"):
        result = invoke(command, str(path))
        assert result.exit_code == 2, result.output
        assert fragment in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_custom_metric_needs_a_direction_and_data_does_not_apply(write):
    path = write(PYTHON, ["ok"], search={"direction": DROP})
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "search.direction: required for metric 'loss'" in result.stderr
    path = write(PYTHON, ["ok"], data={"source": "spirals"})
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "data: does not apply to a python objective" in result.stderr


def test_interpret_return_values():
    assert interpret(0.5, "m") == ("ok", {"m": 0.5}, None)
    assert interpret({"m": 2, "n": "x", "k": 1.5}, "m") == ("ok", {"m": 2.0, "k": 1.5}, None)
    assert interpret(True, "m")[0] == "failed"
    assert interpret("0.5", "m")[0] == "failed"
    assert interpret(-math.inf, "m")[0] == "diverged"


@pytest.mark.slow
def test_the_examples_run(tmp_path):
    root = Path(__file__).resolve().parents[1] / "examples"
    for config in ("python/config.yaml", "command/config.yaml"):
        result = invoke(
            "run",
            str(root / config),
            "--quiet",
            "--trials",
            "4",
            "--runs-dir",
            str(tmp_path / "runs"),
        )
        assert result.exit_code == 0, (config, result.output)


def test_leaderboard_columns_are_the_objectives_metrics(write):
    path = write(PYTHON, ["ok"], trials=3)
    result = invoke("run", str(path), "--json", "--quiet")
    header = (Path(json.loads(result.stdout)["run_dir"]) / "leaderboard.csv").read_text()
    columns = header.splitlines()[0].split(",")
    assert columns[:3] == ["rank", "trial", "round"]
    assert columns[4:6] == ["loss", "pid"] and "val_accuracy" not in columns
