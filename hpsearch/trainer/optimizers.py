"""Update rules over the flat parameter vector: gd, momentum, rmsprop, adam.

Every scalar is a Python float so that float32 arrays stay float32 (NumPy 2 would promote
them if multiplied by a float64 scalar such as ``np.sqrt(0.5)``).
"""

from __future__ import annotations

import math

import numpy as np


class Optimizer:
    def step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        raise NotImplementedError


class GD(Optimizer):
    """θ ← θ − α·dθ"""

    def step(self, params, grads, lr):
        params -= lr * grads


class Momentum(Optimizer):
    """v ← β1·v + (1 − β1)·dθ;  θ ← θ − α·v   (the notes' form of momentum)."""

    def __init__(self, size: int, dtype: np.dtype, beta1: float):
        self.beta1 = float(beta1)
        self.v = np.zeros(size, dtype=dtype)

    def step(self, params, grads, lr):
        self.v *= self.beta1
        self.v += (1.0 - self.beta1) * grads
        params -= lr * self.v


class RMSprop(Optimizer):
    """s ← β2·s + (1 − β2)·dθ²;  θ ← θ − α·dθ / (√s + ε)"""

    def __init__(self, size: int, dtype: np.dtype, beta2: float, epsilon: float):
        self.beta2, self.epsilon = float(beta2), float(epsilon)
        self.s = np.zeros(size, dtype=dtype)

    def step(self, params, grads, lr):
        self.s *= self.beta2
        self.s += (1.0 - self.beta2) * (grads * grads)
        denom = np.sqrt(self.s)
        denom += self.epsilon
        params -= lr * grads / denom


class Adam(Optimizer):
    """Momentum and RMSprop with bias correction:
    θ ← θ − α·m̂ / (√v̂ + ε),  m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t).

    Computed as θ ← θ − α_t·m / (√v + ε_t) with α_t = α·√(1 − β2^t)/(1 − β1^t) and
    ε_t = ε·√(1 − β2^t), which is the same update with fewer passes over the arrays.
    """

    def __init__(self, size: int, dtype: np.dtype, beta1: float, beta2: float, epsilon: float):
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)
        self.m = np.zeros(size, dtype=dtype)
        self.v = np.zeros(size, dtype=dtype)
        self.scratch = np.empty(size, dtype=dtype)
        self.t = 0

    def step(self, params, grads, lr):
        self.t += 1
        b1, b2, m, v, tmp = self.beta1, self.beta2, self.m, self.v, self.scratch
        # m ← b1·m + (1 − b1)·g  written as  m += (1 − b1)·(g − m): two passes, no temporary
        np.subtract(grads, m, out=tmp)
        tmp *= 1.0 - b1
        m += tmp
        np.multiply(grads, grads, out=tmp)
        tmp -= v
        tmp *= 1.0 - b2
        v += tmp
        correction = math.sqrt(1.0 - b2**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon * correction
        np.divide(m, tmp, out=tmp)
        tmp *= lr * correction / (1.0 - b1**self.t)
        params -= tmp


def make_optimizer(name: str, size: int, dtype: np.dtype, hp: dict) -> Optimizer:
    if name == "gd":
        return GD()
    if name == "momentum":
        return Momentum(size, dtype, hp.get("momentum_beta", hp["beta1"]))
    if name == "rmsprop":
        return RMSprop(
            size,
            dtype,
            hp.get("rmsprop_beta", hp["beta2"]),
            hp.get("rmsprop_epsilon", hp["epsilon"]),
        )
    if name == "adam":
        return Adam(
            size,
            dtype,
            hp.get("adam_beta1", hp["beta1"]),
            hp.get("adam_beta2", hp["beta2"]),
            hp.get("adam_epsilon", hp["epsilon"]),
        )
    raise ValueError(f"unknown optimizer {name!r}")


def decayed_learning_rate(lr0: float, decay: float, epoch: int) -> float:
    """α = α0 / (1 + decay · epoch), epoch counted from 0 (the first epoch uses α0)."""
    return lr0 / (1.0 + decay * epoch)
