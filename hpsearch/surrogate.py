"""A small Gaussian process in NumPy: the model behind model-guided rounds.

Points are vectors in unit coordinates (``encode``): a numeric parameter its unit value, a
choice one coordinate per value (1 for the value taken, 0 for the others), a parameter a
trial left inactive ``INACTIVE`` on every coordinate it has. Observations are made scale-free
before fitting (``normal_scores``: each value's rank turned into a standard normal quantile),
so an objective that returns 1e6 for a diverged run moves the model no more than a bad run.

The kernel is Matérn 5/2 with one length scale per coordinate (long for a parameter that
does not matter), an output scale and a noise variance, fitted by maximising the log marginal
likelihood (with weak priors on each) by Adam steps from fixed starting values. Everything is
a pure function of its inputs: the same trials give the same model, bit for bit, on the same
machine, which is what makes a model-guided round deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.space import ChoiceParam, NumericParam, Space

INACTIVE = -0.5  # a parameter a trial leaves inactive: outside every active value
_SQRT5 = math.sqrt(5.0)
FIT_STEPS = 120  # Adam steps of the fit
FIT_POINTS = 240  # the fit's hyperparameters are learned on at most this many points
MODEL_POINTS = 300  # and the model conditioned on at most this many (bench/model_overhead.py)
_LENGTH_PRIOR = (math.log(0.4), 1.0)  # log length scale ~ Normal(mean, sd)
_NOISE_PRIOR = (math.log(0.05), 1.5)  # log noise variance (of standardised scores)
_BOUNDS = {"length": (0.01, 20.0), "scale": (0.05, 20.0), "noise": (1e-5, 2.0)}


def width_of(space: Space) -> int:
    """How many coordinates ``encode`` gives a point of ``space``."""
    return sum(len(p.choices) if isinstance(p, ChoiceParam) else 1 for p in space)


def encode(space: Space, params: Mapping[str, Any]) -> np.ndarray:
    """One point (a trial's params, active parameters only) as a vector of unit coordinates."""
    out: list[float] = []
    for p in space:
        value = params.get(p.name)
        active = p.name in params
        if isinstance(p, ChoiceParam):
            k = p.index(value) if active and p.contains(value) else -1
            out.extend(
                1.0 if i == k else (0.0 if active else INACTIVE) for i in range(len(p.choices))
            )
        else:
            out.append(
                float(np.clip(p.to_unit(value), 0.0, 1.0))
                if active and value is not None
                else INACTIVE
            )
    return np.asarray(out, dtype=float)


def normal_scores(values: Sequence[float]) -> np.ndarray:
    """Each value's rank (ties share their mean rank) as a standard normal quantile: the
    largest the highest score."""
    y = np.asarray(values, dtype=float)
    n = len(y)
    order = np.argsort(y, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=float)
    for value in np.unique(y):  # ties: the mean of their ranks
        same = y == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return np.array([normal_quantile((r + 0.5) / n) for r in ranks])


def normal_quantile(p: float) -> float:
    """The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628277459239)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-7.784894002430293e-03, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (7.784695709041462e-03, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    p = min(max(p, 1e-12), 1 - 1e-12)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return num / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
    return num / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


def _matern(x: np.ndarray, z: np.ndarray, lengths: np.ndarray, scale: float) -> np.ndarray:
    a, b = x / lengths, z / lengths
    squared = np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1)[None, :] - 2.0 * a @ b.T
    r = np.sqrt(np.maximum(squared, 0.0))
    return scale * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * np.exp(-_SQRT5 * r)


@dataclass(frozen=True)
class GaussianProcess:
    """A fitted model: ``predict`` gives the mean and standard deviation of the latent
    (noise-free) score at new points; higher scores are better."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    scale: float
    noise: float
    chol: np.ndarray
    alpha: np.ndarray
    inverse_chol: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The model of scores ``y`` (standardised: mean 0) at points ``x`` (rows). Past
        ``MODEL_POINTS`` it keeps the best half of them and an even spread of the rest: each
        round stays quick at thousands of trials."""
        fit_x, fit_y = _subset(x, y, FIT_POINTS)
        lengths, scale, noise = _fit_hyperparameters(fit_x, fit_y)
        return cls.conditioned(*_subset(x, y, MODEL_POINTS), lengths, scale, noise)

    @classmethod
    def conditioned(
        cls, x: np.ndarray, y: np.ndarray, lengths: np.ndarray, scale: float, noise: float
    ) -> GaussianProcess:
        """The model with these hyperparameters, conditioned on ``(x, y)``."""
        k = _matern(x, x, lengths, scale) + (noise + 1e-8) * np.eye(len(x))
        chol = _cholesky(k)
        inverse_chol = np.linalg.inv(chol)
        alpha = inverse_chol.T @ (inverse_chol @ y)
        return cls(x, y, lengths, scale, noise, chol, alpha, inverse_chol)

    def predict(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = _matern(z, self.x, self.lengths, self.scale)
        mean = k @ self.alpha
        v = self.inverse_chol @ k.T
        var = np.maximum(self.scale - np.sum(v * v, axis=0), 1e-12)
        return mean, np.sqrt(var)

    def believing(self, z: np.ndarray) -> GaussianProcess:
        """The model as if point ``z`` had been observed at its predicted mean (the "kriging
        believer": the next pick of a batch moves away from this one)."""
        mean, _ = self.predict(z[None, :])
        x = np.vstack([self.x, z[None, :]])
        y = np.append(self.y, mean[0])
        return GaussianProcess.conditioned(x, y, self.lengths, self.scale, self.noise)


def expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """E[max(score − best, 0)] under the model (higher scores are better)."""
    z = (mean - best) / sd
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
    return (mean - best) * cdf + sd * pdf


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7): enough to rank candidates.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-x * x))


def _subset(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` points: the best half of them and the rest evenly spaced."""
    if len(x) <= limit:
        return x, y
    order = np.argsort(-y, kind="stable")
    best = order[: limit // 2]
    rest = order[limit // 2 :]
    spread = rest[np.linspace(0, len(rest) - 1, limit - len(best)).astype(int)]
    keep = np.sort(np.concatenate([best, spread]))
    return x[keep], y[keep]


def _cholesky(k: np.ndarray) -> np.ndarray:
    jitter = 1e-8
    for _ in range(8):
        try:
            return np.linalg.cholesky(k + jitter * np.eye(len(k)))
        except np.linalg.LinAlgError:
            jitter *= 10
    return np.linalg.cholesky(k + 1e-1 * np.eye(len(k)))


def _fit_hyperparameters(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Length scales, output scale and noise maximising the log marginal likelihood plus
    the log priors, by Adam on their logarithms (fixed start, fixed steps)."""
    n, dims = x.shape
    theta = np.concatenate([np.full(dims, _LENGTH_PRIOR[0]), [0.0, _NOISE_PRIOR[0]]])
    bounds = np.log([[_BOUNDS["length"][i]] * dims + [_BOUNDS["scale"][i], _BOUNDS["noise"][i]]
                     for i in (0, 1)])  # fmt: skip
    low, high = bounds[0], bounds[1]
    if n < 2:
        return np.exp(theta[:dims]), 1.0, math.exp(theta[-1])
    sq = (x[:, None, :] - x[None, :, :]) ** 2  # n × n × dims
    m1 = m2 = np.zeros_like(theta)
    rate, beta1, beta2 = 0.08, 0.9, 0.999
    for step in range(1, FIT_STEPS + 1):
        grad = _gradient(theta, sq, y)
        m1 = beta1 * m1 + (1 - beta1) * grad
        m2 = beta2 * m2 + (1 - beta2) * grad * grad
        theta = theta + rate * (m1 / (1 - beta1**step)) / (np.sqrt(m2 / (1 - beta2**step)) + 1e-8)
        theta = np.clip(theta, low, high)
    return np.exp(theta[:dims]), float(math.exp(theta[dims])), float(math.exp(theta[dims + 1]))


def _gradient(theta: np.ndarray, sq: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient of log p(y | θ) + log prior(θ) in the log hyperparameters θ."""
    dims = sq.shape[-1]
    lengths, scale, noise = np.exp(theta[:dims]), math.exp(theta[dims]), math.exp(theta[dims + 1])
    scaled = sq / (lengths * lengths)
    r = np.sqrt(np.maximum(scaled.sum(axis=-1), 0.0))
    e = np.exp(-_SQRT5 * r)
    k = scale * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
    n = len(y)
    chol = _cholesky(k + (noise + 1e-8) * np.eye(n))
    inverse = np.linalg.solve(chol.T, np.linalg.solve(chol, np.eye(n)))
    alpha = inverse @ y
    inner = np.outer(alpha, alpha) - inverse  # dL/dK = inner / 2
    # dk/dlog(l_d) = scale · 5/3 · (1 + √5 r) e^(−√5 r) · Δ_d² / l_d²
    common = scale * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e
    grad_lengths = 0.5 * np.einsum("ij,ijd->d", inner * common, scaled)
    grad_scale = 0.5 * float(np.sum(inner * k))
    grad_noise = 0.5 * float(np.trace(inner)) * noise
    grad = np.concatenate([grad_lengths, [grad_scale, grad_noise]])
    grad[:dims] -= (theta[:dims] - _LENGTH_PRIOR[0]) / _LENGTH_PRIOR[1] ** 2
    grad[dims + 1] -= (theta[dims + 1] - _NOISE_PRIOR[0]) / _NOISE_PRIOR[1] ** 2
    grad[dims] -= theta[dims] / 1.0**2  # log output scale ~ Normal(0, 1)
    return grad


def numeric_units(space: Space) -> list[tuple[int, NumericParam]]:
    """The coordinates of ``encode`` that are numeric parameters, with their parameter."""
    out, at = [], 0
    for p in space:
        if isinstance(p, ChoiceParam):
            at += len(p.choices)
        else:
            out.append((at, p))
            at += 1
    return out
