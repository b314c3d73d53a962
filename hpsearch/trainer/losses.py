"""Softmax and its cross-entropy loss, computed through log-sum-exp so large logits stay finite."""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax: e^z / Σ e^z, shifted by the row maximum first."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, int]:
    """Mean cross-entropy, its gradient with respect to the logits, and the correct count.

    ``logits`` (batch, classes), ``labels`` (batch,) integers. The gradient is
    (softmax(z) − one_hot(y)) / batch.
    """
    n = logits.shape[0]
    rows = np.arange(n)
    log_p = log_softmax(logits)
    loss = -float(log_p[rows, labels].mean())
    grad = np.exp(log_p)
    correct = int(np.count_nonzero(grad.argmax(axis=1) == labels))
    grad[rows, labels] -= 1.0
    grad *= 1.0 / n
    return loss, grad, correct
