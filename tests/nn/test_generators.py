"""The random-bit generator of a network run: every stochastic rounding draws from it, on both engines."""

import numpy as np
import pytest

from lpsim import nn
from lpsim.arith import EXACT, Accumulator, FloatRegister
from lpsim.formats import BFLOAT16
from lpsim.formats.rounding import RandomGenerator

from .nets import blobs

# every place lpsim.nn rounds stochastically: quantization points, HALP's grid, a stochastic register
QUANT = nn.QuantConfig(activation=nn.Quantizer(fmt="e5m2", rounding="stochastic", scaling="tensor"),
                       error=nn.Quantizer(fmt="e5m2_saturate", rounding="stochastic:12", scaling="tensor"))
STOCHASTIC_MAC = nn.Mac(accumulator=Accumulator(product=EXACT,
                                                accumulator=FloatRegister(fmt=BFLOAT16, rounding="stochastic")))


def _run(generator=None, engine="fast", seed=2, mac=None, quant=QUANT, optimizer=None, epochs=2):
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(3,)), optimizer=optimizer or nn.HALP(lr=0.5, bits=6),
                            epochs=epochs, batch_size=4, seed=seed, mac=mac, engine=engine, quant=quant,
                            generator=generator)
    result = nn.train(config, blobs(8, 3, 2, seed=3, n_test=4))
    assert result.status == "ok"
    return result.params


def _same(a, b):
    return all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("generator", [g.value for g in RandomGenerator])
def test_both_engines_draw_the_same_bits_with_every_generator(generator):
    assert _same(_run(generator, "exact", mac=STOCHASTIC_MAC, epochs=1), _run(generator, "fast", mac=STOCHASTIC_MAC, epochs=1))


def test_a_different_generator_gives_different_bits_and_the_default_is_philox10():
    default = _run()
    assert _same(default, _run("philox10"))
    others = [_run(g) for g in ("philox7", "splitmix64", "hash32")]
    assert not any(_same(default, other) for other in others)
    assert not _same(others[0], others[2])


def test_the_generator_reaches_a_rounding_that_names_none():
    """generator = hash32 on the run equals every rounding naming hash32 itself."""
    named = nn.QuantConfig(activation=nn.Quantizer(fmt="e5m2", rounding="stochastic:hash32", scaling="tensor"),
                           error=nn.Quantizer(fmt="e5m2_saturate", rounding="stochastic:12:hash32", scaling="tensor"))
    assert _same(_run("hash32"), _run(quant=named, optimizer=nn.HALP(lr=0.5, bits=6, rounding="stochastic:hash32")))


def test_a_stochastic_register_draws_new_bits_per_product_pass_and_seed():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 40)), rng.standard_normal((40, 5))

    def products(seed, generator=None, count=2):
        arithmetic = nn.Arithmetic(STOCHASTIC_MAC, nn.Rounder(seed=seed, generator=generator))
        out = [arithmetic.matmul(a, b) for _ in range(count)]
        arithmetic.rounder.next_pass()
        return out + [arithmetic.matmul(a, b)]

    first, second, next_pass = products(1)
    assert not np.array_equal(first, second)  # two products of one pass
    assert not np.array_equal(first, next_pass)  # the same product position in the next pass
    assert all(np.array_equal(x, y) for x, y in zip(products(1), [first, second, next_pass]))  # replays
    assert not np.array_equal(first, products(2)[0])
    assert not np.array_equal(first, products(1, "splitmix64")[0])


def test_a_run_generator_reaches_the_matrix_unit():
    """Only the matrix unit rounds stochastically here (float SGD, no quantization points)."""
    runs = [_run(gen, mac=STOCHASTIC_MAC, quant=nn.QuantConfig(), optimizer=nn.SGD(lr=0.5)) for gen in (None, "hash32")]
    assert not _same(*runs)


def test_a_rounding_naming_another_generator_is_refused():
    with pytest.raises(ValueError, match="generator is 'hash32' but optimizer rounding .* names generator 'splitmix64'"):
        nn.TrainConfig(optimizer=nn.LPSGD(rounding="stochastic:splitmix64"), generator="hash32")
    with pytest.raises(ValueError, match="generator must be one of philox10"):
        nn.TrainConfig(generator="mt19937")


def test_with_generator_reaches_every_stochastic_register_of_the_unit():
    from lpsim.arith import Summation
    from lpsim.formats import BINARY32

    chunked = nn.Mac(accumulator=Accumulator(
        product=FloatRegister(fmt=BINARY32, rounding="stochastic:12"), accumulator=FloatRegister(fmt=BINARY32),
        summation=Summation.chunked(8, FloatRegister(fmt=BINARY32, rounding="stochastic"))))
    hashed = chunked.with_generator(RandomGenerator.HASH32)
    product, accumulator, final = hashed.accumulator.registers
    assert product.rounding.generator is final.rounding.generator is RandomGenerator.HASH32
    assert product.rounding.random_bits == 12 and accumulator == chunked.accumulator.accumulator  # nearest stays
    assert chunked.with_generator(None) is chunked and STOCHASTIC_MAC.stochastic and not nn.as_mac("fp8_fp32").stochastic
