"""The NumPy trainer against the course notes: gradients, softmax, BatchNorm, optimizers."""

from types import SimpleNamespace

import numpy as np
import pytest

from hpsearch.trainer import MLP, Architecture, train
from hpsearch.trainer.losses import cross_entropy, softmax
from hpsearch.trainer.optimizers import (
    GD,
    Adam,
    Momentum,
    RMSprop,
    decayed_learning_rate,
)


def toy_data(n=256, classes=3, features=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, features))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.normal(0, 1, (n, features))
    split = int(n * 0.75)
    return SimpleNamespace(
        x_train=x[:split], y_train=y[:split], x_val=x[split:], y_val=y[split:], classes=classes
    )


# -- gradients ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "batch_norm", "layers"),
    [
        ("relu", True, 2),
        ("tanh", True, 2),
        ("relu", False, 2),
        ("tanh", False, 1),
        ("relu", True, 0),
    ],
)
@pytest.mark.parametrize("one_pass", [False, True], ids=["two-pass-variance", "one-pass-variance"])
def test_every_gradient_matches_central_differences(
    activation, batch_norm, layers, one_pass, monkeypatch
):
    from hpsearch.trainer import layers as layers_module

    # Small batches use the two-pass variance; large ones the one-pass form. Check both.
    monkeypatch.setattr(layers_module, "_ONE_PASS_SIZE", 0 if one_pass else 1 << 30)
    rng = np.random.default_rng(1)
    arch = Architecture(
        inputs=3,
        classes=4,
        layers=layers,
        hidden_units=5,
        activation=activation,
        batch_norm=batch_norm,
    )
    model = MLP(arch, rng, dtype=np.float64)
    model.params += rng.normal(0, 0.1, model.params.size)  # move γ, β, b off their init
    x = rng.normal(0, 1, (7, 3))
    y = np.array([0, 1, 2, 3, 0, 1, 2])
    l2 = 0.3

    model.loss_and_grads(x, y, l2)
    analytic = model.grads.copy()
    numeric = np.empty_like(analytic)
    h = 1e-6
    for i in range(model.params.size):
        old = model.params[i]
        model.params[i] = old + h
        up, _ = model.loss_and_grads(x, y, l2)
        model.params[i] = old - h
        down, _ = model.loss_and_grads(x, y, l2)
        model.params[i] = old
        numeric[i] = (up - down) / (2 * h)

    # Check each learnable array separately: W, b, γ, β of every layer.
    checked = 0
    for layer in model.layers:
        for name, view in getattr(layer, "g", {}).items():
            start = view.ctypes.data - model.grads.ctypes.data
            index = slice(start // 8, start // 8 + view.size)
            a, nmr = analytic[index], numeric[index]
            error = np.linalg.norm(a - nmr) / max(np.linalg.norm(a) + np.linalg.norm(nmr), 1e-12)
            assert error < 1e-6, (type(layer).__name__, name, error)
            checked += view.size
    assert checked == model.params.size


# -- softmax -----------------------------------------------------------------------------------


def test_softmax_matches_the_notes_example():
    p = softmax(np.array([5.0, 2.0, -1.0, 3.0]))
    assert np.allclose(p, [0.842, 0.042, 0.002, 0.114], atol=5e-4)
    assert p.sum() == pytest.approx(1.0)


def test_softmax_and_loss_stay_finite_for_huge_logits():
    p = softmax(np.array([[1000.0, 0.0]]))
    assert np.all(np.isfinite(p)) and p[0, 0] == pytest.approx(1.0)
    loss, grad, correct = cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.all(np.isfinite(grad)) and correct == 0


# -- Batch Normalization ----------------------------------------------------------------------


@pytest.mark.parametrize("one_pass", [False, True])
@pytest.mark.parametrize("offset", [0.0, 1e4])  # 1e4: |μ| ≫ σ forces the two-pass fallback
def test_batchnorm_normalises_each_unit_in_training_mode(one_pass, offset, monkeypatch):
    from hpsearch.trainer import layers as layers_module

    monkeypatch.setattr(layers_module, "_ONE_PASS_SIZE", 0 if one_pass else 1 << 30)
    rng = np.random.default_rng(0)
    model = MLP(Architecture(inputs=6, classes=3, layers=1, hidden_units=8), rng, np.float32)
    x = rng.normal(5 + offset, 3, (128, 6)).astype(np.float32)
    model.forward(x, training=True)
    bn = model.layers[1]
    assert (bn.shift is not None) == (one_pass and offset == 0.0)
    assert np.allclose(bn.x_hat.mean(axis=0), 0, atol=1e-3)
    assert np.allclose(bn.x_hat.var(axis=0), 1, atol=2e-3)
    assert bn.running_mean.shape == (8,) and "running_mean" not in bn.p


def test_batchnorm_evaluates_one_example_as_inside_a_batch():
    data = toy_data()
    rng = np.random.default_rng(0)
    model = MLP(Architecture(inputs=4, classes=3, layers=2, hidden_units=16), rng, np.float64)
    for _ in range(20):
        model.loss_and_grads(data.x_train[:32], data.y_train[:32])
    batch = model.forward(data.x_val, training=False)
    alone = np.vstack(
        [model.forward(data.x_val[i : i + 1], training=False) for i in range(len(data.x_val))]
    )
    assert np.allclose(alone, batch, rtol=1e-12, atol=1e-12)


def test_running_statistics_are_exponentially_weighted_averages():
    rng = np.random.default_rng(0)
    model = MLP(
        Architecture(inputs=2, classes=2, layers=1, hidden_units=3, bn_momentum=0.75),
        rng,
        np.float64,
    )
    bn = model.layers[1]
    means = []
    for _ in range(3):
        x = rng.normal(0, 1, (10, 2))
        model.forward(x, training=True)
        means.append((x @ model.layers[0].p["W"]).mean(axis=0))
    expected = np.zeros(3)
    for m in means:
        expected = 0.75 * expected + 0.25 * m
    assert np.allclose(bn.running_mean, expected)


def test_initial_gamma_is_one_and_beta_zero():
    model = MLP(
        Architecture(inputs=2, classes=2, layers=1, hidden_units=3), np.random.default_rng(0)
    )
    bn = model.layers[1]
    assert np.all(bn.p["gamma"] == 1) and np.all(bn.p["beta"] == 0)
    assert "b" not in model.layers[0].p  # BatchNorm's β replaces the hidden bias


# -- optimizers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "lr", "steps"),
    [
        (lambda n: GD(), 0.1, 500),
        (lambda n: Momentum(n, np.float64, 0.9), 0.1, 500),
        (lambda n: RMSprop(n, np.float64, 0.999, 1e-8), 0.01, 3000),
        (lambda n: Adam(n, np.float64, 0.9, 0.999, 1e-8), 0.05, 3000),
    ],
)
def test_each_optimizer_drives_a_convex_quadratic_to_its_minimum(make, lr, steps):
    a = np.array([1.0, 4.0, 0.5])
    c = np.array([3.0, -2.0, 1.0])
    theta = np.zeros(3)
    optimizer = make(3)
    for t in range(steps):
        grad = a * (theta - c)
        # RMSprop/Adam take steps of about α: let α shrink so they settle on the minimum.
        optimizer.step(theta, grad, decayed_learning_rate(lr, 0.01, t))
    assert np.allclose(theta, c, atol=1e-3), theta


def test_adam_first_step_has_magnitude_alpha_per_coordinate():
    theta = np.zeros(4)
    Adam(4, np.float64, 0.9, 0.999, 1e-8).step(theta, np.array([1e-3, -5.0, 200.0, -0.1]), 0.01)
    assert np.allclose(np.abs(theta), 0.01, rtol=1e-4)


def test_learning_rate_decay_follows_the_notes():
    assert decayed_learning_rate(0.2, 1.0, 0) == pytest.approx(0.2)
    assert decayed_learning_rate(0.2, 1.0, 1) == pytest.approx(0.1)
    assert decayed_learning_rate(0.2, 1.0, 3) == pytest.approx(0.05)


# -- training ----------------------------------------------------------------------------------


def test_training_is_reproducible_and_depends_on_the_seed():
    data = toy_data()
    a, b = train({"epochs": 3}, data, seed=5), train({"epochs": 3}, data, seed=5)
    c = train({"epochs": 3}, data, seed=6)
    assert a.metrics == b.metrics and a.curves == b.curves
    assert a.curves["train_loss"] != c.curves["train_loss"]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_float32_training_keeps_every_array_float32(optimizer):
    data = toy_data()
    rng = np.random.default_rng(0)
    model = MLP(Architecture(inputs=4, classes=3), rng, np.float32)
    from hpsearch.trainer.optimizers import make_optimizer
    from hpsearch.trainer.train import resolve_hyperparams

    opt = make_optimizer(optimizer, model.params.size, np.float32, resolve_hyperparams({}))
    x = data.x_train[:32].astype(np.float32)
    for _ in range(3):
        model.loss_and_grads(x, data.y_train[:32], l2=0.01)
        opt.step(model.params, model.grads, 0.01)
    arrays = [model.params, model.grads, *vars(opt).values()]
    arrays += [layer.running_mean for layer in model.layers if hasattr(layer, "running_mean")]
    arrays += [layer.running_var for layer in model.layers if hasattr(layer, "running_var")]
    for array in arrays:
        if isinstance(array, np.ndarray):
            assert array.dtype == np.float32
    assert model.forward(x, training=False).dtype == np.float32


def test_a_blown_up_run_is_diverged_not_an_exception():
    data = toy_data()
    result = train({"learning_rate": 1e4, "optimizer": "gd", "batch_norm": False}, data, seed=0)
    assert result.status == "diverged"
    assert "epoch 1" in result.reason
    assert result.epochs < 30


def test_a_final_batch_of_one_is_skipped_with_batchnorm():
    data = toy_data(n=260)  # 195 training rows: batches of 64, 64, 64 and 3
    data.x_train, data.y_train = data.x_train[:193], data.y_train[:193]  # ... and 1
    result = train({"epochs": 2, "batch_size": 64}, data, seed=0)
    assert result.status == "ok"


def test_softmax_regression_with_no_hidden_layer():
    result = train({"layers": 0, "epochs": 20, "learning_rate": 0.05}, toy_data(), seed=0)
    assert result.status == "ok" and result.metrics["val_accuracy"] > 0.9


def test_result_has_final_best_metrics_and_curves():
    result = train({"epochs": 4}, toy_data(), seed=0)
    for key in (
        "val_accuracy",
        "val_loss",
        "train_accuracy",
        "train_loss",
        "best_epoch",
        "best_val_accuracy",
        "best_val_loss",
    ):
        assert key in result.metrics
    assert result.curves["epoch"] == [1, 2, 3, 4] and result.epochs == 4
    assert result.seconds > 0 and len(result.curves["val_loss"]) == 4


def test_report_is_called_every_epoch():
    seen = []
    train({"epochs": 3}, toy_data(), seed=0, report=lambda epoch, **m: seen.append((epoch, m)))
    assert [e for e, _ in seen] == [1, 2, 3]
    assert set(seen[0][1]) == {"lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}


def test_unknown_hyperparameter_is_refused():
    with pytest.raises(ValueError, match="learnig_rate"):
        train({"learnig_rate": 0.1}, toy_data(), seed=0)


# -- learning on the built-in datasets ----------------------------------------------------------


def spirals():
    from hpsearch.config import DataConfig
    from hpsearch.data import load_dataset

    return load_dataset(DataConfig(), seed=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_four_class_spirals_reach_95_percent_with_the_defaults(seed):
    result = train({}, spirals(), seed=seed)
    assert result.status == "ok"
    assert result.metrics["val_accuracy"] >= 0.95, result.metrics


def test_batchnorm_trains_at_a_learning_rate_where_plain_network_stalls():
    data = spirals()
    params = {"optimizer": "adam", "learning_rate": 0.5}
    with_bn = train({**params, "batch_norm": True}, data, seed=0)
    without = train({**params, "batch_norm": False}, data, seed=0)
    # Measured: 0.79 with BatchNorm, 0.25 (chance) without.
    assert with_bn.status == "ok" and with_bn.metrics["val_accuracy"] >= 0.7
    assert without.status == "diverged" or without.metrics["val_accuracy"] <= 0.45


def test_digits_reach_96_percent():
    pytest.importorskip("sklearn")
    from hpsearch.config import DataConfig
    from hpsearch.data import load_dataset

    data = load_dataset(
        DataConfig(source="digits", classes=None, samples=None, noise=None, features=None), seed=0
    )
    result = train({}, data, seed=0)
    assert result.metrics["val_accuracy"] >= 0.96, result.metrics
