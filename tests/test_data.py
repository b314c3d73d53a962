"""Datasets: generated and file sets, the stratified split, standardisation, every DataError."""

import sys
from pathlib import Path

import numpy as np
import pytest

from hpsearch.config import DataConfig, load_config
from hpsearch.data import (
    Dataset,
    data_rng,
    load_dataset,
    make_blobs,
    make_spirals,
    split_stratified,
    standardize,
)
from hpsearch.errors import DataError, UserError
from hpsearch.sampling import trial_stream

from .helpers import invoke

LR = "  learning_rate: {scale: log, min: 1.0e-4, max: 1.0}\n"
ARRAYS = ("x_train", "y_train", "x_val", "y_val", "mean", "std")


def csv_config(path: str = "d.csv", target: str = "label", **more) -> DataConfig:
    return DataConfig("csv", None, None, None, None, path=path, target=target, **more)


def npz_config(path: str = "d.npz", **more) -> DataConfig:
    return DataConfig("npz", None, None, None, None, path=path, **more)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def raw_rows(d: Dataset) -> np.ndarray:
    """Training and validation rows with the standardisation undone, sorted."""
    rows = np.concatenate([d.x_train, d.x_val]) * d.std + d.mean
    return rows[np.lexsort(rows.T[::-1])]


# -- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["spirals", "blobs"])
def test_same_seed_gives_identical_arrays_and_another_seed_others(source):
    data = DataConfig(source=source, features=3 if source == "blobs" else None)
    first, again, other = (load_dataset(data, seed) for seed in (7, 7, 8))
    for name in ARRAYS:
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.x_train, other.x_train)
    assert not np.array_equal(first.y_val, other.y_val)


def test_file_split_depends_on_the_seed_only(tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(30))
    write(tmp_path, "d.csv", "x,label\n" + rows)
    first, again, other = (load_dataset(csv_config(), s, tmp_path) for s in (1, 1, 2))
    assert np.array_equal(first.x_val, again.x_val) and np.array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.x_val, other.x_val)


def test_data_stream_is_apart_from_every_trial_stream():
    draw = data_rng(0).integers(0, 2**63, size=4)
    for i in range(200):
        for k in range(2):
            trial = np.random.default_rng(trial_stream(0, i, k)).integers(0, 2**63, size=4)
            assert not np.array_equal(draw, trial)


def test_generated_data_are_the_generators_output():
    data = DataConfig(source="spirals", classes=3, samples=300, noise=0.1)
    d = load_dataset(data, 5)
    x, _ = make_spirals(3, 300, 0.1, data_rng(5))
    assert np.allclose(raw_rows(d), x[np.lexsort(x.T[::-1])])


# -- generators ----------------------------------------------------------------------------


def test_spirals_shapes_balance_and_arms():
    x, y = make_spirals(3, 100, 0.2, np.random.default_rng(0))
    assert x.shape == (100, 2) and x.dtype == np.float64
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [34, 33, 33]
    assert np.all(np.hypot(x[:, 0], x[:, 1]) <= 1 + 1e-12)
    clean, _ = make_spirals(4, 40, 0.0, np.random.default_rng(0))
    end = clean[9]  # arm 0's last point: r = 1, θ = 2π (one full turn)
    assert np.allclose(end, [0.0, 1.0])
    start_of_arm_3 = clean[31]  # r = 1/9 along arm 3, which starts at 3/4 of a turn
    theta = 2 * np.pi * (3 / 4 + 1 / 9)
    assert np.allclose(start_of_arm_3, np.array([np.sin(theta), np.cos(theta)]) / 9)
    assert np.allclose(clean[10], 0.0)  # arm 1 starts at the centre


def test_blobs_shapes_balance_and_centres():
    x, y = make_blobs(4, 2000, 5, 0.2, np.random.default_rng(0))
    assert x.shape == (2000, 5) and np.bincount(y).tolist() == [500] * 4
    centres = np.array([x[y == k].mean(axis=0) for k in range(4)])
    assert np.all(np.abs(centres) <= 1.05)
    spread = np.array([x[y == k].std(axis=0) for k in range(4)])
    assert np.allclose(spread, 0.2, atol=0.03)
    exact, labels = make_blobs(3, 30, 2, 0.0, np.random.default_rng(1))
    assert len(np.unique(exact, axis=0)) == 3 and np.all(np.abs(exact) <= 1)
    assert np.bincount(labels).tolist() == [10, 10, 10]


def test_default_blobs_are_learnable_but_not_trivial():
    d = load_dataset(DataConfig(source="blobs", features=2), 0)
    means = np.array([d.x_train[d.y_train == k].mean(axis=0) for k in range(d.classes)])
    nearest = np.argmin(((d.x_val[:, None, :] - means) ** 2).sum(axis=2), axis=1)
    assert 0.6 < np.mean(nearest == d.y_val) < 1.0


# -- split and standardisation -------------------------------------------------------------


def test_stratified_split_keeps_proportions_and_never_overlaps():
    y = np.repeat([0, 1, 2, 3], [10, 7, 3, 50])
    train, val = split_stratified(y, 0.3, np.random.default_rng(0))
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    assert np.bincount(y[val]).tolist() == [3, 2, 1, 15]
    for c, n in enumerate([10, 7, 3, 50]):
        assert abs(np.sum(y[val] == c) - n * 0.3) <= 1
    again = split_stratified(y, 0.3, np.random.default_rng(0))
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])


@pytest.mark.parametrize(("fraction", "expected"), [(0.01, [1, 1]), (0.99, [2, 9])])
def test_every_class_keeps_a_row_in_each_split(fraction, expected):
    y = np.repeat([0, 1], [3, 10])
    train, val = split_stratified(y, fraction, np.random.default_rng(0))
    assert np.bincount(y[val]).tolist() == expected
    assert set(y[train]) == {0, 1}


def test_split_refuses_a_class_of_one():
    with pytest.raises(ValueError, match="at least 2"):
        split_stratified(np.array([0, 0, 1]), 0.5, np.random.default_rng(0))


def test_standardize_uses_the_training_statistics():
    rng = np.random.default_rng(0)
    x_train = np.column_stack([rng.normal(5, 3, 200), np.full(200, 7.0), rng.normal(-1, 0.1, 200)])
    x_val = rng.normal(0, 1, (20, 3))
    train, val, mean, std = standardize(x_train, x_val)
    assert np.allclose(train.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(train.std(axis=0), [1, 0, 1])
    assert std[1] == 1.0 and np.all(train[:, 1] == 0)
    assert np.allclose(val, (x_val - x_train.mean(axis=0)) / std)
    assert np.allclose(mean, x_train.mean(axis=0))


def test_dataset_is_split_standardised_and_read_only():
    d = load_dataset(DataConfig(), 0)
    assert (d.name, d.classes, d.features, d.labels) == ("spirals", 4, 2, (0, 1, 2, 3))
    assert d.x_train.shape == (1600, 2) and d.x_val.shape == (400, 2)
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    assert np.bincount(d.y_val).tolist() == [100] * 4
    assert np.allclose(d.x_train.mean(axis=0), 0) and np.allclose(d.x_train.std(axis=0), 1)
    with pytest.raises(ValueError, match="read-only"):
        d.x_train[0, 0] = 1.0


# -- CSV -----------------------------------------------------------------------------------


def test_csv_with_string_labels_relative_to_base_dir(tmp_path):
    rows = ["x1,x2,species"] + [f"{i}.5,{i % 4},{'ab'[i % 2]}{i % 3}" for i in range(24)]
    write(tmp_path, "iris.csv", "\ufeff" + "\n".join(rows) + "\n\n")
    d = load_dataset(csv_config("iris.csv", "species"), 0, base_dir=tmp_path)
    assert d.name == "iris.csv"
    assert d.labels == ("a0", "a1", "a2", "b0", "b1", "b2")
    assert len(d.y_train) + len(d.y_val) == 24 and d.features == 2
    assert set(d.y_val.tolist()) == set(range(6))
    x = np.array([[i + 0.5, i % 4] for i in range(24)])
    assert np.allclose(raw_rows(d), x[np.lexsort(x.T[::-1])])


def test_csv_numeric_labels_sort_as_numbers(tmp_path):
    write(tmp_path, "d.csv", "label,x\n10,1\n2,2\n10,3\n2,4\n")
    d = load_dataset(csv_config(), 0, tmp_path)
    assert d.labels == (2, 10)


def test_csv_from_a_config_resolves_paths_next_to_the_config(tmp_path):
    folder = tmp_path / "cfg"
    folder.mkdir()
    write(folder, "d.csv", "x,label\n" + "".join(f"{i},{i % 2}\n" for i in range(10)))
    config = write(folder, "c.yaml", "data: {path: d.csv, target: label}\nspace:\n" + LR)
    cfg = load_config(config)
    assert cfg.data.source == "csv" and cfg.data.path == "d.csv"
    d = load_dataset(cfg.data, cfg.seed, base_dir=config.parent)
    assert d.classes == 2 and len(d.y_val) == 2


def test_csv_validation_file_matches_columns_by_name(tmp_path):
    write(tmp_path, "t.csv", "a,b,label\n1,10,x\n2,20,y\n3,30,x\n")
    write(tmp_path, "v.csv", "b,label,a\n40,y,4\n50,x,5\n")
    d = load_dataset(csv_config("t.csv", val_path="v.csv"), 0, tmp_path)
    assert d.labels == ("x", "y") and d.y_val.tolist() == [1, 0]
    val = d.x_val * d.std + d.mean
    assert np.allclose(val, [[4, 40], [5, 50]])
    assert np.allclose(d.x_train * d.std + d.mean, [[1, 10], [2, 20], [3, 30]])


BAD_CSV = [
    # (case, file text, line, message fragment)
    ("empty", "", None, "is empty; expected a header row"),
    ("header-only", "x,label\n", 1, "a header row but no data rows"),
    ("no-header", "1,2,0\n3,4,1\n", 1, "no header row"),
    (
        "missing-target",
        "x1,x2,lable\n1,2,a\n",
        1,
        "no column 'label' (data.target); the columns are: x1, x2, lable; did you mean 'lable'?",
    ),
    ("duplicate-column", "x,x,label\n1,2,a\n", 1, "column 'x' appears 2 times"),
    ("unnamed-column", "x,,label\n1,2,a\n", 1, "column 2 has no name"),
    ("only-target", "label\na\nb\n", 1, "no feature columns"),
    ("not-a-number", "x1,x2,label\n1,2,a\n\n1,abc,b\n", 4, "column 'x2': not a number: 'abc'"),
    ("empty-cell", "x1,x2,label\n1,2,a\n1, ,b\n", 3, "column 'x2': empty cell"),
    ("nan", "x1,x2,label\n1,2,a\nnan,2,b\n", 3, "column 'x1': not a finite number: 'nan'"),
    ("inf", "x1,x2,label\n1,-inf,a\n", 2, "column 'x2': not a finite number: '-inf'"),
    ("empty-label", "x,label\n1,\n", 2, "column 'label': empty label"),
    ("short-row", "x1,x2,label\n1,2,a\n1,b\n", 3, "2 cells, the header has 3 columns"),
    ("one-class", "x,label\n1,a\n2,a\n3,a\n", None, "only one class ('a') in 3 rows"),
    (
        "too-few-rows",
        "x,label\n1,a\n2,a\n3,b\n",
        None,
        "too few rows to split into training and validation: 3 rows in 2 classes, "
        "and class 'b' has 1",
    ),
]


@pytest.mark.parametrize(("case", "text", "line", "fragment"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_bad_csv_is_one_located_error(tmp_path, case, text, line, fragment):
    path = write(tmp_path, "d.csv", text)
    with pytest.raises(DataError) as info:
        load_dataset(csv_config(), 0, tmp_path)
    message = str(info.value)
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(prefix), message
    assert fragment in message and "\n" not in message


def test_non_numeric_cell_names_file_line_column_and_value(tmp_path):
    path = write(tmp_path, "data.csv", "x1,x2,label\n" + "1,2,a\n" * 15 + "3,abc,b\n")
    with pytest.raises(DataError) as info:
        load_dataset(csv_config("data.csv"), 0, tmp_path)
    assert str(info.value) == f"{path}:17: column 'x2': not a number: 'abc'"


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset(csv_config("nope.csv"), 0, tmp_path)
    assert str(info.value) == f"{tmp_path / 'nope.csv'}: file not found"
    with pytest.raises(DataError, match="is a directory"):
        load_dataset(csv_config("."), 0, tmp_path)


@pytest.mark.parametrize(
    ("val_text", "line", "fragment"),
    [
        ("x,label\n1,a\n2,c\n", 3, "label 'c' is not among the training file's classes: a, b"),
        ("x,z,label\n1,2,a\n", 1, "column 'z' is not in the training file"),
        ("y,label\n1,a\n", 1, "no column 'x'; a validation file needs the training file's"),
        ("x,label\n1,a\n2,a\n", None, "no rows of class 'b'"),
    ],
)
def test_bad_validation_csv(tmp_path, val_text, line, fragment):
    write(tmp_path, "t.csv", "x,label\n1,a\n2,b\n")
    path = write(tmp_path, "v.csv", val_text)
    with pytest.raises(DataError) as info:
        load_dataset(csv_config("t.csv", val_path="v.csv"), 0, tmp_path)
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert str(info.value).startswith(prefix + fragment), str(info.value)


# -- NPZ -----------------------------------------------------------------------------------


def test_npz_happy_path_with_a_validation_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.array(["cat", "dog"] * 20)
    np.savez(tmp_path / "d.npz", X=x, y=y)
    d = load_dataset(npz_config(), 0, tmp_path)
    assert (d.name, d.labels, d.features) == ("d.npz", ("cat", "dog"), 3)
    assert np.bincount(d.y_val).tolist() == [4, 4] and np.bincount(d.y_train).tolist() == [16, 16]
    np.savez(tmp_path / "v.npz", X=np.ones((2, 3)), y=np.array(["dog", "cat"]))
    d = load_dataset(npz_config(val_path="v.npz"), 0, tmp_path)
    assert d.y_val.tolist() == [1, 0] and len(d.y_train) == 40


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        ({"X": np.ones((4, 2))}, "no array 'y' (the labels, one per row); the file holds: X"),
        ({"x": np.ones((4, 2)), "y": np.arange(4)}, "no array 'X'"),
        ({"X": np.ones(4), "y": np.arange(4)}, "X must be 2-D (rows, features), got shape (4,)"),
        ({"X": np.ones((4, 2)), "y": np.ones((4, 1))}, "y must be 1-D"),
        ({"X": np.ones((4, 2)), "y": np.arange(3)}, "X has 4 rows but y has 3 labels"),
        ({"X": np.array([["a", "b"]] * 4), "y": np.arange(4)}, "X must hold numbers"),
        (
            {"X": np.array([[1.0, 2.0], [np.nan, 1.0]]), "y": np.arange(2)},
            "X[1, 0] is not a finite number: nan",
        ),
        ({"X": np.ones((4, 2)), "y": np.array([0, 1, np.inf, 0])}, "y[2] is not a finite"),
        ({"X": np.ones((3, 2)), "y": np.array([5, 5, 5])}, "only one class (5)"),
    ],
)
def test_bad_npz_is_one_error_naming_the_file(tmp_path, arrays, fragment):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError) as info:
        load_dataset(npz_config(), 0, tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'd.npz'}: {fragment}"), str(info.value)


def test_npz_that_is_not_an_archive(tmp_path):
    write(tmp_path, "d.npz", "x,label\n")
    with pytest.raises(DataError, match=r"is not a NumPy \.npz file"):
        load_dataset(npz_config(), 0, tmp_path)
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(DataError, match="holds a single array"):
        load_dataset(npz_config("a.npy"), 0, tmp_path)


# -- digits --------------------------------------------------------------------------------


@pytest.mark.slow
def test_digits_loads():
    pytest.importorskip("sklearn")
    d = load_dataset(DataConfig("digits", None, None, None, None, 0.2), 0)
    assert len(d.y_train) + len(d.y_val) == 1797
    assert (d.classes, d.features, d.labels) == (10, 64, tuple(range(10)))
    assert np.all(np.isfinite(d.x_train)) and np.all(d.std > 0)


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError) as info:
        load_dataset(DataConfig("digits", None, None, None, None, 0.2), 0)
    assert str(info.value) == (
        "data.source 'digits' needs scikit-learn: pip install 'hpsearch[datasets]'"
    )


# -- errors and the CLI --------------------------------------------------------------------


def test_data_error_is_a_one_line_user_error():
    assert str(DataError("bad", file="d.csv", line=3)) == "d.csv:3: bad"
    assert str(DataError("bad", file="d.csv")) == "d.csv: bad"
    assert str(DataError("bad")) == "bad"
    assert isinstance(DataError("bad"), UserError) and DataError.exit_code == 2


def test_cli_validate_reports_a_bad_data_key_with_exit_2(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        "data:\n  path: d.csv\n  target: label\n  noise: 0.1\nspace:\n" + LR,
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: {path}:4: data.noise: does not apply to source 'csv' (from the extension of "
        "data.path); it takes path, target, val_path, val_fraction, seed\n"
    )
