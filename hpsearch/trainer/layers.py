"""Layers of the MLP, each with ``forward(x, training)`` and ``backward(grad)`` side by side.

Learnable arrays are views into one flat parameter vector (and their gradients into one flat
gradient vector), so an optimizer updates the whole network in a handful of NumPy calls.
BatchNorm's running mean and variance are buffers of the layer, not learnable parameters.
"""

from __future__ import annotations

import math

import numpy as np

# What an initial value is: "he" / "glorot" draws for weights, constants otherwise.
INIT_ZEROS, INIT_ONES = "zeros", "ones"


class Layer:
    """A step of the network. ``param_specs`` declares learnable arrays; the model binds them.

    In training mode a layer may write into buffers it keeps between steps, and ``backward``
    may overwrite the gradient it is given: one step's arrays are not needed after the step.
    """

    def param_specs(self) -> dict[str, tuple[tuple[int, ...], str, bool]]:
        """name -> (shape, init, is_weight). ``is_weight`` arrays get L2 regularisation."""
        return {}

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.p, self.g = params, grads

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A scratch array reused from step to step (fresh 1 MB arrays cost page faults)."""
        buffers = self.__dict__.setdefault("_buffers", {})
        key = (name, shape)
        if key not in buffers:
            if len(buffers) > 16:  # batch sizes vary only for the last batch of an epoch
                buffers.clear()
            buffers[key] = np.empty(shape, dtype=dtype)
        return buffers[key]


def _column_sums(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Σ over rows, as a BLAS matrix-vector product (about twice as fast as ``a.sum(0)``)."""
    return np.dot(_ones(len(a), a.dtype), a, out=out)


_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    key = (n, np.dtype(dtype))
    if key not in _ONES:
        _ONES[key] = np.ones(n, dtype=dtype)
    return _ONES[key]


class Linear(Layer):
    """z = x·W (+ b). Without bias when BatchNorm follows: its β plays that role."""

    def __init__(self, n_in: int, n_out: int, bias: bool, init: str, input_grad: bool = True):
        self.shape = (n_in, n_out)
        self.bias = bias
        self.init = init
        self.input_grad = input_grad  # the first layer needs no gradient for its input

    def param_specs(self):
        specs: dict[str, tuple[tuple[int, ...], str, bool]] = {"W": (self.shape, self.init, True)}
        if self.bias:
            specs["b"] = ((self.shape[1],), INIT_ZEROS, False)
        return specs

    def forward(self, x, training):
        w = self.p["W"]
        if training:
            self.x = x  # (batch, n_in)
            z = np.matmul(x, w, out=self.buffer("z", (len(x), w.shape[1]), w.dtype))
        else:
            z = x @ w  # (batch, n_out)
        if self.bias:
            z += self.p["b"]
        return z

    def backward(self, grad):
        np.matmul(self.x.T, grad, out=self.g["W"])
        if self.bias:
            _column_sums(grad, out=self.g["b"])
        if not self.input_grad:
            return None
        w = self.p["W"]
        return np.matmul(grad, w.T, out=self.buffer("dx", (len(grad), w.shape[0]), w.dtype))


# From this many elements on, BatchNorm computes σ² in one pass (see BatchNorm.forward); below
# it the extra small-array calls cost more than the pass they save.
_ONE_PASS_SIZE = 1 << 16


class BatchNorm(Layer):
    """z̃ = γ·(z − μ)/√(σ² + ε) + β over the mini-batch; running statistics for evaluation.

    Training uses the mini-batch mean μ and (biased) variance σ², and updates the running
    averages ``m ← momentum·m + (1 − momentum)·μ`` (likewise for σ²). Evaluation uses the
    running averages only, so an example's output does not depend on the rest of its batch.
    """

    def __init__(self, units: int, momentum: float, epsilon: float, dtype: np.dtype):
        self.units = units
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.running_mean = np.zeros(units, dtype=dtype)
        self.running_var = np.ones(units, dtype=dtype)

    def param_specs(self):
        return {
            "gamma": ((self.units,), INIT_ONES, False),
            "beta": ((self.units,), INIT_ZEROS, False),
        }

    def forward(self, z, training):
        gamma, beta = self.p["gamma"], self.p["beta"]
        if not training:
            scale = gamma / np.sqrt(self.running_var + self.epsilon)
            return (z - self.running_mean) * scale + beta
        n = len(z)
        mean = _column_sums(z) * (1.0 / n)
        self.shift = None  # set when z is left uncentred: x̂ = (z − shift)/σ
        if z.size >= _ONE_PASS_SIZE:
            # Large batches: σ² = E[z²] − μ² saves a pass over z, unless that loses too many
            # digits (|μ| ≫ σ), in which case centre z and take the two-pass variance.
            mean_square = np.einsum("ij,ij->j", z, z) * (1.0 / n)
            var = mean_square - mean * mean
            if not np.any(var < 1e-3 * mean_square):
                self.shift = mean
        if self.shift is None:
            z -= mean  # z is the previous layer's scratch output
            var = np.einsum("ij,ij->j", z, z) * (1.0 / n)
        self.z = z  # (batch, units)
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        scale = self.inv_std * gamma
        out = np.multiply(z, scale, out=self.buffer("out", z.shape, z.dtype))
        out += beta if self.shift is None else beta - self.shift * scale
        m = self.momentum
        self.running_mean *= m
        self.running_mean += (1.0 - m) * mean
        self.running_var *= m
        self.running_var += (1.0 - m) * var
        return out

    @property
    def x_hat(self) -> np.ndarray:
        """The normalised input (z − μ)/√(σ² + ε) of the last training step."""
        centred = self.z if self.shift is None else self.z - self.shift
        return centred * self.inv_std

    def backward(self, grad):
        n = len(grad)
        z, shift, inv_std = self.z, self.shift, self.inv_std
        d_beta = _column_sums(grad, out=self.g["beta"])
        # Σ g·x̂ = (Σ g·z − shift·Σ g)/σ
        d_gamma = np.einsum("ij,ij->j", grad, z)
        if shift is not None:
            d_gamma -= shift * d_beta
        d_gamma = np.multiply(d_gamma, inv_std, out=self.g["gamma"])
        # dz = γ/(N·σ)·(N·g − Σg − x̂·Σ(g·x̂)) = k_grad·g − k_z·z − k_const, per unit:
        k_grad = self.p["gamma"] * inv_std
        k_z = k_grad * inv_std * d_gamma * (1.0 / n)
        k_const = k_grad * d_beta * (1.0 / n)
        if shift is not None:
            k_const -= shift * k_z
        z *= k_z
        grad *= k_grad
        grad -= z
        grad -= k_const
        return grad


class ReLU(Layer):
    def forward(self, x, training):
        if not training:
            return np.maximum(x, 0)
        self.mask = np.greater(x, 0, out=self.buffer("mask", x.shape, x.dtype))  # 1.0 / 0.0
        return np.multiply(x, self.mask, out=x)

    def backward(self, grad):
        return np.multiply(grad, self.mask, out=grad)


class Tanh(Layer):
    def forward(self, x, training):
        y = np.tanh(x, out=x) if training else np.tanh(x)
        self.y = y
        return y

    def backward(self, grad):
        slope = np.multiply(self.y, self.y, out=self.buffer("slope", grad.shape, grad.dtype))
        np.subtract(1.0, slope, out=slope)
        return np.multiply(grad, slope, out=grad)


def initial_values(init: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """He (relu) or Glorot (tanh) normal draws for weights; zeros / ones otherwise."""
    if init == INIT_ZEROS:
        return np.zeros(shape)
    if init == INIT_ONES:
        return np.ones(shape)
    fan_in, fan_out = shape
    if init == "he":
        return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    if init == "glorot":
        return rng.standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))
    raise ValueError(f"unknown initialisation {init!r}")
