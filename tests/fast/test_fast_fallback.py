"""One fallback warning and one identity cache for the whole fast engine."""

import gc
import warnings
import weakref

from lpsim.fast import FastArithmeticFallbackWarning, FastEngineFallbackWarning, _memo, fallback
from lpsim.fast._memo import by_identity


def test_arithmetic_fallbacks_are_fast_engine_fallbacks():
    assert issubclass(FastArithmeticFallbackWarning, FastEngineFallbackWarning)


def test_warn_once_per_kind(monkeypatch):
    monkeypatch.setattr(fallback, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            fallback.warn_once("kind a", "a falls back")
            fallback.warn_once(int, "int falls back", FastArithmeticFallbackWarning)
    assert [(w.category, str(w.message)) for w in caught] == [
        (FastEngineFallbackWarning, "a falls back"), (FastArithmeticFallbackWarning, "int falls back")]
    assert caught[0].filename == __file__  # stacklevel 1 points at the caller of warn_once


class _Format:
    """A stand-in for a format: compared by value, looked up by identity."""

    def __init__(self, spec):
        self.spec = spec

    def __eq__(self, other):
        return isinstance(other, _Format) and other.spec == self.spec

    __hash__ = None  # like a costly hash: by_identity must not need it


def _build(fmt, extra):
    _build.calls.append((fmt.spec, extra))
    return ("params", fmt.spec)


def test_by_identity_builds_once_per_object(monkeypatch):
    monkeypatch.setattr(_memo, "_ENTRIES", {})
    _build.calls = []
    fmt = _Format("int8")
    first = by_identity(_build, fmt, extra=(1,))
    assert by_identity(_build, fmt, extra=(2,)) is first  # extra is not part of the key
    assert _build.calls == [("int8", 1)]
    assert by_identity(_build, _Format("int8"), extra=(3,)) == first  # an equal object: built again
    assert _build.calls == [("int8", 1), ("int8", 3)]


def test_by_identity_keeps_its_keys_alive(monkeypatch):
    monkeypatch.setattr(_memo, "_ENTRIES", {})
    _build.calls = []
    fmt = _Format("int4")
    alive = weakref.ref(fmt)
    by_identity(_build, fmt, extra=(0,))
    del fmt
    gc.collect()
    assert alive() is not None  # its id cannot be reused by another object while the entry exists


def test_by_identity_starts_over_when_full(monkeypatch):
    monkeypatch.setattr(_memo, "_ENTRIES", {})
    monkeypatch.setattr(_memo, "_LIMIT", 2)
    _build.calls = []
    formats = [_Format(f"f{i}") for i in range(3)]
    for fmt in formats:
        by_identity(_build, fmt, extra=(0,))
    assert len(_memo._ENTRIES) == 1
    by_identity(_build, formats[0], extra=(0,))  # forgotten: built again
    assert [spec for spec, _ in _build.calls] == ["f0", "f1", "f2", "f0"]
