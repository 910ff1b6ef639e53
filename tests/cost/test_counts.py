"""The cost counts of a run against a hand count, and the same counts from both engines.

The hand count walks the run the way docs/cost.md describes it: row by row, step by step,
epoch by epoch, adding each operation and each access as the algorithm performs it, with
the loss derivative's operations written out from its formula. lpsim.cost computes the
same totals in closed form from the run's shape.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.cost import KINDS, Cost, run_cost
from lpsim.data import make_dataset
from lpsim.models import make_model

N, D, B, T, EPOCHS = 6, 2, 2, 3, 2

# l'(m, y) operations, by hand from each derivative's formula
DERIVATIVE = {
    "least_squares": Counter(add=1),  # m - y
    # s = 2y - 1 (fma), t = -s m (mul), branch on t (cmp), exp, 1 + e (add), quotient (div), -s sig (mul)
    "logistic": Counter(fma=1, multiply=2, compare=1, exp=1, add=1, divide=1),
    # 2 classes: the larger margin (1 cmp), m_k - top and the sum (4 adds), 2 exps, 2 quotients, p_y - 1 (add)
    "softmax": Counter(compare=1, add=5, exp=2, divide=2),
}
CLASSES = {"least_squares": 1, "logistic": 1, "softmax": 2}


def _model(kind: str, l2: float = 0.0):
    dataset = make_dataset("logistic" if kind == "softmax" else kind, n=N, d=D, seed=3)
    return make_model(kind, dataset, l2=l2)


class Hand:
    """A hand count: ops by kind, random bits, bits per (level, direction)."""

    def __init__(self):
        self.ops = Counter()
        self.random = 0
        self.memory = Counter()

    def totals(self) -> dict:
        out = {f"ops_{k}": self.ops[k] for k in KINDS}
        out["random_bits"] = self.random
        for level in ("dram", "sram"):
            for direction in ("read", "write"):
                out[f"bytes_{level}_{direction}"] = self.memory[(level, direction)] / 8
        out["bytes_moved"] = sum(self.memory.values()) / 8
        return out


def hand_float(algorithm: str, loss: str, l2: bool, z_bits: int, x_bits: int, random_bits: int) -> dict:
    """The float inner loop, walked by hand; ``random_bits`` drawn per rounded element."""
    h = Hand()
    C = CLASSES[loss]
    P = D * C  # parameters: the (d, C) iterate
    vr = algorithm in ("svrg", "lpsvrg", "halp")
    centered = algorithm == "halp"
    low = algorithm in ("lpsgd", "lpsvrg", "halp")

    def full_gradient():
        for _ in range(N):
            h.ops["fma"] += P  # x_i . w
            h.ops.update(DERIVATIVE[loss])
            h.ops["fma"] += P  # + x_i l'
            h.memory[("dram", "read")] += D * x_bits + 64
            h.memory[("sram", "read")] += P * z_bits
        h.ops["multiply"] += P  # / n
        if l2:
            h.ops["fma"] += P

    if algorithm in ("lpsgd", "lpsvrg"):  # the fixed grid's scale from ||grad f(0)||
        full_gradient()
        h.ops["fma"] += P
    for _ in range(EPOCHS):
        if vr:
            if centered:
                h.ops["add"] += P  # w = w~ + z
            full_gradient()
            h.memory[("dram", "write")] += N * C * 64  # l'(x_i . w~)
            h.memory[("sram", "write")] += P * 64  # g~
            if centered:
                h.memory[("dram", "write")] += N * C * 64  # x_i . w~
                h.ops["fma"] += P  # ||g~||
                h.memory[("sram", "write")] += P * 64 + P * z_bits  # w~ and z = 0
            else:
                h.memory[("sram", "write")] += P * z_bits  # w~
        for _ in range(T):
            for _ in range(B):
                h.ops["fma"] += P
                h.ops.update(DERIVATIVE[loss])
                if centered:
                    h.ops["add"] += C
                if vr:
                    h.ops["add"] += C
                h.ops["fma"] += P
                h.memory[("dram", "read")] += D * x_bits + 64 + (C * 64 if vr else 0) + (C * 64 if centered else 0)
                h.memory[("sram", "read")] += P * z_bits
            h.ops["multiply"] += P  # / B
            if vr:
                h.ops["add"] += P  # + g~
                h.memory[("sram", "read")] += P * 64
            if l2:
                h.ops["fma"] += P
                if vr and not centered:
                    h.ops["add"] += P  # z - w~
                    h.memory[("sram", "read")] += P * z_bits
            h.ops["fma"] += P  # z - alpha g
            if low:
                h.ops["multiply"] += 2 * P  # / s and * s
                h.ops["add"] += P  # rounding
                h.ops["compare"] += P  # saturation
                h.random += random_bits * P
            h.memory[("sram", "read")] += P * z_bits
            h.memory[("sram", "write")] += P * z_bits
    return h.totals()


@pytest.mark.parametrize("loss", ["least_squares", "logistic", "softmax"])
@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("algorithm", ["sgd", "svrg", "lpsgd", "lpsvrg", "halp"])
def test_float_loop_counts_match_the_hand_count(algorithm, l2, loss):
    model = _model(loss, l2)
    config = TrainConfig(algorithm=algorithm, epochs=EPOCHS, epoch_length=T, batch_size=B, fmt="int8",
                         mu=0.5, data_fmt="int8")
    result = train(model, config)
    assert result.status == "ok"
    low = algorithm in ("lpsgd", "lpsvrg", "halp")
    expected = hand_float(algorithm, loss, bool(l2), 8 if low else 64, 8, random_bits=32 if low else 0)
    assert run_cost(model, config, result).columns() == expected


# random bits per element: r bits in whole 32-bit words; exact probabilities read one word
@pytest.mark.parametrize("rounding, per_element", [("stochastic", 32), ("stochastic:8", 32), ("stochastic:40", 64),
                                                   ("nearest_even", 0)])
@pytest.mark.parametrize("algorithm", ["lpsgd", "halp"])
def test_random_bits_follow_the_rounding(algorithm, rounding, per_element):
    model = _model("least_squares")
    config = TrainConfig(algorithm=algorithm, epochs=EPOCHS, epoch_length=T, batch_size=B, fmt="int8", mu=0.5,
                         rounding=rounding, data_fmt="int8")
    result = train(model, config)
    expected = hand_float(algorithm, "least_squares", False, 8, 8, random_bits=per_element)
    assert run_cost(model, config, result).columns() == expected
    assert expected["random_bits"] == EPOCHS * T * D * per_element


def hand_integer(algorithm: str, loss: str, z_bits: int, x_bits: int, slot_bits: int) -> Hand:
    """The integer inner loop (exact accumulator, l2 = 0), walked by hand."""
    h = Hand()
    C = CLASSES[loss]
    P = D * C
    vr = algorithm in ("lpsvrg", "halp")
    centered = algorithm == "halp"
    linear = loss == "least_squares" and vr
    widths = Counter()  # operand format of the integer dot's multiplies

    def full_gradient():
        for _ in range(N):
            h.ops["fma"] += 2 * P
            h.ops.update(DERIVATIVE[loss])
            h.memory[("dram", "read")] += D * x_bits + 64
            h.memory[("sram", "read")] += P * z_bits
        h.ops["multiply"] += P

    if algorithm == "lpsgd" or algorithm == "lpsvrg":
        full_gradient()
        h.ops["fma"] += P
    for _ in range(EPOCHS):
        if vr:
            if centered:
                h.ops["add"] += P
            full_gradient()
            if not linear:  # the per-row values the float scalar reads
                h.memory[("dram", "write")] += N * C * 64 * (2 if centered else 1)
            h.memory[("sram", "write")] += P * 64 + P * z_bits + (P * 64 if centered else 0)
            if centered:
                h.ops["fma"] += P
            # Gq = round(alpha g~ / s_z): multiply, rounding (add + compare), one random word each
            h.ops["multiply"] += P
            h.ops["add"] += P
            h.ops["compare"] += P
            h.random += 32 * P
            h.memory[("sram", "write")] += P * 32
            if linear and not centered:  # Dref_i = X_i . W~
                for _ in range(N):
                    h.ops["multiply"] += D
                    h.ops["add"] += D
                    widths[f"int{max(x_bits, z_bits)}"] += D
                    h.memory[("dram", "read")] += D * x_bits
                    h.memory[("sram", "read")] += D * z_bits
                h.memory[("dram", "write")] += N * 64
        for _ in range(T):
            for _ in range(B):
                h.ops["multiply"] += P  # X_i . Z[:, c] for each class
                h.ops["add"] += P
                widths[f"int{max(x_bits, z_bits)}"] += P
                if linear:
                    if not centered:
                        h.ops["add"] += 1  # D - Dref
                        h.memory[("dram", "read")] += 64
                    h.ops["multiply"] += 1  # * c
                else:
                    h.ops["fma" if centered else "multiply"] += C  # margins from D
                    h.ops.update(DERIVATIVE[loss])
                    if vr:
                        h.ops["add"] += C
                    h.ops["multiply"] += C  # * kappa
                    h.memory[("dram", "read")] += 64 + (C * 64 if vr else 0) + (C * 64 if centered else 0)
                h.ops["add"] += C  # A: rounding and saturation
                h.ops["compare"] += C
                h.random += 32 * C
                h.ops["multiply"] += P  # x_b A_b^T
                h.ops["add"] += P
                h.memory[("dram", "read")] += D * x_bits
                h.memory[("sram", "read")] += P * z_bits
            if vr:
                h.ops["add"] += P  # - Gq
                h.memory[("sram", "read")] += P * 32
            h.ops["add"] += P  # Z 2**K - total
            h.ops["add"] += P  # rounding
            h.ops["compare"] += P
            h.random += P * slot_bits
            h.memory[("sram", "read")] += P * z_bits
            h.memory[("sram", "write")] += P * z_bits
    h.widths = widths
    return h


@pytest.mark.parametrize("engine", ["fast", "exact"])
@pytest.mark.parametrize("loss", ["least_squares", "logistic", "softmax"])
@pytest.mark.parametrize("algorithm", ["lpsgd", "lpsvrg", "halp"])
def test_integer_loop_counts_match_the_hand_count(algorithm, loss, engine):
    model = _model(loss)
    config = TrainConfig(algorithm=algorithm, epochs=EPOCHS, epoch_length=T, batch_size=B, fmt="int6", mu=0.5,
                         data_fmt="int8", arithmetic="integer", engine=engine)
    result = train(model, config)
    assert result.status == "ok"
    hand = hand_integer(algorithm, loss, 6, 8, slot_bits=16)  # K capped at 16: 16-bit slots
    cost = run_cost(model, config, result)
    assert cost.columns() == hand.totals()
    # the dot's multiplies are priced at the wider operand (int8) into the exact sum's width:
    # the largest sum of 2 products of 8 x 6 bits is 2 * (-128 * -32) = 8192 = 2**13, which a signed
    # register holds with 15 bits (up to 2**14 - 1)
    dot_multiplies = {(op, reg): n for kind, op, reg, n in cost.ops if kind == "multiply" and op == "int8"}
    assert dot_multiplies == {("int8", "int15"): hand.widths["int8"]}


def _both_engines(config_kwargs: dict, kind: str = "least_squares") -> list[Cost]:
    model = _model(kind)
    costs = []
    for engine in ("fast", "exact"):
        config = TrainConfig(engine=engine, **config_kwargs)
        costs.append(run_cost(model, config, train(model, config)))
    return costs


@pytest.mark.parametrize("algorithm, arithmetic", [(a, "float") for a in ("sgd", "svrg", "lpsgd", "lpsvrg", "halp")]
                         + [(a, "integer") for a in ("lpsgd", "lpsvrg", "halp")])
def test_both_engines_report_identical_counts(algorithm, arithmetic):
    fast, exact = _both_engines(dict(algorithm=algorithm, epochs=2, epoch_length=4, batch_size=3, fmt="int8",
                                     mu=0.5, data_fmt="int8", arithmetic=arithmetic))
    assert fast == exact
    assert fast.count("multiply") > 0


def test_a_converged_run_counts_the_anchor_pass_it_stopped_at():
    """SVRG stops at an anchor whose full gradient is exactly zero: that pass ran, its inner loop did not."""
    dataset = make_dataset("least_squares", n=N, d=D, seed=3, noise=0.0)
    model = make_model("least_squares", attrs_evolve_zero_targets(dataset))
    config = TrainConfig(algorithm="svrg", epochs=3, epoch_length=T, batch_size=B)
    result = train(model, config)
    assert result.status == "converged" and result.epochs_run == 0
    cost = run_cost(model, config, result)
    # one full pass: 2 N D fma, N derivatives (one add each), D multiplies, nothing from an inner step
    assert (cost.count("fma"), cost.count("add"), cost.count("multiply")) == (2 * N * D, N, D)


def attrs_evolve_zero_targets(dataset):
    import attrs
    import numpy as np

    return attrs.evolve(dataset, y=np.zeros_like(dataset.y))


def test_cost_round_trips_through_json():
    model = _model("least_squares")
    config = TrainConfig(algorithm="halp", epochs=1, epoch_length=2, batch_size=2, mu=0.5)
    cost = run_cost(model, config, train(model, config))
    assert Cost.from_json(cost.to_json()) == cost
    assert math.isclose(cost.columns()["bytes_moved"], sum(b for _, _, b in cost.memory) / 8)
