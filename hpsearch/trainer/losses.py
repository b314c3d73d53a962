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
    (softmax(z) − one_hot(y)) / batch. ``logits`` is overwritten (shifted by its row maxima).
    """
    n, classes = logits.shape
    rows = _arange(n)
    predicted = logits.argmax(axis=1)
    correct = int(np.count_nonzero(predicted == labels))
    # log-sum-exp: shift each row by its maximum (found through argmax: a row-wise max over a
    # few columns is several times slower in NumPy) so the largest exponent is 0.
    logits -= logits[rows, predicted][:, None]
    probs = np.exp(logits)
    totals = probs @ np.ones(classes, dtype=probs.dtype)  # (batch,), each in [1, classes]
    loss = (float(np.log(totals).sum()) - float(logits[rows, labels].sum())) / n
    probs *= (1.0 / totals)[:, None]
    probs[rows, labels] -= 1.0
    probs *= 1.0 / n
    return loss, probs, correct


_ARANGE = np.arange(1 << 12)


def _arange(n: int) -> np.ndarray:
    global _ARANGE
    if n > len(_ARANGE):
        _ARANGE = np.arange(n)
    return _ARANGE[:n]
