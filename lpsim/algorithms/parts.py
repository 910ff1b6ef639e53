"""The shared pieces every algorithm is built from.

* ``Recipe`` (defined with the list of algorithms in ``recipes.py``): which pieces an algorithm
  uses (plain or variance-reduced gradient; iterate stored in float64, on a fixed grid, or bit-centered).
* ``Grid``: the quantize step Q(v) = s * quantize(v / s, fmt, rounding) with its random stream.
* ``Anchor``: the variance-reduction anchor w~ with its full gradient g~ and per-row data.
* ``bit_center``: HALP's epoch start: move the center to w~ and rescale the grid to ||g~|| / (mu M).
* ``float_epoch``: T inner steps with float64 gradients (the ``arithmetic="float"`` inner loop).
"""

from __future__ import annotations

import attrs
import numpy as np

from ..arith.accumulator import Accumulator
from ..codec import quantize
from ..formats.base import Format
from ..formats.rounding import Rounding
from .config import grid_max
from .recipes import RECIPES, Recipe, Storage  # noqa: F401  (re-exported: the parts' vocabulary)

# Random streams of stochastic rounding (lpsim.rng keys: seed = config.seed, stream, offset).
ITERATE_STREAM = 1  # step k (0-based over the whole run) quantizes element j with offset k * dim + j
DATA_STREAM = 2  # training features, element (i, j) at offset i * d + j
TEST_DATA_STREAM = 3  # held-out features, likewise


@attrs.frozen
class Grid:
    """Q_(s, fmt): values on the grid s * (values of fmt), rounded by ``rounding``.

    v / s is computed in float64 and then quantized by lpsim.quantize; the result is
    multiplied back by s in float64 (exact when s is a power of two).
    ``accumulator``: TrainConfig.accumulator, for an integer inner loop's dot x_i . z
    (None: the arithmetic's own accumulator); the float loop does not use it.
    """

    fmt: Format
    rounding: Rounding
    seed: int
    stream: int
    engine: str
    accumulator: Accumulator | None = None

    def covering_scale(self, radius: float) -> float:
        """The scale whose grid spans [-radius, radius]: radius / M, M the format's largest value."""
        return radius / grid_max(self.fmt)

    def __call__(self, v: np.ndarray, scale: float, offset: int = 0) -> np.ndarray:
        q = quantize(v / scale, self.fmt, self.rounding, seed=self.seed, stream=self.stream, offset=offset,
                     engine=self.engine)
        return scale * q


@attrs.define(eq=False)
class Anchor:
    """w~ with g~ = grad f(w~), and per row i the margins x_i . w~ and l'(x_i . w~, y_i)."""

    w: np.ndarray
    grad: np.ndarray
    margins: np.ndarray
    dloss: np.ndarray

    @property
    def grad_norm(self) -> float:
        return float(np.linalg.norm(self.grad))


def make_anchor(model, w: np.ndarray, margins: np.ndarray | None = None) -> Anchor:
    """One full pass in float64: the full gradient at w plus what the inner steps reuse per row.
    ``margins``: x_i . w when the caller already has them (then X is read once, not twice)."""
    margins = model.margins(w) if margins is None else margins
    dloss = model.loss_fn.derivative(margins, model.y)
    grad = (model.X.T @ dloss).reshape(-1) / model.n + model.l2 * w
    return Anchor(w=w.copy(), grad=grad, margins=margins, dloss=dloss)


@attrs.define(eq=False)
class IterateState:
    """The iterate: w = center + z (center is None unless bit-centered), the grid scale in use, the step count."""

    z: np.ndarray
    center: np.ndarray | None = None
    scale: float = float("nan")
    anchor: Anchor | None = None
    step: int = 0

    @property
    def w(self) -> np.ndarray:
        return self.z if self.center is None else self.center + self.z


def bit_center(state: IterateState, anchor: Anchor, grid: Grid, mu: float) -> None:
    """HALP's epoch start: center = w~, z = 0, s = ||g~|| / (mu M) so the grid covers ||w~ - w*|| <= ||g~|| / mu."""
    state.center = anchor.w
    state.z = np.zeros_like(anchor.w)
    state.scale = grid.covering_scale(anchor.grad_norm / mu)


class StepFailed(Exception):
    """An inner step produced NaN/inf or overflowed a format with an error policy: the run diverged."""


def float_epoch(model, state: IterateState, rows: np.ndarray, alpha: float, grid: Grid | None) -> None:
    """Run the inner steps for the sampled ``rows`` (T x B) with float64 gradients.

    Plain:            g = grad f_B(w)
    Variance reduced: g = grad f_B(w) - grad f_B(w~) + g~; the margins of the current point
                      are x_i . w directly, or x_i . w~ + x_i . z when bit-centered (the spec's
                      form: x_i . w~ is computed once per epoch, only x_i . z per step).
    Then z <- Q(z - alpha g) on the grid (or no rounding when ``grid`` is None).
    """
    X, y, l2, shape = model.X, model.y, model.l2, model.shape
    dloss = model.loss_fn.derivative
    anchor, centered = state.anchor, state.center is not None
    z, scale, dim = state.z, state.scale, state.z.size
    inv_b = 1.0 / rows.shape[1]
    step = state.step
    with np.errstate(over="ignore", invalid="ignore"):
        for batch in rows:
            Xb = X[batch]
            if anchor is None:
                r = dloss(Xb @ z.reshape(shape), y[batch])
                g = (Xb.T @ r).reshape(-1) * inv_b
                if l2:
                    g += l2 * z
            else:
                if centered:
                    m = anchor.margins[batch] + Xb @ z.reshape(shape)
                else:
                    m = Xb @ z.reshape(shape)
                r = dloss(m, y[batch]) - anchor.dloss[batch]
                g = (Xb.T @ r).reshape(-1) * inv_b + anchor.grad
                if l2:
                    g += l2 * (z if centered else z - anchor.w)
            v = z - alpha * g
            if grid is None:
                z = v
            else:
                try:
                    z = grid(v, scale, step * dim)
                except (ValueError, OverflowError) as exc:
                    if isinstance(exc, OverflowError) or not np.all(np.isfinite(v)):
                        state.z, state.step = z, step
                        raise StepFailed(f"step {step}: {exc}") from exc
                    raise
            step += 1
    state.z, state.step = z, step


EPOCH_RUNNERS = {"float": float_epoch}
