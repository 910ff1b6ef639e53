"""Layers with their forward and backward written out (the CS231n style).

``forward(x)`` keeps what ``backward`` needs; ``backward(dout)`` returns the gradient with
respect to the input and fills ``grads`` (same keys as ``params``). Every matrix product goes
through ``self.arithmetic.matmul`` and every parameter is read through the ``weight``
quantization point, so one ``Arithmetic`` decides how the whole layer computes.
"""

from __future__ import annotations

import numpy as np

from .context import FLOAT64, Arithmetic
from .init import initialize


class ShapeError(ValueError):
    """A layer received an input of the wrong shape."""


class Layer:
    """Base class: a named layer with parameters, their gradients and an arithmetic."""

    kind = "layer"

    def __init__(self):
        self.name = self.kind
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.arithmetic: Arithmetic = FLOAT64
        self._cache = None

    def _check_input(self, x: np.ndarray, expected: tuple) -> None:
        """``expected`` uses None for any size (shown as N for the batch, * elsewhere)."""
        ok = x.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, x.shape))
        if not ok:
            shown = "(" + ", ".join(("N" if i == 0 else "*") if e is None else str(e) for i, e in enumerate(expected)) + ")"
            raise ShapeError(f"layer {self.name!r} ({type(self).__name__}): input shape {x.shape} does not match "
                             f"the expected shape {shown}")

    def _weight(self, key: str) -> np.ndarray:
        return self.arithmetic.round("weight", self.name, key, self.params[key])

    def _matmul(self, a, b):
        return self.arithmetic.matmul(a, b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Linear(Layer):
    """y = x W + b with W of shape (in_features, out_features)."""

    kind = "linear"

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, init: str = "he"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.params = {"W": initialize(rng, (in_features, out_features), in_features, out_features, init),
                       "b": np.zeros(out_features)}

    def forward(self, x):
        self._check_input(x, (None, self.in_features))
        W = self._weight("W")
        self._cache = (x, W)
        return self._matmul(x, W) + self._weight("b")

    def backward(self, dout):
        x, W = self._cache
        self.grads = {"W": self._matmul(x.T, dout), "b": dout.sum(axis=0)}
        return self._matmul(dout, W.T)


def _im2col(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Rows are output positions (n, i, j), columns the receptive field (c, di, dj)."""
    N, C, H, W = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    Ho, Wo = windows.shape[2], windows.shape[3]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * kh * kw), Ho, Wo


def _col2im(cols: np.ndarray, shape: tuple, kh: int, kw: int, stride: int, Ho: int, Wo: int) -> np.ndarray:
    """The adjoint of _im2col: adds each column entry back where it was read."""
    N, C, H, W = shape
    blocks = cols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dx = np.zeros(shape)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] += blocks[:, :, di, dj]
    return dx


class Conv2d(Layer):
    """2-D convolution (cross-correlation) on (N, C, H, W) inputs, as im2col and one matrix product."""

    kind = "conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, rng: np.random.Generator,
                 stride: int = 1, padding: int = 0, init: str = "he"):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        fan_in, fan_out = in_channels * kernel_size**2, out_channels * kernel_size**2
        self.params = {"W": initialize(rng, (out_channels, in_channels, kernel_size, kernel_size), fan_in, fan_out, init),
                       "b": np.zeros(out_channels)}

    def forward(self, x):
        self._check_input(x, (None, self.in_channels, None, None))
        k, p = self.kernel_size, self.padding
        if x.shape[2] + 2 * p < k or x.shape[3] + 2 * p < k:
            raise ShapeError(f"layer {self.name!r} (Conv2d): input shape {x.shape} is smaller than the kernel "
                             f"({k} x {k}, padding {p})")
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        cols, Ho, Wo = _im2col(padded, k, k, self.stride)
        W = self._weight("W").reshape(self.out_channels, -1)
        self._cache = (padded.shape, cols, W, Ho, Wo)
        out = self._matmul(cols, W.T) + self._weight("b")
        return out.reshape(x.shape[0], Ho, Wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, dout):
        shape, cols, W, Ho, Wo = self._cache
        dflat = dout.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        self.grads = {"W": self._matmul(dflat.T, cols).reshape(self.params["W"].shape), "b": dflat.sum(axis=0)}
        dpadded = _col2im(self._matmul(dflat, W), shape, self.kernel_size, self.kernel_size, self.stride, Ho, Wo)
        p = self.padding
        return dpadded[:, :, p:shape[2] - p, p:shape[3] - p] if p else dpadded


class ReLU(Layer):
    kind = "relu"

    def forward(self, x):
        self._cache = x > 0
        return np.where(self._cache, x, 0.0)

    def backward(self, dout):
        return np.where(self._cache, dout, 0.0)


class Tanh(Layer):
    kind = "tanh"

    def forward(self, x):
        self._cache = np.tanh(x)
        return self._cache

    def backward(self, dout):
        return dout * (1.0 - self._cache**2)


class Flatten(Layer):
    kind = "flatten"

    def forward(self, x):
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self._cache)


class _Pool2d(Layer):
    """Non-overlapping k x k pooling of (N, C, H, W) inputs; rows and columns past a multiple of k are dropped."""

    def __init__(self, kernel_size: int = 2):
        super().__init__()
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size must be an integer >= 1, got {kernel_size!r}")
        self.kernel_size = kernel_size

    def _windows(self, x):
        self._check_input(x, (None, None, None, None))
        k = self.kernel_size
        N, C, H, W = x.shape
        Ho, Wo = H // k, W // k
        if Ho == 0 or Wo == 0:
            raise ShapeError(f"layer {self.name!r} ({type(self).__name__}): input shape {x.shape} is smaller than "
                             f"the {k} x {k} window")
        return x[:, :, :Ho * k, :Wo * k].reshape(N, C, Ho, k, Wo, k)

    def _unwindow(self, dwin, shape):
        N, C, H, W = shape
        dx = np.zeros(shape)
        k = self.kernel_size
        dx[:, :, :dwin.shape[2] * k, :dwin.shape[4] * k] = dwin.reshape(N, C, dwin.shape[2] * k, dwin.shape[4] * k)
        return dx


class MaxPool2d(_Pool2d):
    kind = "maxpool2d"

    def forward(self, x):
        win = self._windows(x)
        out = win.max(axis=(3, 5))
        # route each window's gradient to one maximum (the first in row-major order), as max's subgradient
        flat = win.transpose(0, 1, 2, 4, 3, 5).reshape(*out.shape, -1)
        self._cache = (x.shape, np.argmax(flat, axis=-1))
        return out

    def backward(self, dout):
        shape, first_max = self._cache
        k = self.kernel_size
        onehot = np.zeros((*dout.shape, k * k))
        np.put_along_axis(onehot, first_max[..., None], dout[..., None], axis=-1)
        dwin = onehot.reshape(*dout.shape, k, k).transpose(0, 1, 2, 4, 3, 5)
        return self._unwindow(dwin, shape)


class AvgPool2d(_Pool2d):
    kind = "avgpool2d"

    def forward(self, x):
        win = self._windows(x)
        self._cache = x.shape
        return win.mean(axis=(3, 5))

    def backward(self, dout):
        k = self.kernel_size
        dwin = np.broadcast_to(dout[:, :, :, None, :, None] / (k * k), (*dout.shape[:3], k, dout.shape[3], k))
        return self._unwindow(dwin, self._cache)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warnings for large |x|


class GRU(Layer):
    """A GRU cell unrolled over (N, T, input_size) sequences; the output is the last hidden state (N, hidden).

    Gates (Cho et al. 2014): z = s(x Wx_z + h Wh_z + b_z), r = s(x Wx_r + h Wh_r + b_r),
    n = tanh(x Wx_n + (r * h) Wh_n + b_n), h' = (1 - z) * n + z * h, with h_0 = 0.

    The hidden state carried from step t to step t + 1 is an activation, rounded at the activation point
    (tensor ``h<t+1>``, its own random stream per step), and the gradient carried back from step t to
    step t - 1 an error (tensor ``h<t>``); the last h is the layer's output, which the network rounds.
    The gates z, r, n are internal to the cell (as a fused cell kernel keeps them) and are not rounded.
    """

    kind = "gru"

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator, init: str = "glorot"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        H = hidden_size
        self.params = {"Wx": initialize(rng, (input_size, 3 * H), input_size, H, init),
                       "Wh": initialize(rng, (H, 3 * H), H, H, init),
                       "b": np.zeros(3 * H)}

    def forward(self, x):
        self._check_input(x, (None, None, self.input_size))
        N, T, D = x.shape
        H = self.hidden_size
        Wx, Wh, b = self._weight("Wx"), self._weight("Wh"), self._weight("b")
        inputs = (self._matmul(x.reshape(N * T, D), Wx) + b).reshape(N, T, 3 * H)
        h = np.zeros((N, H))
        steps = []
        for t in range(T):
            a = inputs[:, t]
            zr = _sigmoid(a[:, :2 * H] + self._matmul(h, Wh[:, :2 * H]))
            z, r = zr[:, :H], zr[:, H:]
            n = np.tanh(a[:, 2 * H:] + self._matmul(r * h, Wh[:, 2 * H:]))
            steps.append((h, z, r, n))
            h = (1.0 - z) * n + z * h
            if t < T - 1:
                h = self.arithmetic.round("activation", self.name, f"h{t + 1}", h)
        self._cache = (x, Wx, Wh, steps)
        return h

    def backward(self, dout):
        x, Wx, Wh, steps = self._cache
        N, T, D = x.shape
        H = self.hidden_size
        dinputs = np.zeros((N, T, 3 * H))
        dWh = np.zeros_like(Wh)
        dh = dout
        for t in reversed(range(T)):
            h_prev, z, r, n = steps[t]
            dn = dh * (1.0 - z)
            dz = dh * (h_prev - n)
            dh_prev = dh * z
            dan = dn * (1.0 - n**2)
            drh = self._matmul(dan, Wh[:, 2 * H:].T)
            dWh[:, 2 * H:] += self._matmul((r * h_prev).T, dan)
            dr = drh * h_prev
            dh_prev = dh_prev + drh * r
            dazr = np.concatenate([dz * z * (1.0 - z), dr * r * (1.0 - r)], axis=1)
            dWh[:, :2 * H] += self._matmul(h_prev.T, dazr)
            dh_prev = dh_prev + self._matmul(dazr, Wh[:, :2 * H].T)
            dinputs[:, t, :2 * H] = dazr
            dinputs[:, t, 2 * H:] = dan
            if t:
                dh = self.arithmetic.round("error", self.name, f"h{t}", dh_prev)
        dflat = dinputs.reshape(N * T, 3 * H)
        self.grads = {"Wx": self._matmul(x.reshape(N * T, D).T, dflat), "Wh": dWh, "b": dflat.sum(axis=0)}
        return self._matmul(dflat, Wx.T).reshape(N, T, D)


LAYERS = {cls.kind: cls for cls in (Linear, Conv2d, ReLU, Tanh, MaxPool2d, AvgPool2d, Flatten, GRU)}


def make_layer(kind: str, *args, **kwargs) -> Layer:
    """A layer by name (``LAYERS`` lists them)."""
    if kind not in LAYERS:
        raise ValueError(f"unknown layer {kind!r}; allowed: {', '.join(LAYERS)}")
    return LAYERS[kind](*args, **kwargs)
