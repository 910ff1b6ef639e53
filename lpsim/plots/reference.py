"""Reference curves drawn next to measurements: LP-SGD's predicted floor, HALP's bits condition.

LP-SGD's floor (derivation in docs/studies.md, "The LP-SGD floor"). Near the optimum of a
quadratic with Hessian H, the error e = w - w* of LP-SGD with grid step delta and
stochastic rounding follows  e+ = (I - alpha H) e + eta,  eta the rounding noise:
unbiased, independent per coordinate, variance p(1-p) delta^2 for a fractional part p,
which is delta^2 / 6 on average over p uniform in [0, 1). The stationary covariance
S = (I - aH) S (I - aH) + v I gives, to first order in alpha * lambda_max:

    E ||grad f||^2 = v tr(H) / (2 alpha)   ->  grad-norm floor = delta * sqrt(tr(H) / (12 alpha))
    E [f - f*]     = v d / (4 alpha)       ->  gap floor       = d delta^2 / (24 alpha)

Both scale with the grid step: the gradient norm halves per extra bit, the gap
quarters. The sampling noise of SGD adds its own floor, independent of the bits.
"""

from __future__ import annotations

import math

SR_VARIANCE = 1.0 / 6.0  # E[p (1 - p)] for p ~ U[0, 1): mean stochastic-rounding variance / delta^2
FLOOR_METRICS = ("grad_norm", "gap")
# The derivation needs a constant Hessian H: a quadratic loss. A logistic or softmax loss has
# curvature l'' that vanishes where margins are large, so tr(H) at w* says little about the
# noise the grid injects along the iterate's path, and the formula is off by orders of magnitude.
FLOOR_MODELS = ("least_squares",)


def lpsgd_floor(metric: str, delta: float, step_size: float, hessian_trace: float, n_params: int) -> float:
    """Predicted stationary value of ``metric`` for LP-SGD with grid step ``delta`` (NaN if unknown)."""
    values = (delta, step_size, hessian_trace, n_params)
    if any(v is None or not math.isfinite(v) or v <= 0 for v in values):
        return math.nan
    variance = SR_VARIANCE * delta * delta
    if metric == "grad_norm":
        return math.sqrt(variance * hessian_trace / (2.0 * step_size))
    if metric == "gap":
        return variance * n_params / (4.0 * step_size)
    return math.nan


def halp_bits_reference(condition_number: float, n_params: int, c: float = 1.0) -> float:
    """Bits b with 2^(b-1) - 1 = c * kappa * sqrt(d): the spec's rough sufficient condition."""
    return 1.0 + math.log2(c * condition_number * math.sqrt(n_params) + 1.0)
