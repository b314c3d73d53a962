"""The built-in trainer's hyperparameters and metrics: one registry of name, type, default,
range and meaning, and the metrics a trial reports with the direction each improves in.

The config loader checks ``model`` (fixed settings) and ``space`` (searched ones) against it,
the trainer reads its defaults from it, and ``hpsearch params`` prints it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """Valid numeric values: low..high, each end open or closed."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def contains(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def __str__(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"{left}{_num(self.low)}, {_num(self.high)}{right}"

    def rule(self, x: float) -> str:
        """The bound that ``x`` breaks, as ``must be > 0``."""
        if not (x > self.low if self.low_open else x >= self.low):
            return f"must be {'>' if self.low_open else '>='} {_num(self.low)}"
        return f"must be {'<' if self.high_open else '<='} {_num(self.high)}"


TIERS = {1: "the one that matters most", 2: "tune next", 3: "tune last"}
TIER_NOTE = (
    "tier: the course's tuning priority, 1 first (learning_rate), then 2, then 3; - not ranked. "
    "Adam's β1, β2, ε (adam_*, beta2, epsilon) are usually left at their defaults 0.9, 0.999, "
    "1e-8."
)


def _num(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


@dataclass(frozen=True)
class Hyperparam:
    name: str
    type: str  # "float" | "int" | "bool" | "choice"
    default: Any
    description: str
    interval: Interval | None = None
    choices: tuple[str, ...] = ()
    suggested_scale: str = "linear"  # the scale a search over it usually wants
    # The course's tuning priority: 1 first, then 2, then 3; None: not ranked (Adam's β1, β2
    # and ε among them: usually left at their defaults).
    tier: int | None = None
    # The range a first search over it usually spans (``hpsearch init``); None: not written.
    search_range: tuple[float, float] | None = None

    def describe_range(self) -> str:
        if self.type == "choice":
            return " | ".join(self.choices)
        if self.type == "bool":
            return "true | false"
        return str(self.interval)


_POS = Interval(0.0, math.inf, low_open=True)
_NONNEG = Interval(0.0, math.inf)
_BETA = Interval(0.0, 1.0, high_open=True)

# Each optimizer's own settings, so that a conditional space can search momentum's β only
# when the optimizer is momentum, and so on: (optimizer, name, general setting it defaults
# to, meaning, valid values, scale, tier).
PER_OPTIMIZER = (
    ("momentum", "beta", "beta1", "momentum's averaging β", _BETA, "one_minus_log", 2),
    (
        "rmsprop",
        "beta",
        "beta2",
        "RMSprop's decay β of the squared gradients",
        _BETA,
        "one_minus_log",
        None,
    ),
    ("rmsprop", "epsilon", "epsilon", "RMSprop's denominator guard ε", _POS, "log", None),
    ("adam", "beta1", "beta1", "Adam's first-moment β1", _BETA, "one_minus_log", None),
    ("adam", "beta2", "beta2", "Adam's second-moment β2", _BETA, "one_minus_log", None),
    ("adam", "epsilon", "epsilon", "Adam's denominator guard ε", _POS, "log", None),
)
PER_LAYER = 8  # hidden_units_1 .. hidden_units_8: one layer's width each

REGISTRY: dict[str, Hyperparam] = {
    h.name: h
    for h in [
        Hyperparam(
            "learning_rate",
            "float",
            0.01,
            "step size α0 of gradient descent",
            _POS,
            suggested_scale="log",
            tier=1,
            search_range=(1e-4, 1.0),
        ),
        Hyperparam(
            "lr_decay",
            "float",
            0.0,
            "decay rate: α = α0 / (1 + lr_decay · epoch)",
            _NONNEG,
            suggested_scale="log",
            tier=3,
            search_range=(1e-3, 1.0),
        ),
        Hyperparam(
            "optimizer",
            "choice",
            "adam",
            "update rule",
            choices=("gd", "momentum", "rmsprop", "adam"),
        ),
        Hyperparam(
            "beta1",
            "float",
            0.9,
            "momentum / Adam first-moment averaging β1",
            _BETA,
            suggested_scale="one_minus_log",
            tier=2,  # the course's momentum β
            search_range=(0.9, 0.999),
        ),
        Hyperparam(
            "beta2",
            "float",
            0.999,
            "RMSprop / Adam second-moment averaging β2",
            _BETA,
            suggested_scale="one_minus_log",
        ),
        Hyperparam(
            "epsilon",
            "float",
            1e-8,
            "RMSprop / Adam denominator guard ε",
            _POS,
            suggested_scale="log",
        ),
        *[
            Hyperparam(
                f"{optimizer}_{name}",
                "float",
                None,
                f"{label} (default: {general})",
                interval,
                suggested_scale=scale,
                tier=tier,
            )
            for optimizer, name, general, label, interval, scale, tier in PER_OPTIMIZER
        ],
        Hyperparam(
            "layers",
            "int",
            2,
            "hidden layers (0 = softmax regression)",
            Interval(0, 64),
            tier=3,
            search_range=(1, 4),
        ),
        Hyperparam(
            "hidden_units",
            "int",
            64,
            "units in each hidden layer",
            Interval(1, 65536),
            suggested_scale="log",
            tier=2,
            search_range=(16, 256),
        ),
        *[
            Hyperparam(
                f"hidden_units_{k}",
                "int",
                None,
                f"units in hidden layer {k} (default: hidden_units)",
                Interval(1, 65536),
                suggested_scale="log",
                tier=2,
            )
            for k in range(1, PER_LAYER + 1)
        ],
        Hyperparam(
            "activation", "choice", "relu", "hidden-layer activation", choices=("relu", "tanh")
        ),
        Hyperparam("batch_norm", "bool", True, "Batch Normalization before each activation"),
        Hyperparam(
            "bn_momentum",
            "float",
            0.9,
            "β of BatchNorm's running mean / variance (test-time statistics)",
            _BETA,
            suggested_scale="one_minus_log",
        ),
        Hyperparam(
            "bn_epsilon", "float", 1e-5, "BatchNorm variance guard ε", _POS, suggested_scale="log"
        ),
        Hyperparam(
            "batch_size",
            "int",
            128,
            "mini-batch size",
            Interval(1, 1_000_000),
            suggested_scale="log",
            tier=2,
            search_range=(32, 512),
        ),
        Hyperparam("epochs", "int", 30, "passes over the training data", Interval(1, 100000)),
        Hyperparam(
            "l2", "float", 0.0, "L2 regularisation λ on the weights", _NONNEG, suggested_scale="log"
        ),
        Hyperparam(
            "dtype",
            "choice",
            "float32",
            "floating-point precision of training",
            choices=("float32", "float64"),
        ),
    ]
}


def defaults() -> dict[str, Any]:
    """Every hyperparameter's default value, in registry order (None: as its general
    setting, see ``resolved``)."""
    return {name: h.default for name, h in REGISTRY.items()}


def resolved(params: dict[str, Any]) -> dict[str, Any]:
    """Every setting with the per-optimizer and per-layer ones that were left out (None)
    taken from their general settings: ``adam_beta1`` from ``beta1``, ``hidden_units_2`` from
    ``hidden_units``."""
    out = dict(params)
    for optimizer, name, general, *_ in PER_OPTIMIZER:
        key = f"{optimizer}_{name}"
        if out.get(key) is None:
            out[key] = out[general]
    for k in range(1, PER_LAYER + 1):
        if out.get(f"hidden_units_{k}") is None:
            out[f"hidden_units_{k}"] = out["hidden_units"]
    return out


# Metrics the trainer reports, with the direction in which they improve.
METRICS = {
    "val_accuracy": "maximize",
    "val_loss": "minimize",
    "train_accuracy": "maximize",
    "train_loss": "minimize",
}


def selection_metric(metric: str) -> str:
    """The validation metric that picks a run's best epoch when a search ranks by ``metric``:
    itself if it is a validation metric, else validation accuracy."""
    return metric if metric.startswith("val_") else "val_accuracy"
