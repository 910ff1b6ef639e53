"""The codes kernels compare against come from the enums, and the disk cache notices when they change."""

import enum
import types

import pytest

from lpsim.arith import Order, RegisterKind
from lpsim.fast import _arith_kernels, _codec_kernels, _codes, _config, _halp_kernels, _rng_kernels, _round_kernels
from lpsim.formats import Overflow, RoundingMode, Specials
from lpsim.formats.rounding import RandomGenerator
from lpsim.formats.coded_enum import CodedEnum

CODED = (RoundingMode, Overflow, Specials, RegisterKind, Order, RandomGenerator)
KERNEL_MODULES = (_round_kernels, _codec_kernels, _arith_kernels, _halp_kernels, _rng_kernels)


@pytest.mark.parametrize("enum_type", CODED, ids=lambda e: e.__name__)
def test_codes_are_the_definition_order(enum_type):
    assert issubclass(enum_type, CodedEnum)
    assert [member.code for member in enum_type] == list(range(len(enum_type)))


def test_a_new_coded_enum_numbers_its_members():
    Colour = CodedEnum("Colour", ["RED", "GREEN", "BLUE"])
    assert [c.code for c in Colour] == [0, 1, 2]
    assert not hasattr(enum.Enum("Plain", ["A"]).A, "code")


def test_every_kernel_constant_is_its_enum_code():
    expected = {}
    for enum_type, prefix in ((RoundingMode, ""), (Overflow, ""), (Specials, ""), (RegisterKind, "KIND_"), (Order, ""),
                               (RandomGenerator, "GEN_")):
        for member in enum_type:
            expected[prefix + member.name] = member.code
    table = dict(_codes.CODE_TABLE)
    assert table and all(expected[name] == value for name, value in table.items())
    for module in KERNEL_MODULES:
        for name, value in table.items():
            if hasattr(module, name):
                assert getattr(module, name) == value, f"{module.__name__}.{name}"


def test_changed_codes_drop_the_cached_kernels(tmp_path, monkeypatch):
    dispatcher = types.SimpleNamespace(_cache=types.SimpleNamespace(_cache_path=str(tmp_path)))
    cached = tmp_path / "kernel.nbi"
    cached.write_bytes(b"old")
    assert _config.drop_stale_cache(dispatcher)  # no stamp yet
    assert not cached.exists()
    cached.write_bytes(b"compiled with the current codes")
    assert not _config.drop_stale_cache(dispatcher)
    assert cached.exists()
    renumbered = tuple((name, value + 1) for name, value in _codes.CODE_TABLE)
    monkeypatch.setattr(_config, "CODE_TABLE", renumbered)
    assert _config.drop_stale_cache(dispatcher)
    assert not cached.exists()
