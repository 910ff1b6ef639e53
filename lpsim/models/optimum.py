"""Reference optima to float64 accuracy: damped Newton, then undamped refinement until the gradient stops shrinking."""

from __future__ import annotations

import numpy as np

DENSE_MAX_DIM = 1500  # above this, Newton steps use conjugate gradients on Hessian-vector products
MAX_ITER = 200


def _newton_direction(model, w, g):
    if model.dim <= DENSE_MAX_DIM:
        H = model.hessian(w)
        try:
            return -np.linalg.solve(H, g) if model.mu > 0 else -np.linalg.lstsq(H, g, rcond=None)[0]
        except np.linalg.LinAlgError:
            return -np.linalg.lstsq(H, g, rcond=None)[0]
    return -_conjugate_gradient(lambda v: model.hvp(w, v), g)


def _conjugate_gradient(apply, b, tol=1e-14, max_iter=2000):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    stop = (tol * np.linalg.norm(b)) ** 2
    for _ in range(max_iter):
        if rr <= stop:
            break
        Ap = apply(p)
        curvature = p @ Ap
        if curvature <= 0:
            break
        a = rr / curvature
        x += a * p
        r -= a * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def newton_optimum(model) -> np.ndarray:
    """Minimize model.loss from w = 0. Raises ValueError if the minimizer is not finite or not reached."""
    w = np.zeros(model.dim)
    g = model.full_grad(w)
    g0 = max(float(np.linalg.norm(g)), 1e-300)
    f = model.loss(w)
    best_norm, stalls = np.inf, 0
    for _ in range(MAX_ITER):
        norm = float(np.linalg.norm(g))
        if norm == 0.0:
            break
        if norm < best_norm * 0.5:
            best_norm, stalls = norm, 0
        else:
            best_norm = min(best_norm, norm)
            stalls += 1
            if stalls >= 4:  # float64 round-off: the gradient no longer shrinks
                break
        step = _newton_direction(model, w, g)
        t = 1.0
        while True:  # backtrack on f while f can still tell; near w* accept the full Newton step
            candidate = w + t * step
            f_new = model.loss(candidate)
            if f_new <= f + 1e-4 * t * (g @ step) or norm < 1e-6 * g0 or t < 1e-10:
                break
            t *= 0.5
        w, f = candidate, f_new
        g = model.full_grad(w)
        if not np.all(np.isfinite(w)) or np.linalg.norm(w) > 1e12:
            break
    norm = float(np.linalg.norm(g))
    if model.is_classifier and model.l2 == 0 and _separates(model, w):
        raise ValueError(
            f"{model!r}: the training data are separable, so with l2 = 0 the loss has no finite minimizer "
            "(it keeps falling as ||w|| grows); add l2 > 0"
        )
    if not np.all(np.isfinite(w)) or norm > 1e-8 * g0:
        raise ValueError(
            f"{model!r}: Newton's method did not reach the minimizer (||grad|| = {norm:.3g}, ||w|| = "
            f"{np.linalg.norm(w):.3g}); the data may be separable with l2 = 0, so no finite minimizer exists: "
            "add l2 > 0"
        )
    return w


def _separates(model, w) -> bool:
    """Does w classify every training row with a strictly positive margin? Then t*w, t -> inf, lowers the loss."""
    m = model.margins(w)
    if not model.loss_fn.multiclass:
        return bool(np.all((2.0 * model.y - 1.0) * m > 0))
    true = np.take_along_axis(m, model.y[:, None], axis=1)
    others = np.where(np.arange(m.shape[1]) == model.y[:, None], -np.inf, m)
    return bool(np.all(true[:, 0] > others.max(axis=1)))
