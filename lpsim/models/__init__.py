"""Models: losses, per-sample and full gradients, curvature constants and float64 reference optima."""

from __future__ import annotations

from .linear import LinearModel
from .losses import LOSSES, LogisticLoss, SoftmaxLoss, SquaredLoss

Model = LinearModel
MODEL_KINDS = tuple(LOSSES)


def make_model(kind: str, dataset, *, l2: float = 0.0, intercept: bool = False) -> LinearModel:
    """A linear model of ``kind`` (least_squares, logistic, softmax) over ``dataset``.

    f(w) = (1/n) sum_i l(x_i . w, y_i) + (l2 / 2) ||w||^2; with ``intercept`` a column of
    ones is appended to the features (and regularized like the other weights).
    """
    return LinearModel(kind, dataset, l2=l2, intercept=intercept)


__all__ = ["make_model", "Model", "LinearModel", "MODEL_KINDS", "SquaredLoss", "LogisticLoss", "SoftmaxLoss"]
