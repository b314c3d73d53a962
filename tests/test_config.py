"""Config validation: every rule has a case with the key path, the rule and the line."""

import textwrap

import pytest

from hpsearch.config import DataConfig, load_config
from hpsearch.errors import ConfigError
from hpsearch.yamlio import dump

from .helpers import QUICKSTART, invoke

LR = "  learning_rate: {scale: log, min: 1.0e-4, max: 1.0}\n"
NONE = {"classes": None, "samples": None, "noise": None}  # keys only generated sets take

# (name, yaml text, expected line, key path, message fragment)
BAD = [
    ("syntax", "space:\n  learning_rate: {scale: log, min: 1\n", 3, None, "YAML syntax error"),
    ("syntax-tab", "space:\n\tlearning_rate: 1\n", 2, None, "YAML syntax error"),
    ("top-level-list", "- 1\n- 2\n", 1, None, "top level must be a mapping"),
    ("top-level-scalar", "hello\n", 1, None, "top level must be a mapping"),
    ("empty", "", None, None, "the file is empty"),
    ("unknown-section", "serch: {trials: 3}\nspace:\n" + LR, 1, "serch", "did you mean 'search'?"),
    (
        "unknown-key",
        "search: {trails: 3}\nspace:\n" + LR,
        1,
        "search.trails",
        "did you mean 'trials'?",
    ),
    ("missing-space", "seed: 1\n", 1, None, "missing section 'space'"),
    (
        "trial-timeout",
        "run: {trial_timeout: 0}\nspace:\n" + LR,
        1,
        "run.trial_timeout",
        "must be > 0 seconds",
    ),
    (
        "duplicate-key",
        "space:\n" + LR + LR,
        3,
        "space.learning_rate",
        "duplicate key 'learning_rate' (first given at line 2)",
    ),
    (
        "duplicate-nested",
        "space:\n  learning_rate: {scale: log, min: 1.0e-4, min: 1.0e-3, max: 1}\n",
        2,
        "space.learning_rate.min",
        "duplicate key 'min'",
    ),
    (
        "unknown-hyperparameter",
        "space:\n  learnig_rate: {scale: log, min: 1.0e-4, max: 1}\n",
        2,
        "space.learnig_rate",
        "did you mean 'learning_rate'?",
    ),
    (
        "unknown-scale",
        "space:\n  learning_rate: {scale: logarithmic, min: 1.0e-4, max: 1}\n",
        2,
        "space.learning_rate.scale",
        "unknown scale 'logarithmic'",
    ),
    (
        "missing-scale",
        "space:\n  learning_rate: {min: 1.0e-4, max: 1}\n",
        2,
        "space.learning_rate",
        "missing 'scale'",
    ),
    (
        "missing-min",
        "space:\n  learning_rate: {scale: log, max: 1}\n",
        2,
        "space.learning_rate",
        "missing 'min'",
    ),
    (
        "missing-max",
        "space:\n  learning_rate: {scale: log, min: 1.0e-4}\n",
        2,
        "space.learning_rate",
        "missing 'max'",
    ),
    (
        "min-equals-max",
        "space:\n  learning_rate: {scale: log, min: 0.1, max: 0.1}\n",
        2,
        "space.learning_rate.min",
        "must be < max",
    ),
    (
        "min-above-max",
        "space:\n  hidden_units: {scale: linear, min: 128, max: 16}\n",
        2,
        "space.hidden_units.min",
        "must be < max (16), got 128",
    ),
    (
        "log-min-zero",
        "space:\n  learning_rate: {scale: log, min: 0, max: 1}\n",
        2,
        "space.learning_rate.min",
        "must be > 0 for scale 'log', got 0",
    ),
    (
        "log-min-negative",
        "space:\n  l2: {scale: log, min: -1, max: 1}\n",
        2,
        "space.l2.min",
        "must be > 0 for scale 'log'",
    ),
    (
        "one-minus-log-max-1",
        "space:\n  beta1: {scale: one_minus_log, min: 0.9, max: 1.0}\n",
        2,
        "space.beta1.max",
        "must be < 1 for scale 'one_minus_log'",
    ),
    (
        "one-minus-log-min-0",
        "space:\n  beta1: {scale: one_minus_log, min: 0, max: 0.9}\n",
        2,
        "space.beta1.min",
        "must be > 0 for scale 'one_minus_log'",
    ),
    (
        "nan-bound",
        "space:\n  learning_rate: {scale: log, min: .nan, max: 1}\n",
        2,
        "space.learning_rate.min",
        "must be a finite number, got nan",
    ),
    (
        "inf-bound",
        "space:\n  learning_rate: {scale: log, min: 1.0e-4, max: .inf}\n",
        2,
        "space.learning_rate.max",
        "must be a finite number, got inf",
    ),
    (
        "number-as-string",
        "space:\n  learning_rate: {scale: log, min: '1e-4', max: 1}\n",
        2,
        "space.learning_rate.min",
        "'1e-4' (a string; write the number without quotes)",
    ),
    (
        "bool-as-number",
        "space:\n  learning_rate: {scale: log, min: true, max: 1}\n",
        2,
        "space.learning_rate.min",
        "must be a number, got true",
    ),
    (
        "int-with-fraction",
        "space:\n  hidden_units: {scale: linear, min: 16.5, max: 64, type: int}\n",
        2,
        "space.hidden_units.min",
        "must be an integer for type: int",
    ),
    (
        "int-on-one-minus-log",
        "space:\n  beta1: {scale: one_minus_log, min: 0.9, max: 0.99, type: int}\n",
        2,
        "space.beta1.type",
        "cannot be an integer",
    ),
    (
        "float-type-for-int-param",
        "space:\n  layers: {scale: linear, min: 1, max: 4, type: float}\n",
        2,
        "space.layers.type",
        "is of type int",
    ),
    (
        "unknown-type",
        "space:\n  layers: {scale: linear, min: 1, max: 4, type: integer}\n",
        2,
        "space.layers.type",
        "must be 'int' or 'float'",
    ),
    (
        "empty-choice",
        "space:\n  batch_size: {choice: []}\n",
        2,
        "space.batch_size.choice",
        "at least one value",
    ),
    (
        "choice-not-list",
        "space:\n  batch_size: {choice: 64}\n",
        2,
        "space.batch_size.choice",
        "must be a list",
    ),
    (
        "choice-duplicate",
        "space:\n  batch_size: {choice: [32, 64, 32]}\n",
        2,
        "space.batch_size.choice[2]",
        "listed twice",
    ),
    (
        "choice-bad-value",
        "space:\n  optimizer: {choice: [adam, sgd]}\n",
        2,
        "space.optimizer.choice[1]",
        "unknown value 'sgd'",
    ),
    (
        "choice-out-of-range",
        "space:\n  batch_size:\n    choice: [32, 0]\n",
        3,
        "space.batch_size.choice[1]",
        "must be >= 1",
    ),
    (
        "choice-and-scale",
        "space:\n  batch_size: {choice: [32], scale: log}\n",
        2,
        "space.batch_size.scale",
        "not both",
    ),
    (
        "scale-on-categorical",
        "space:\n  optimizer: {scale: linear, min: 0, max: 1}\n",
        2,
        "space.optimizer",
        "search it with {choice: [...]}",
    ),
    (
        "entry-not-mapping",
        "space:\n  learning_rate: 0.01\n",
        2,
        "space.learning_rate",
        "put it under model",
    ),
    (
        "range-outside-valid",
        "space:\n  beta1: {scale: linear, min: 0.5, max: 1.5}\n",
        2,
        "space.beta1.max",
        "must be < 1 (beta1 lies in [0, 1))",
    ),
    (
        "fixed-and-searched",
        "model: {learning_rate: 0.01}\nspace:\n" + LR,
        1,
        "model.learning_rate",
        "also searched in space (line 3)",
    ),
    (
        "model-unknown",
        "model: {hiden_units: 3}\nspace:\n" + LR,
        1,
        "model.hiden_units",
        "did you mean 'hidden_units'?",
    ),
    (
        "model-bad-value",
        "model: {batch_size: 0}\nspace:\n" + LR,
        1,
        "model.batch_size",
        "must be >= 1",
    ),
    ("model-beta-1", "model: {beta2: 1.0}\nspace:\n" + LR, 1, "model.beta2", "must be < 1"),
    (
        "model-yes-is-not-bool",
        "model: {batch_norm: yes}\nspace:\n" + LR,
        1,
        "model.batch_norm",
        "must be true or false, got 'yes'",
    ),
    (
        "trials-zero",
        "search: {trials: 0}\nspace:\n" + LR,
        1,
        "search.trials",
        "must be a positive integer, got 0",
    ),
    (
        "trials-float",
        "search: {trials: 2.5}\nspace:\n" + LR,
        1,
        "search.trials",
        "must be a positive integer, got 2.5",
    ),
    (
        "trials-string",
        "search: {trials: '40'}\nspace:\n" + LR,
        1,
        "search.trials",
        "'40' (a string; write the number without quotes)",
    ),
    (
        "unknown-metric",
        "search: {metric: val_acc}\nspace:\n" + LR,
        1,
        "search.metric",
        "did you mean 'val_accuracy'?",
    ),
    (
        "unknown-direction",
        "search: {direction: max}\nspace:\n" + LR,
        1,
        "search.direction",
        "unknown value 'max'",
    ),
    (
        "wrong-direction",
        "search: {metric: val_loss, direction: maximize}\nspace:\n" + LR,
        1,
        "search.direction",
        "val_loss is to minimize",
    ),
    ("seed-negative", "seed: -1\nspace:\n" + LR, 1, "seed", "must be >= 0"),
    ("jobs-zero", "run: {jobs: 0}\nspace:\n" + LR, 1, "run.jobs", "must be -1 (every core)"),
    ("backend", "run: {backend: lokky}\nspace:\n" + LR, 1, "run.backend", "did you mean 'loky'?"),
    ("bad-name", "name: 'my run/1'\nspace:\n" + LR, 1, "name", "letters, digits"),
    ("zoom-margin", "zoom: {margin: -0.1}\nspace:\n" + LR, 1, "zoom.margin", "must be >= 0"),
    (
        "data-source",
        "data: {source: spiral}\nspace:\n" + LR,
        1,
        "data.source",
        "did you mean 'spirals'?",
    ),
    (
        "data-fraction",
        "data: {val_fraction: 1.0}\nspace:\n" + LR,
        1,
        "data.val_fraction",
        "between 0 and 1",
    ),
    (
        "data-unknown-key",
        "data: {sorce: csv}\nspace:\n" + LR,
        1,
        "data.sorce",
        "did you mean 'source'?",
    ),
    (
        "data-noise-for-csv",
        "data:\n  source: csv\n  path: d.csv\n  target: label\n  noise: 0.1\nspace:\n" + LR,
        5,
        "data.noise",
        "does not apply to source 'csv'; it takes path, target, val_path, val_fraction, seed",
    ),
    (
        "data-noise-for-inferred-npz",
        "data: {path: d.NPZ, noise: 0.1}\nspace:\n" + LR,
        1,
        "data.noise",
        "does not apply to source 'npz' (from the extension of data.path)",
    ),
    (
        "data-target-for-spirals",
        "data: {target: label}\nspace:\n" + LR,
        1,
        "data.target",
        "does not apply to source 'spirals'",
    ),
    (
        "data-path-for-blobs",
        "data:\n  source: blobs\n  path: d.csv\nspace:\n" + LR,
        3,
        "data.path",
        "does not apply to source 'blobs'",
    ),
    (
        "data-features-for-spirals",
        "data: {features: 3}\nspace:\n" + LR,
        1,
        "data.features",
        "does not apply to source 'spirals'",
    ),
    (
        "data-classes-for-digits",
        "data: {source: digits, classes: 3}\nspace:\n" + LR,
        1,
        "data.classes",
        "does not apply to source 'digits'; it takes val_fraction, seed",
    ),
    (
        "data-path-extension",
        "data:\n  path: d.txt\nspace:\n" + LR,
        2,
        "data.path",
        "cannot tell the format of 'd.txt' from its extension; name a .csv or .npz file",
    ),
    (
        "data-path-not-a-string",
        "data: {source: npz, path: 3}\nspace:\n" + LR,
        1,
        "data.path",
        "must be a file path, got 3",
    ),
    (
        "data-csv-without-path",
        "data: {source: csv, target: y}\nspace:\n" + LR,
        1,
        "data.path",
        "required for source 'csv'",
    ),
    (
        "data-csv-without-target",
        "data: {path: d.csv}\nspace:\n" + LR,
        1,
        "data.target",
        "required for source 'csv': the name of the label column",
    ),
    (
        "data-target-number",
        "data: {path: d.csv, target: 5}\nspace:\n" + LR,
        1,
        "data.target",
        "must be a column name, got 5; quote it",
    ),
    (
        "data-val-fraction-with-val-path",
        "data: {path: a.npz, val_path: b.npz, val_fraction: 0.3}\nspace:\n" + LR,
        1,
        "data.val_fraction",
        "does not apply when val_path is given",
    ),
    (
        "data-val-path-other-format",
        "data: {path: a.csv, target: y, val_path: b.npz}\nspace:\n" + LR,
        1,
        "data.val_path",
        "must be a .csv file like data.path, got 'b.npz'",
    ),
    (
        "data-features-zero",
        "data: {source: blobs, features: 0}\nspace:\n" + LR,
        1,
        "data.features",
        "must be >= 1, got 0",
    ),
    ("data-classes-one", "data: {classes: 1}\nspace:\n" + LR, 1, "data.classes", "must be >= 2"),
    ("data-noise-negative", "data: {noise: -1}\nspace:\n" + LR, 1, "data.noise", "must be >= 0"),
    (
        "data-too-few-samples",
        "data: {classes: 10, samples: 20}\nspace:\n" + LR,
        1,
        "data.samples",
        "leave fewer examples than the 10 classes",
    ),
    ("section-not-mapping", "search: 40\nspace:\n" + LR, 1, "search", "must be a mapping"),
    ("key-is-a-list", "space:\n  [a, b]: 1\n", 2, "space", "a key must be a plain name"),
]


@pytest.mark.parametrize(("case", "text", "line", "key", "fragment"), BAD, ids=[c[0] for c in BAD])
def test_bad_config_is_one_located_error(tmp_path, case, text, line, key, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert fragment in message
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(prefix), message
    if key:
        assert message.startswith(f"{prefix}{key}: "), message
    assert "\n" not in message


@pytest.mark.parametrize(("case", "text", "line", "key", "fragment"), BAD, ids=[c[0] for c in BAD])
def test_cli_reports_bad_config_with_exit_2_and_no_traceback(
    tmp_path, case, text, line, key, fragment
):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    for command in ("validate", "sample"):
        result = invoke(command, str(path))
        assert result.exit_code == 2
        assert result.stdout == ""
        assert fragment in result.stderr
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


def test_missing_file(tmp_path):
    result = invoke("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: file not found\n"


def test_directory_and_binary_file(tmp_path):
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"space: \xff\xfe\n")
    result = invoke("validate", str(binary))
    assert result.exit_code == 2 and "is not UTF-8 text" in result.stderr


def test_quickstart_loads_with_the_documented_values(make_config):
    path = make_config(base=QUICKSTART)
    config = load_config(path)
    lr = config.space["learning_rate"]
    assert (lr.kind, lr.low, lr.high, lr.integer) == ("log", 1e-4, 1.0, False)
    assert config.space["hidden_units"].integer
    assert config.space["batch_size"].choices == (32, 64, 128, 256)
    assert dict(config.model) == {"layers": 2, "epochs": 30, "optimizer": "adam"}
    assert config.search.trials == 40 and config.run.jobs == -1


def test_yaml_1_2_numbers_and_booleans(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent("""\
        model: {l2: 1e-4, epochs: 010, batch_norm: false}
        space:
          learning_rate: {scale: log, min: 1e-5, max: 1E-1}
          activation: {choice: [relu, tanh]}
        """)
    )
    config = load_config(path)
    assert config.model["l2"] == 1e-4
    assert config.model["epochs"] == 10
    assert config.model["batch_norm"] is False
    assert config.space["learning_rate"].low == 1e-5


def test_defaults_fill_in_and_integer_type_is_inferred(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("space:\n  hidden_units: {scale: log, min: 16, max: 1024}\n")
    config = load_config(path)
    assert config.name == "tiny"
    assert config.space["hidden_units"].integer
    resolved = config.resolved_model()
    assert "hidden_units" not in resolved and resolved["optimizer"] == "adam"


def test_resolved_config_round_trips_through_yaml(tmp_path, make_config):
    path = make_config(base=QUICKSTART)
    config = load_config(path)
    again = tmp_path / "resolved.yaml"
    again.write_text(dump(config.to_dict()))
    reloaded = load_config(again)
    assert reloaded.to_dict() == config.to_dict()
    assert reloaded.space == config.space


# Where a number can stand in a config, and the rule a NaN or an infinity there breaks.
NOT_FINITE = [
    ("model: {l2: VALUE}", "model.l2", "must be a finite number"),
    ("data: {noise: VALUE}", "data.noise", "must be a finite number"),
    ("data: {val_fraction: VALUE}", "data.val_fraction", "must be a finite number"),
    ("zoom: {margin: VALUE}", "zoom.margin", "must be a finite number"),
    ("run: {trial_timeout: VALUE}", "run.trial_timeout", "must be a finite number"),
    ("search: {trials: VALUE}", "search.trials", "must be a positive integer"),
    ("seed: VALUE", "seed", "must be an integer"),
    ("space: {l2: {choice: [1.0e-4, VALUE]}}", "space.l2.choice[1]", "must be a finite number"),
    ("space: {l2: {scale: log, min: VALUE, max: 1}}", "space.l2.min", "must be a finite number"),
]


def test_nan_is_never_silently_accepted(tmp_path):
    """Not in a bound, a fixed value, a choice or a setting of the config, nor in --set or
    an option: NaN, inf and -inf are each an error naming where they stand."""
    path = tmp_path / "c.yaml"
    for entry, key, rule in NOT_FINITE:
        for value, shown in ((".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf")):
            text = entry.replace("VALUE", value)
            path.write_text(text + "\n" + ("" if text.startswith("space") else "space:\n" + LR))
            with pytest.raises(ConfigError) as info:
                load_config(path)
            assert str(info.value).startswith(f"{path}:1: {key}: {rule}"), str(info.value)
            assert f"got {shown}" in str(info.value), str(info.value)
    path.write_text('objective: {python: "m:f", timeout: .nan}\nspace:\n  x: {choice: [1]}\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:1: objective.timeout: must be a finite number, got nan"
    path.write_text("space:\n" + LR + "run: {runs_dir: " + str(tmp_path / "runs") + "}\n")
    for setting, fragment in (
        ("learning_rate=.nan", "must be a finite number, got nan"),
        ("l2=.inf", "must be a finite number, got inf"),
        ("learning_rate=nan", "must be a finite number, got nan"),  # a number on a command line
    ):
        result = invoke("train", str(path), "--set", setting)
        assert result.exit_code == 2, (setting, result.output)
        assert fragment in result.stderr and result.stderr.count("\n") == 1, result.stderr
    for args, fragment in (  # usage errors (one line from the command: see test_run.py)
        (["run", str(path), "--fail-under", "nan"], "must be a finite number, got nan"),
        (["zoom", "latest", "--top-fraction", "nan"], "'--top-fraction': must be a finite number"),
        (["zoom", "latest", "--margin", "nan"], "'--margin'"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{}", DataConfig()),
        (
            "{source: blobs}",
            DataConfig("blobs", 4, 2000, 2, 0.2, 0.2),
        ),
        ("{source: digits, val_fraction: 0.3}", DataConfig("digits", val_fraction=0.3, **NONE)),
        (
            "{path: d.csv, target: y}",
            DataConfig("csv", val_fraction=0.2, path="d.csv", target="y", **NONE),
        ),
        (
            "{path: a.npz, val_path: ../b.npz}",
            DataConfig("npz", val_fraction=None, path="a.npz", val_path="../b.npz", **NONE),
        ),
        (
            "{source: csv, path: d.tsv.gz, target: y}",
            DataConfig("csv", val_fraction=0.2, path="d.tsv.gz", target="y", **NONE),
        ),
    ],
)
def test_data_section_defaults_and_round_trip(tmp_path, data, expected):
    path = tmp_path / "c.yaml"
    path.write_text(f"data: {data}\nspace:\n" + LR)
    config = load_config(path)
    assert config.data == expected
    resolved = config.to_dict()["data"]
    assert None not in resolved.values()
    again = tmp_path / "resolved.yaml"
    again.write_text(dump(config.to_dict()))
    assert load_config(again).data == expected


def test_yaml_merge_keys_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(
        "space:\n  learning_rate: &lr {scale: log, min: 1.0e-4, max: 1.0}\n"
        "  l2: {<<: *lr, min: 1.0e-6}\n"
    )
    config = load_config(path)
    assert (config.space["l2"].low, config.space["l2"].high) == (1e-6, 1.0)
