"""Central finite differences for checking a layer's backward against its forward (float64)."""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences; ``f`` is read at x +- h e_i with x restored after each probe."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        up = f()
        x[i] = saved - h
        down = f()
        x[i] = saved
        grad[i] = (up - down) / (2 * h)
    return grad


def check_layer(layer, x: np.ndarray, rng: np.random.Generator, h: float = 1e-6) -> dict[str, float]:
    """Largest relative error between backward and finite differences of sum(forward(x) * r) for a random r,
    for the input and each parameter: {"x": err, "W": err, ...}."""
    x = np.array(x, dtype=np.float64)
    r = rng.standard_normal(layer.forward(x).shape)

    def objective():
        return float(np.sum(layer.forward(x) * r))

    layer.forward(x)
    dx = layer.backward(r)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    numeric = {"x": numerical_gradient(objective, x, h)}
    for key, value in layer.params.items():
        numeric[key] = numerical_gradient(objective, value, h)
    return {k: _relative_error(analytic[k], numeric[k]) for k in numeric}


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)
    return float(np.max(np.abs(a - b)) / scale)
