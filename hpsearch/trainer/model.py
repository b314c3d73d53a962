"""The network: [Linear → (BatchNorm) → activation] × layers → Linear → softmax."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpsearch.trainer.layers import BatchNorm, Layer, Linear, ReLU, Tanh, initial_values
from hpsearch.trainer.losses import cross_entropy

_EVAL_CHUNK = 8192  # rows evaluated at once, to bound memory on large sets


@dataclass(frozen=True)
class Architecture:
    inputs: int
    classes: int
    layers: int = 2  # hidden layers; 0 is softmax regression
    hidden_units: int = 64
    activation: str = "relu"  # "relu" (He initialisation) or "tanh" (Glorot)
    batch_norm: bool = True
    bn_momentum: float = 0.9  # β of the running mean / variance used at test time
    bn_epsilon: float = 1e-5
    widths: tuple[int, ...] = ()  # each hidden layer's units (beyond it: hidden_units)

    def width(self, layer: int) -> int:
        """Units of hidden layer ``layer`` (from 0)."""
        return int(self.widths[layer]) if layer < len(self.widths) else self.hidden_units


class MLP:
    """A multilayer perceptron whose learnable arrays live in one flat vector.

    ``params`` and ``grads`` are 1-D arrays; each layer's W, b, γ, β are views into them.
    Weights come first, so L2 regularisation touches ``params[:n_weights]`` in one step.
    """

    def __init__(self, arch: Architecture, rng: np.random.Generator, dtype=np.float32):
        self.arch = arch
        self.dtype = np.dtype(dtype)
        self.layers = _build_layers(arch, self.dtype)
        self._allocate(rng)
        self.first_loss: float | None = None  # the first mini-batch's loss, for divergence

    def _allocate(self, rng: np.random.Generator) -> None:
        specs = [
            (layer, name, *spec)
            for layer in self.layers
            for name, spec in layer.param_specs().items()
        ]
        # Weights first (for L2); draws happen in layer order so the init is seed-stable.
        order = sorted(range(len(specs)), key=lambda i: not specs[i][4])
        sizes = [int(np.prod(specs[i][2])) for i in order]
        self.params = np.empty(sum(sizes), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        self.n_weights = sum(s for i, s in zip(order, sizes, strict=True) if specs[i][4])
        offsets = dict(zip(order, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
        bound: dict[int, tuple[dict, dict]] = {}
        for i, (layer, name, shape, init, _is_weight) in enumerate(specs):
            start = offsets[i]
            stop = start + int(np.prod(shape))
            p, g = bound.setdefault(id(layer), ({}, {}))
            p[name] = self.params[start:stop].reshape(shape)
            g[name] = self.grads[start:stop].reshape(shape)
            p[name][...] = initial_values(init, shape, rng)
        for layer in self.layers:
            layer.bind(*bound.get(id(layer), ({}, {})))

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """Logits (batch, classes)."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad: np.ndarray) -> None:
        for layer in reversed(self.layers):
            below = layer.backward(grad)
            if below is None:  # the first layer: nothing below it needs a gradient
                return
            grad = below

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, l2: float = 0.0) -> tuple[float, int]:
        """One training-mode pass: fills ``grads``; returns (loss, correct predictions).

        The loss is the mean cross-entropy plus λ/(2m)·Σ‖W‖², m the mini-batch size.
        """
        logits = self.forward(x, training=True)
        loss, grad, correct = cross_entropy(logits, y)
        self.backward(grad)
        if l2:
            m = x.shape[0]
            weights = self.params[: self.n_weights]
            loss += float(l2 / (2.0 * m) * np.dot(weights, weights))
            self.grads[: self.n_weights] += (l2 / m) * weights
        return loss, correct

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) in evaluation mode, without regularisation."""
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), _EVAL_CHUNK):
            logits = self.forward(x[start : start + _EVAL_CHUNK], training=False)
            loss, _, right = cross_entropy(logits, y[start : start + _EVAL_CHUNK])
            total_loss += loss * len(logits)
            correct += right
        return total_loss / len(x), correct / len(x)


def _build_layers(arch: Architecture, dtype: np.dtype) -> list[Layer]:
    init = "he" if arch.activation == "relu" else "glorot"
    layers: list[Layer] = []
    width = arch.inputs
    for i in range(arch.layers):
        units = arch.width(i)
        layers.append(Linear(width, units, bias=not arch.batch_norm, init=init, input_grad=i > 0))
        if arch.batch_norm:
            layers.append(BatchNorm(units, arch.bn_momentum, arch.bn_epsilon, dtype))
        layers.append(ReLU() if arch.activation == "relu" else Tanh())
        width = units
    layers.append(Linear(width, arch.classes, bias=True, init="glorot", input_grad=arch.layers > 0))
    return layers
