"""Models: gradients against finite differences, Hessians, constants, optima to float64 accuracy, the gap."""

import numpy as np
import pytest

from lpsim.data import make_dataset
from lpsim.models import make_model


def _problems():
    ls = make_dataset("least_squares", n=60, d=5, condition_number=30.0, noise=0.3, seed=1)
    lg = make_dataset("logistic", n=80, d=4, seed=2, n_test=20)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((90, 3))
    y = (X @ rng.standard_normal((3, 4))).argmax(axis=1)
    y[:15] = rng.integers(0, 4, 15)  # label noise: not separable
    from lpsim.data import Dataset

    mc = Dataset(X=X, y=y, n_classes=4, name="multiclass")
    return [("least_squares", ls), ("logistic", lg), ("softmax", mc)]


PROBLEMS = _problems()
CASES = [(kind, ds, l2, icpt) for kind, ds in PROBLEMS for l2 in (0.0, 0.05) for icpt in (False, True)]
IDS = [f"{k}-l2={l2}-icpt={i}" for k, _, l2, i in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def model(request):
    kind, ds, l2, intercept = request.param
    return make_model(kind, ds, l2=l2, intercept=intercept)


def _point(model, seed=0, scale=0.7):
    return np.random.default_rng(seed).standard_normal(model.dim) * scale


def test_full_gradient_matches_central_differences(model):
    w = _point(model)
    h = 1e-6
    numeric = np.array([(model.loss(w + h * e) - model.loss(w - h * e)) / (2 * h) for e in np.eye(model.dim)])
    np.testing.assert_allclose(model.full_grad(w), numeric, rtol=1e-6, atol=1e-8)


def test_sample_gradients_average_to_the_full_gradient(model):
    w = _point(model, 1)
    per_row = np.mean([model.sample_grad(w, i) for i in range(model.n)], axis=0)
    np.testing.assert_allclose(per_row, model.full_grad(w), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.sample_grad(w, np.arange(model.n)), model.full_grad(w), rtol=1e-12, atol=1e-14)
    rows = np.array([3, 3, 7])  # a minibatch with a repeated row averages with multiplicity
    expected = (2 * model.sample_grad(w, 3) + model.sample_grad(w, 7)) / 3
    np.testing.assert_allclose(model.sample_grad(w, rows), expected, rtol=1e-12, atol=1e-14)


def test_hessian_matches_gradient_differences_and_hvp(model):
    w = _point(model, 2)
    h = 1e-6
    numeric = np.array([(model.full_grad(w + h * e) - model.full_grad(w - h * e)) / (2 * h) for e in np.eye(model.dim)])
    H = model.hessian(w)
    np.testing.assert_allclose(H, numeric.T, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    v = _point(model, 3)
    np.testing.assert_allclose(model.hvp(w, v), H @ v, rtol=1e-10, atol=1e-12)


def test_constants_bound_the_curvature(model):
    # mu <= every Hessian eigenvalue; every per-sample Hessian eigenvalue <= L; full Hessian <= L_f.
    for seed in range(3):
        w = _point(model, seed, scale=0.3 * seed)
        eig = np.linalg.eigvalsh(model.hessian(w))
        assert eig[0] >= model.mu - 1e-10
        assert eig[-1] <= model.L_f * (1 + 1e-10)
    assert model.L >= model.L_f * (1 - 1e-12)


def test_optimum_is_accurate_to_float64(model):
    w_star, f_star = model.optimum()
    scale = np.linalg.norm(model.full_grad(np.zeros(model.dim)))
    assert np.linalg.norm(model.full_grad(w_star)) <= 1e-12 * max(scale, 1.0)
    assert f_star == model.loss(w_star)
    assert model.optimum()[0] is w_star  # cached
    for seed in range(3):
        assert model.loss(w_star + 1e-3 * _point(model, seed)) > f_star


def test_gap_agrees_with_the_loss_difference_and_stays_accurate_near_the_optimum(model):
    w_star, f_star = model.optimum()
    d = _point(model, 4)
    for t in (1.0, 1e-2):
        assert model.gap(w_star + t * d) == pytest.approx(model.loss(w_star + t * d) - f_star, rel=1e-9)
    # Near w* the gap is quadratic: gap(w* + t d) ~ t^2 d^T H d / 2, far below float64's resolution of f.
    H = model.hessian(w_star)
    for t in (1e-6, 1e-9):
        assert model.gap(w_star + t * d) == pytest.approx(0.5 * t * t * d @ H @ d, rel=1e-5)
    assert model.gap(w_star) == pytest.approx(0.0, abs=1e-28)


def test_least_squares_constants_follow_the_generator():
    ds = make_dataset("least_squares", n=200, d=6, condition_number=1e4, seed=3)
    m = make_model("least_squares", ds)
    assert m.mu == pytest.approx(1e-4, rel=1e-9)
    assert m.L_f == pytest.approx(1.0, rel=1e-9)
    assert make_model("least_squares", ds, l2=0.5).mu == pytest.approx(0.5 + 1e-4, rel=1e-9)
    w_star, _ = m.optimum()
    np.testing.assert_allclose(w_star, np.linalg.lstsq(ds.X, ds.y, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_separable_data_without_l2_has_no_minimizer():
    ds = make_dataset("logistic", n=100, d=3, separable=True, seed=0)
    with pytest.raises(ValueError, match="separable"):
        make_model("logistic", ds).optimum()
    w_star, _ = make_model("logistic", ds, l2=0.01).optimum()
    assert np.all(np.isfinite(w_star))


def test_accuracy_counts_correct_predictions():
    ds = make_dataset("logistic", n=200, d=3, separable=True, margin=1.0, seed=4, n_test=50)
    m = make_model("logistic", ds, l2=1e-3)
    w_star, _ = m.optimum()
    assert m.accuracy(w_star) == 1.0
    assert m.accuracy(-w_star) == 0.0
    assert m.accuracy(w_star, ds.X_test, ds.y_test) > 0.9
    with pytest.raises(ValueError, match="classifiers"):
        make_model("least_squares", make_dataset("least_squares", n=10, d=2)).accuracy(np.zeros(2))


def test_make_model_rejects_mismatched_kind_and_bad_l2():
    reg = make_dataset("least_squares", n=10, d=2)
    clf = make_dataset("logistic", n=10, d=2)
    with pytest.raises(ValueError, match="model kind"):
        make_model("svm", reg)
    with pytest.raises(ValueError, match="regression dataset"):
        make_model("least_squares", clf)
    with pytest.raises(ValueError, match="2-class"):
        make_model("logistic", reg)
    with pytest.raises(ValueError, match="l2"):
        make_model("least_squares", reg, l2=-1.0)
    with pytest.raises(TypeError, match="Dataset"):
        make_model("least_squares", np.zeros((3, 3)))


@pytest.mark.parametrize("kind, y, n_classes", [("least_squares", np.arange(6.0), None),
                                                ("logistic", np.arange(6) % 2, 2),
                                                ("softmax", np.arange(6) % 3, 3)])
def test_all_zero_features_without_l2_are_a_clear_error(kind, y, n_classes):
    from lpsim.algorithms import TrainConfig, train
    from lpsim.data import Dataset

    zeros = Dataset(X=np.zeros((6, 3)), y=y, n_classes=n_classes, name="zeros")
    with pytest.raises(ValueError, match="every feature is zero and l2 = 0"):
        train(make_model(kind, zeros), TrainConfig(algorithm="svrg", epochs=1))
    # a regularized or intercept model has curvature, so it trains (to w = 0 or the mean)
    for model in (make_model(kind, zeros, l2=0.1), make_model(kind, zeros, intercept=True)):
        assert train(model, TrainConfig(algorithm="svrg", epochs=1)).status in ("ok", "converged")
