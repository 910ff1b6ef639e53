"""A tiny network trained with a simulated multiply-accumulate unit gives the same bits on both engines."""

import numpy as np
import pytest

from lpsim import nn
from lpsim.arith import Accumulator, FloatRegister
from lpsim.formats import BFLOAT16

from .nets import blobs

MACS = [
    "fp8_fp32",  # E4M3 operands, exact products, float32 accumulation
    nn.Mac(accumulator=Accumulator(product=FloatRegister(fmt=BFLOAT16), accumulator=FloatRegister(fmt=BFLOAT16))),
]


@pytest.mark.parametrize("mac", MACS, ids=["fp8_fp32", "bf16_products_and_sums"])
def test_training_steps_same_bits_on_exact_and_fast_engines(mac):
    data = blobs(8, 3, 2, seed=3, n_test=4)
    quant = nn.QuantConfig(activation=nn.Quantizer(fmt="e5m2", rounding="stochastic", scaling="tensor"),
                           error=nn.Quantizer(fmt="e5m2_saturate", rounding="stochastic", scaling="delayed", history=2))
    results = {}
    for engine in ("exact", "fast"):
        config = nn.TrainConfig(model=nn.ModelConfig(hidden=(3,)), optimizer=nn.HALP(lr=0.5, bits=6, mu=1.0),
                                epochs=2, batch_size=4, seed=2, mac=mac, engine=engine, quant=quant)
        results[engine] = nn.train(config, data)
    exact, fast = results["exact"], results["fast"]
    assert exact.status == fast.status == "ok"
    for key in exact.params:
        assert exact.params[key].tobytes() == fast.params[key].tobytes(), key
    assert exact.history[-1].train_loss == fast.history[-1].train_loss


def test_simulated_accumulation_changes_the_result():
    """The arithmetic is really in the loop: E4M3 operands move the trained weights away from float64's."""
    data = blobs(8, 3, 2, seed=3, n_test=4)
    base = nn.TrainConfig(model=nn.ModelConfig(hidden=(3,)), epochs=1, batch_size=4, seed=2)
    plain = nn.train(base, data)
    simulated = nn.train(nn.TrainConfig(model=base.model, epochs=1, batch_size=4, seed=2, mac="fp8_fp32"), data)
    assert any(not np.array_equal(plain.params[k], simulated.params[k]) for k in plain.params)


def test_float64_mac_profile_matches_numpy_on_exactly_representable_values():
    rng = np.random.default_rng(0)
    a = rng.integers(-8, 8, size=(5, 7)).astype(float)
    b = rng.integers(-8, 8, size=(7, 3)).astype(float)
    np.testing.assert_array_equal(nn.matmul(a, b, "fp64"), a @ b)
    np.testing.assert_array_equal(nn.matmul(a, b, "fp8_fp32"), a @ b)  # small integers are E4M3 values
