"""Per-sample losses l(m, y) of a linear model's margins m = x . w (or x W for softmax).

Each loss gives the value, dl/dm, a Hessian-vector product in margin space, and the
Bregman divergence l(m* + e) - l(m*) - l'(m*) e computed without cancellation, which
lets the objective gap f(w) - f* be measured far below float64's resolution of f.
"""

from __future__ import annotations

import numpy as np

_DIRECT = 30.0  # beyond this |e| the direct difference is accurate and expm1 may overflow


def sigmoid(t):
    """1 / (1 + exp(-t)), accurate in relative terms for any t (no 1 - x cancellation)."""
    return np.exp(-np.logaddexp(0.0, -t))


def _sign(y):
    return 2.0 * y - 1.0


class SquaredLoss:
    """l(m, y) = (m - y)^2 / 2."""

    name = "least_squares"
    multiclass = False
    curvature_bound = 1.0  # sup l''

    @staticmethod
    def value(m, y):
        r = m - y
        return 0.5 * r * r

    @staticmethod
    def derivative(m, y):
        return m - y

    @staticmethod
    def hvp(m, y, v):
        return v

    @staticmethod
    def bregman(m_star, e, y):
        return 0.5 * e * e


class LogisticLoss:
    """l(m, y) = log(1 + exp(-s m)), s = 2y - 1 for class index y in {0, 1}."""

    name = "logistic"
    multiclass = False
    curvature_bound = 0.25

    @staticmethod
    def value(m, y):
        return np.logaddexp(0.0, -_sign(y) * m)

    @staticmethod
    def derivative(m, y):
        s = _sign(y)
        return -s * sigmoid(-s * m)

    @staticmethod
    def hvp(m, y, v):
        return sigmoid(m) * sigmoid(-m) * v

    @classmethod
    def bregman(cls, m_star, e, y):
        s = _sign(y)
        p = sigmoid(-s * m_star)
        es = s * e
        with np.errstate(over="ignore", invalid="ignore"):
            smooth = np.log1p(p * np.expm1(-es)) + p * es
        direct = cls.value(m_star + e, y) - cls.value(m_star, y) - cls.derivative(m_star, y) * e
        return np.where(np.abs(es) > _DIRECT, direct, smooth)


def softmax(m):
    """Class probabilities along the last axis (shifted by the row maximum: no overflow)."""
    z = m - m.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def _logsumexp(m):
    top = m.max(axis=-1)
    return top + np.log(np.exp(m - top[..., None]).sum(axis=-1))


class SoftmaxLoss:
    """l(m, y) = logsumexp(m) - m_y over K class scores m (cross-entropy of softmax)."""

    name = "softmax"
    multiclass = True
    curvature_bound = 0.5  # largest eigenvalue of diag(p) - p p^T is at most 1/2

    @staticmethod
    def value(m, y):
        return _logsumexp(m) - np.take_along_axis(m, y[..., None], axis=-1)[..., 0]

    @staticmethod
    def derivative(m, y):
        p = softmax(m)
        p[np.arange(p.shape[0]), y] -= 1.0
        return p

    @staticmethod
    def hvp(m, y, v):
        p = softmax(m)
        pv = p * v
        return pv - p * pv.sum(axis=-1, keepdims=True)

    @classmethod
    def bregman(cls, m_star, e, y):
        p = softmax(m_star)
        with np.errstate(over="ignore", invalid="ignore"):
            smooth = np.log1p((p * np.expm1(e)).sum(axis=-1)) - (p * e).sum(axis=-1)
        direct = cls.value(m_star + e, y) - cls.value(m_star, y) - (cls.derivative(m_star, y) * e).sum(axis=-1)
        return np.where(np.abs(e).max(axis=-1) > _DIRECT, direct, smooth)


LOSSES = {"least_squares": SquaredLoss, "logistic": LogisticLoss, "softmax": SoftmaxLoss}
