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
    """A step of the network. ``param_specs`` declares learnable arrays; the model binds them."""

    def param_specs(self) -> dict[str, tuple[tuple[int, ...], str, bool]]:
        """name -> (shape, init, is_weight). ``is_weight`` arrays get L2 regularisation."""
        return {}

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.p, self.g = params, grads

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError


class Linear(Layer):
    """z = x·W (+ b). Without bias when BatchNorm follows: its β plays that role."""

    def __init__(self, n_in: int, n_out: int, bias: bool, init: str, input_grad: bool = True):
        self.shape = (n_in, n_out)
        self.bias = bias
        self.init = init
        self.input_grad = input_grad  # the first layer needs no gradient for its input

    def param_specs(self):
        specs = {"W": (self.shape, self.init, True)}
        if self.bias:
            specs["b"] = ((self.shape[1],), INIT_ZEROS, False)
        return specs

    def forward(self, x, training):
        self.x = x  # (batch, n_in)
        z = x @ self.p["W"]  # (batch, n_out)
        if self.bias:
            z += self.p["b"]
        return z

    def backward(self, grad):
        np.matmul(self.x.T, grad, out=self.g["W"])
        if self.bias:
            np.sum(grad, axis=0, out=self.g["b"])
        return grad @ self.p["W"].T if self.input_grad else None


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
        if not training:
            inv_std = 1.0 / np.sqrt(self.running_var + self.epsilon)
            return (z - self.running_mean) * (inv_std * self.p["gamma"]) + self.p["beta"]
        mean = z.mean(axis=0)
        centred = z - mean  # (batch, units)
        var = np.mean(centred * centred, axis=0)
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        self.x_hat = centred * self.inv_std
        m = self.momentum
        self.running_mean *= m
        self.running_mean += (1.0 - m) * mean
        self.running_var *= m
        self.running_var += (1.0 - m) * var
        return self.x_hat * self.p["gamma"] + self.p["beta"]

    def backward(self, grad):
        n = grad.shape[0]
        x_hat = self.x_hat
        d_gamma = np.sum(grad * x_hat, axis=0, out=self.g["gamma"])
        d_beta = np.sum(grad, axis=0, out=self.g["beta"])
        # dz = γ/(N·σ) · (N·g − Σg − x̂·Σ(g·x̂))
        scale = self.p["gamma"] * self.inv_std
        return (grad - (d_beta + x_hat * d_gamma) * (1.0 / n)) * scale


class ReLU(Layer):
    def forward(self, x, training):
        self.y = np.maximum(x, 0, out=x)
        return self.y

    def backward(self, grad):
        return grad * (self.y > 0)


class Tanh(Layer):
    def forward(self, x, training):
        self.y = np.tanh(x, out=x)
        return self.y

    def backward(self, grad):
        return grad * (1.0 - self.y * self.y)


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
