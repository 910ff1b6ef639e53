"""Linear models f(w) = (1/n) sum_i l(x_i . w, y_i) + (l2 / 2) ||w||^2 over a Dataset.

The parameter vector w is flat (length ``dim``); softmax regression views it as a
(d, K) matrix in C order. Everything here is float64 full precision: it is the
reference the low-precision algorithms are measured against.
"""

from __future__ import annotations

import numpy as np

from ..data.dataset import Dataset
from .losses import LOSSES, softmax
from .optimum import newton_optimum


class LinearModel:
    """Loss, gradients, curvature constants and the reference optimum of a linear model."""

    def __init__(self, kind: str, dataset: Dataset, *, l2: float = 0.0, intercept: bool = False):
        if kind not in LOSSES:
            raise ValueError(f"model kind must be one of {', '.join(LOSSES)}, got {kind!r}")
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be an lpsim.data.Dataset, got {type(dataset).__name__}")
        l2 = float(l2)
        if not np.isfinite(l2) or l2 < 0:
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        if kind == "least_squares" and dataset.n_classes is not None:
            raise ValueError(f"least_squares needs a regression dataset; {dataset.name!r} has {dataset.n_classes} classes "
                             "(use 'logistic' or 'softmax')")
        if kind == "logistic" and dataset.n_classes != 2:
            raise ValueError(f"logistic needs a 2-class dataset; {dataset.name!r} has n_classes={dataset.n_classes} "
                             "(use 'softmax' for more classes)")
        if kind == "softmax" and dataset.n_classes is None:
            raise ValueError(f"softmax needs a classification dataset; {dataset.name!r} is a regression dataset")
        self.kind = kind
        self.dataset = dataset
        self.loss_fn = LOSSES[kind]
        self.l2 = l2
        self.intercept = bool(intercept)
        self.X = self._design(dataset.X)
        if l2 == 0 and not np.any(self.X):
            # f(w) is then the same number for every w: no curvature (L = 0, so no default step
            # size 1 / (4 L)), no unique optimum, nothing for an algorithm to learn
            raise ValueError(f"dataset {dataset.name!r}: every feature is zero and l2 = 0, so the objective does not "
                             "depend on w; give data with a nonzero feature, l2 > 0 or intercept=True")
        self.y = dataset.y
        self.X_test = None if dataset.X_test is None else self._design(dataset.X_test)
        self.y_test = dataset.y_test
        self.n, self.d = self.X.shape
        self.n_outputs = dataset.n_classes if self.loss_fn.multiclass else 1
        self.shape = (self.d, self.n_outputs) if self.loss_fn.multiclass else (self.d,)
        self.dim = self.d * self.n_outputs
        self.is_classifier = dataset.n_classes is not None
        self._cache: dict = {}

    def _design(self, X):
        if not self.intercept:
            return X
        out = np.hstack([X, np.ones((X.shape[0], 1))])
        out.setflags(write=False)
        return out

    def __repr__(self) -> str:
        return f"LinearModel({self.kind!r}, {self.dataset.name!r}, n={self.n}, dim={self.dim}, l2={self.l2})"

    # -- objective ------------------------------------------------------------------
    def margins(self, w, X=None) -> np.ndarray:
        X = self.X if X is None else X
        return X @ np.reshape(w, self.shape)

    def loss(self, w) -> float:
        w = np.asarray(w, dtype=np.float64)
        data = self.loss_fn.value(self.margins(w), self.y).mean()
        return float(data + 0.5 * self.l2 * np.dot(w, w))

    def full_grad(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        r = self.loss_fn.derivative(self.margins(w), self.y)
        return (self.X.T @ r).reshape(-1) / self.n + self.l2 * w

    def sample_grad(self, w, idx) -> np.ndarray:
        """Gradient of the mean of f_i over the rows ``idx`` (an int or an index array), l2 included."""
        w = np.asarray(w, dtype=np.float64)
        rows = np.atleast_1d(idx)
        Xb = self.X[rows]
        r = self.loss_fn.derivative(self.margins(w, Xb), self.y[rows])
        return (Xb.T @ r).reshape(-1) / rows.size + self.l2 * w

    def hvp(self, w, v) -> np.ndarray:
        """Hessian of f at w times v."""
        m = self.margins(w)
        hm = self.loss_fn.hvp(m, self.y, self.X @ np.reshape(v, self.shape))
        return (self.X.T @ hm).reshape(-1) / self.n + self.l2 * np.asarray(v)

    def hessian(self, w) -> np.ndarray:
        """Dense Hessian (dim x dim); for small dim only."""
        m = self.margins(w)
        if not self.loss_fn.multiclass:
            c = self.loss_fn.hvp(m, self.y, np.ones_like(m))
            H = self.X.T @ (c[:, None] * self.X) / self.n
        else:
            K = self.n_outputs
            p = softmax(m)
            H4 = np.empty((self.d, K, self.d, K))
            for k in range(K):
                for j in range(k, K):
                    weight = p[:, k] * ((k == j) - p[:, j])
                    block = self.X.T @ (weight[:, None] * self.X) / self.n
                    H4[:, k, :, j] = block
                    H4[:, j, :, k] = block
            H = H4.reshape(self.dim, self.dim)
        return H + self.l2 * np.eye(self.dim)

    # -- constants ------------------------------------------------------------------
    @property
    def mu(self) -> float:
        """Global strong-convexity constant of f: lambda_min(X^T X / n) + l2 for least squares, l2 otherwise
        (logistic and softmax losses are not strongly convex on all of R^dim)."""
        if "mu" not in self._cache:
            if self.kind == "least_squares":
                lam = np.linalg.eigvalsh(self.X.T @ self.X / self.n)[0]
                self._cache["mu"] = max(float(lam), 0.0) + self.l2
            else:
                self._cache["mu"] = self.l2
        return self._cache["mu"]

    @property
    def L(self) -> float:
        """Smoothness of every f_i: sup l'' * max_i ||x_i||^2 + l2 (the constant SGD/SVRG step sizes use)."""
        if "L" not in self._cache:
            row_norms = np.einsum("ij,ij->i", self.X, self.X)
            self._cache["L"] = self.loss_fn.curvature_bound * float(row_norms.max()) + self.l2
        return self._cache["L"]

    @property
    def L_f(self) -> float:
        """Smoothness of the average f: sup l'' * lambda_max(X^T X / n) + l2."""
        if "L_f" not in self._cache:
            lam = np.linalg.norm(self.X, 2) ** 2 / self.n
            self._cache["L_f"] = self.loss_fn.curvature_bound * float(lam) + self.l2
        return self._cache["L_f"]

    # -- reference solution -----------------------------------------------------------
    def optimum(self) -> tuple[np.ndarray, float]:
        """(w*, f*) by Newton's method to float64 accuracy; cached. Raises ValueError when no finite
        minimizer exists (e.g. separable classification data with l2 = 0)."""
        if "optimum" not in self._cache:
            w_star = newton_optimum(self)
            w_star.setflags(write=False)
            self._cache["optimum"] = (w_star, self.loss(w_star))
        return self._cache["optimum"]

    def gap(self, w) -> float:
        """f(w) - f*, summed as Bregman divergences around w* so it stays accurate near w*."""
        w = np.asarray(w, dtype=np.float64)
        w_star, _ = self.optimum()
        delta = w - w_star
        m_star = self.margins(w_star)
        e = self.margins(delta)
        g_star = self.full_grad(w_star)  # ~0; kept so the identity is exact, not approximate
        data = self.loss_fn.bregman(m_star, e, self.y).mean()
        return float(data + 0.5 * self.l2 * np.dot(delta, delta) + np.dot(g_star, delta))

    # -- classification -----------------------------------------------------------------
    def predict(self, w, X) -> np.ndarray:
        m = self.margins(w, np.asarray(X))
        if self.loss_fn.multiclass:
            return m.argmax(axis=1)
        return (m > 0).astype(np.int64)

    def accuracy(self, w, X=None, y=None) -> float:
        """Fraction of rows classified correctly (training data by default). X is in the dataset's
        feature space; the intercept column is added here when the model has one."""
        if not self.is_classifier:
            raise ValueError(f"accuracy is defined for classifiers; {self.kind} is a regression model")
        if X is None:
            X, y = self.X, self.y
        else:
            X = np.asarray(X, dtype=np.float64)
            if self.intercept and X.shape[1] == self.d - 1:
                X = self._design(X)
        return float(np.mean(self.predict(w, X) == np.asarray(y)))

    def with_dataset(self, dataset: Dataset) -> "LinearModel":
        """The same model (kind, l2, intercept) over another dataset, e.g. quantized features."""
        return LinearModel(self.kind, dataset, l2=self.l2, intercept=self.intercept)
