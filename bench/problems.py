"""Held-out problems for bench/search_quality.py (issue 24): one of each kind the issue names.

- ``RotQuad6``: a rotated, ill-conditioned quadratic (condition number 1,000) in [-1, 1]^6: a
  valley no axis-aligned box follows.
- ``Schwefel4``: Schwefel's function in [-500, 500]^4: its best basin far from the next best.
- ``Cliff``: an HPO-like surface over an optimizer (a choice), a learning rate (log), β1
  (1 − β log) and a width (integer, log); each optimizer has its own best step, and a step
  past it by more than 0.7 decades diverges (a plateau of 5).
- ``NoisyHartmann6``: Hartmann6 observed with Gaussian noise (sd 0.3, a tenth of its range);
  the regret is the *noiseless* value of the trial a method reports as best.
- ``Sparse10``: 10 parameters of which 3 matter (Hartmann3 on x0, x1, x2).
- ``Conditional``: a conditional space: sgd's learning rate and momentum, or Adam's learning
  rate and β1, each searched only with its optimizer; a width shared by both.

Each entry: (function, space as a config's ``space:``, known minimum). A noisy problem's
function returns the noiseless value; ``NOISE`` gives its noise's standard deviation.
"""

from __future__ import annotations

import math

import numpy as np


def lin(lo: float, hi: float, d: int) -> dict:
    return {f"x{i}": {"scale": "linear", "min": lo, "max": hi} for i in range(d)}


def hartmann6(p):
    from search_quality import hartmann6 as function  # defined there; imported when called

    return function(p)


_ROTATION = np.linalg.qr(np.random.default_rng(7).normal(size=(6, 6)))[0]
_SCALES = np.logspace(0, 3, 6)
_CENTRE = np.array([0.3, -0.4, 0.5, -0.2, 0.1, -0.6])


def rotquad(p):
    x = np.array([p[f"x{i}"] for i in range(6)])
    z = _ROTATION @ (x - _CENTRE)
    return float(np.sum(_SCALES * z**2))


def schwefel(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(418.9829 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


_BEST_STEP = {"sgd": -1.0, "momentum": -1.5, "adam": -3.0}  # log10 of the best effective step
_FLOOR = {"sgd": 0.30, "momentum": 0.15, "adam": 0.10}


def cliff(p):
    opt, lr, b1, width = p["optimizer"], p["lr"], p["beta1"], p["width"]
    step = math.log10(lr)
    if opt == "momentum":
        step -= 0.5 * math.log10(1 - b1)  # momentum multiplies the step by about 1/(1 - β)
    if step > _BEST_STEP[opt] + 0.7:
        return 5.0  # diverged
    loss = _FLOOR[opt] + 0.5 * (step - _BEST_STEP[opt]) ** 2 + 0.5 / math.sqrt(width / 16)
    if opt == "adam":
        loss += 0.05 * (math.log10(1 - b1) + 1) ** 2  # β1 = 0.9 best
    return loss


def sparse10(p):
    from search_quality import hartmann3

    return hartmann3({f"x{i}": p[f"x{i}"] for i in range(3)})


def conditional(p):
    width_term = 0.5 / math.sqrt(p["width"] / 16)
    if p["optimizer"] == "sgd":
        lr, m = p["sgd_lr"], p["sgd_momentum"]
        return (
            0.25 + 0.5 * (math.log10(lr) + 1) ** 2 + 0.3 * (math.log10(1 - m) + 1.5) ** 2
        ) + width_term
    lr, b1 = p["adam_lr"], p["adam_beta1"]
    return (0.2 + 0.5 * (math.log10(lr) + 3) ** 2 + 0.3 * (math.log10(1 - b1) + 1) ** 2) + (
        width_term
    )


MORE = {
    "RotQuad6": (rotquad, lin(-1.0, 1.0, 6), 0.0),
    "Schwefel4": (schwefel, lin(-500.0, 500.0, 4), 0.0),
    "Cliff": (
        cliff,
        {
            "optimizer": {"choice": ["sgd", "momentum", "adam"]},
            "lr": {"scale": "log", "min": 1e-5, "max": 1.0},
            "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.999},
            "width": {"scale": "log", "min": 16, "max": 512, "type": "int"},
        },
        0.10 + 0.5 / math.sqrt(512 / 16),
    ),
    "NoisyHartmann6": (hartmann6, lin(0.0, 1.0, 6), -3.32237),
    "Sparse10": (sparse10, lin(0.0, 1.0, 10), -3.86278),
    "Conditional": (
        conditional,
        {
            "optimizer": {"choice": ["sgd", "adam"]},
            "sgd_lr": {"scale": "log", "min": 1e-5, "max": 1.0, "when": {"optimizer": "sgd"}},
            "sgd_momentum": {
                "scale": "one_minus_log", "min": 0.5, "max": 0.999, "when": {"optimizer": "sgd"},
            },
            "adam_lr": {"scale": "log", "min": 1e-5, "max": 1.0, "when": {"optimizer": "adam"}},
            "adam_beta1": {
                "scale": "one_minus_log", "min": 0.5, "max": 0.999, "when": {"optimizer": "adam"},
            },
            "width": {"scale": "log", "min": 16, "max": 512, "type": "int"},
        },
        0.2 + 0.5 / math.sqrt(512 / 16),
    ),
}  # fmt: skip

NOISE = {"NoisyHartmann6": 0.3}
