"""The integer inner loop on softmax regression: C dots, C quantized scalars and a rank-1 integer
update per row; the fast epoch kernel gives the exact engine's integers, and HALP converges."""

import numpy as np
import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.arith import integer_loop
from lpsim.data import Dataset
from lpsim.fast import _halp_kernels as hk
from lpsim.models import SoftmaxLoss, make_model

from .test_fast_integer_loop import run_both_engines


def three_classes(n, d, seed, classes=3):
    """Gaussian features, labels from a random linear model plus Gumbel noise (not separable)."""
    rng = np.random.default_rng(seed)
    X, X_test = rng.standard_normal((n, d)), rng.standard_normal((n // 2, d))
    W = rng.standard_normal((d, classes))
    y = (X @ W + rng.gumbel(size=(n, classes))).argmax(axis=1)
    y_test = (X_test @ W + rng.gumbel(size=(n // 2, classes))).argmax(axis=1)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=classes, name=f"mix{classes}")


@pytest.fixture(scope="module")
def sm():
    return make_model("softmax", three_classes(16, 4, seed=3), l2=0.1)


@pytest.fixture(scope="module")
def sm_no_l2():
    # l2 so small that alpha l2 rounds to Lq = 0 at 2**-K: the loop runs without its l2 term,
    # while the model keeps a unique optimum for the history
    model = make_model("softmax", three_classes(16, 4, seed=4, classes=4), l2=1e-12)
    assert 2.0 / model.L * model.l2 * 2**16 < 0.5  # alpha l2 2**K rounds to 0 for every step size used
    return model


CASES = [
    ("sm", "halp", {}),
    ("sm", "halp", {"rounding": "stochastic:5"}),
    ("sm", "halp", {"rounding": "nearest_even", "batch_size": 3, "step_size": 2.0}),
    ("sm", "halp", {"rounding": "toward_positive", "batch_size": 2, "fmt": "fixed6_f0_wrap"}),
    ("sm", "halp", {"fmt": "int16", "data_fmt": "fixed10_f0", "seed": 11}),
    ("sm", "lpsvrg", {"seed": 3}),
    ("sm", "lpsvrg", {"rounding": "nearest_away", "batch_size": 2, "step_size": 4.0}),
    ("sm", "lpsgd", {"rounding": "stochastic:3"}),
    ("sm", "lpsgd", {"batch_size": 2, "seed": 5}),
    ("sm_no_l2", "halp", {"mu": 0.1}),
    ("sm_no_l2", "halp", {"mu": 0.1, "rounding": "to_odd", "batch_size": 2}),
    ("sm_no_l2", "lpsvrg", {"mu": 0.1, "rounding": "toward_positive"}),
    ("sm_no_l2", "lpsgd", {"mu": 0.1, "seed": 9}),
]


@pytest.mark.parametrize("model_name, algorithm, overrides", CASES, ids=[f"{m}-{a}-{o}" for m, a, o in CASES])
def test_fast_equals_exact(request, model_name, algorithm, overrides):
    model = request.getfixturevalue(model_name)
    fast, _ = run_both_engines(model, algorithm, overrides, epoch_length=6)
    assert fast.status == "ok", fast.message
    W = fast.w.reshape(model.shape)
    assert np.count_nonzero(W) > W.size // 2  # every class column moved, not only one
    assert np.all(np.any(W != 0, axis=0))


def test_vector_dloss_twins_agree_bit_for_bit_and_match_the_model():
    rng = np.random.default_rng(0)
    for classes in (2, 3, 7):
        for scale in (1e-3, 1.0, 30.0, 800.0):
            m = rng.standard_normal(classes) * scale
            y = float(rng.integers(classes))
            py, jit = np.empty(classes), np.empty(classes)
            integer_loop.vector_dloss(integer_loop.SOFTMAX, m, y, py)
            hk.vector_dloss_jit(integer_loop.SOFTMAX, m, y, jit)
            assert py.tobytes() == jit.tobytes()
            reference = SoftmaxLoss.derivative(m[None, :], np.array([int(y)]))[0]
            np.testing.assert_allclose(py, reference, rtol=0, atol=4e-16)
            assert abs(py.sum()) < 1e-15 * classes + 1e-300


def _run(model, **kw):
    config = TrainConfig(epochs=14, seed=2, step_size=0.5 / model.L, data_fmt="int8", **kw)
    result = train(model, config)
    assert result.status == "ok", result.message
    return result


def test_halp_integer_softmax_reaches_svrg_accuracy():
    model = make_model("softmax", three_classes(240, 6, seed=1), l2=0.1)
    svrg = _run(model, algorithm="svrg")
    halp_float = _run(model, algorithm="halp")
    halp = _run(model, algorithm="halp", arithmetic="integer")
    lpsgd = _run(model, algorithm="lpsgd", arithmetic="integer")
    g0 = svrg.history["grad_norm"][0]
    g_svrg, g_hf, g_halp, g_lp = (r.history["grad_norm"][-1] for r in (svrg, halp_float, halp, lpsgd))
    # measured (seed 2): svrg 2e-10 g0, float HALP 5e-8 g0, integer HALP 1.2e-8 g0, LP-SGD stalls near 0.3 g0
    assert max(g_svrg, g_hf) < 1e-7 * g0
    assert g_halp < 1e-7 * g0
    assert g_halp < 30 * max(g_svrg, g_hf)  # within a small factor of full precision
    assert g_halp < 1e-5 * g_lp  # far below LP-SGD's fixed-grid floor
    scales = halp.history["scale"][1:]
    assert scales[-1] < 1e-5 * scales[0]  # bit centering shrinks the grid geometrically
    w_star, _ = model.optimum()
    assert halp.history["dist"][-1] < 1e-6 * np.linalg.norm(w_star)
    assert halp.history["train_acc"][-1] == svrg.history["train_acc"][-1]
