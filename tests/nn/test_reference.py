"""lpsim.nn in float64 computes what a hand-written numpy MLP computes."""

import numpy as np

from lpsim import nn
from lpsim.nn.train import batch_order

from .nets import blobs


def _numpy_mlp_sgd(params, X, y, batches, lr):
    """Two-layer ReLU MLP, softmax cross-entropy, plain SGD: written out independently of lpsim.nn."""
    W1, b1, W2, b2 = (params[k].copy() for k in ("linear0.W", "linear0.b", "linear2.W", "linear2.b"))
    for batch in batches:
        x, t = X[batch], y[batch]
        pre = x @ W1 + b1
        hid = np.maximum(pre, 0.0)
        logits = hid @ W2 + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(t)), t] -= 1.0
        dlogits = p / len(t)
        dW2, db2 = hid.T @ dlogits, dlogits.sum(axis=0)
        dpre = (dlogits @ W2.T) * (pre > 0)
        dW1, db1 = x.T @ dpre, dpre.sum(axis=0)
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return {"linear0.W": W1, "linear0.b": b1, "linear2.W": W2, "linear2.b": b2}


def test_float64_mlp_matches_numpy_reference():
    data = blobs(40, 6, 3, seed=1)
    config = nn.TrainConfig(model=nn.ModelConfig(kind="mlp", hidden=(7,)), optimizer=nn.SGD(lr=0.3), epochs=3,
                            batch_size=8, seed=11)
    result = nn.train(config, data)
    assert result.status == "ok"
    # the same initialization and batch order as train() draws
    init = nn.build_network(config.model, data.sample_shape, data.n_classes, np.random.default_rng([11, 0])).params
    batch_rng = np.random.default_rng([11, 1])
    batches = [b for _ in range(3) for b in batch_order(40, 8, batch_rng)]
    expected = _numpy_mlp_sgd(init, data.X, data.y, batches, 0.3)
    assert set(result.params) == set(expected)
    for key in expected:
        assert not np.allclose(expected[key], init[key])  # training moved every tensor
        np.testing.assert_allclose(result.params[key], expected[key], rtol=0, atol=1e-12)
