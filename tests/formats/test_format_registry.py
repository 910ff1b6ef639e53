"""Names: built-ins, register_format, and entry-point plugins discovered from installed metadata."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import lpsim
from lpsim.formats import (
    BINARY16,
    E4M3,
    FixedPoint,
    FloatFormat,
    PluginWarning,
    available_formats,
    broken_plugins,
    get_format,
    register_format,
    register_spec_parser,
    unregister_format,
)
from lpsim.formats import plugins

# -- built-in names and register_format ------------------------------------------------


def test_builtin_names_are_case_insensitive_and_formats_pass_through():
    assert get_format("Binary16") is BINARY16
    assert get_format(" E4M3 ") is E4M3
    assert get_format(E4M3) is E4M3


def test_codec_accepts_names_and_specs():
    x = np.array([0.1, -1.3, 3.14159])
    assert np.array_equal(lpsim.quantize(x, "q1.7", engine="exact"), lpsim.quantize(x, FixedPoint.q(1, 7), engine="exact"))
    assert np.array_equal(lpsim.quantize(x, "e4m3", engine="exact"), lpsim.quantize(x, E4M3, engine="exact"))


def test_register_format_instance_and_factory(clean_registry):
    fmt = FloatFormat(exp_bits=6, man_bits=5)
    register_format("My_FP12", fmt)
    assert get_format("my_fp12") is fmt
    calls = []

    def factory():
        calls.append(1)
        return FixedPoint(bits=10, frac_bits=4)

    register_format("fx10", factory)
    assert calls == []  # called on lookup, not at registration
    assert get_format("FX10") == FixedPoint(bits=10, frac_bits=4)
    listed = available_formats()
    assert listed["my_fp12"] is fmt and listed["fx10"] == FixedPoint(bits=10, frac_bits=4)
    assert listed["binary16"] is BINARY16
    unregister_format("my_fp12")
    with pytest.raises(ValueError, match="unknown format 'my_fp12'"):
        get_format("my_fp12")


@pytest.mark.parametrize("name, message", [
    ("binary16", "built-in format name"),
    ("E4M3", "built-in format name"),
    ("e6m5", "built-in format spec"),
    ("q1.7", "built-in format spec"),
    ("", "must be lowercase letters, digits"),
    ("my fmt", "must be lowercase letters, digits"),
])
def test_register_format_rejects_taken_names(clean_registry, name, message):
    with pytest.raises(ValueError, match=message):
        register_format(name, BINARY16)


def test_register_format_collisions_and_replace(clean_registry):
    register_format("mine", BINARY16)
    with pytest.raises(ValueError, match="already registered"):
        register_format("MINE", E4M3)
    register_format("mine", E4M3, replace=True)
    assert get_format("mine") is E4M3
    with pytest.raises(ValueError, match="was not registered"):
        unregister_format("binary16")


def test_register_format_checks_types(clean_registry):
    with pytest.raises(TypeError, match="fmt_or_factory must be an lpsim Format"):
        register_format("x1", "e4m3")
    with pytest.raises(TypeError, match="format name must be a string"):
        register_format(3, BINARY16)
    register_format("x2", lambda: "not a format")
    with pytest.raises(TypeError, match="returned str, not an lpsim Format"):
        get_format("x2")


def test_a_name_that_only_looks_like_a_spec_is_allowed(clean_registry):
    register_format("e4m3_custom", BINARY16)  # not a valid spec, so it shadows nothing
    assert get_format("e4m3_custom") is BINARY16


def test_spec_parser_registration(clean_registry, logformat):
    register_spec_parser("log", logformat.parse_spec)
    assert get_format("log6_f2") == logformat.LogFormat(bits=6, frac_bits=2)
    with pytest.raises(ValueError, match="expected log<bits>_f<frac bits>"):
        get_format("log6")
    with pytest.raises(ValueError, match="belongs to the built-in grammar"):
        register_spec_parser("fixed", logformat.parse_spec)
    with pytest.raises(ValueError, match="already registered"):
        register_spec_parser("LOG", logformat.parse_spec)


# -- plugins from installed metadata (real importlib.metadata discovery) ------------------

GOOD = {
    "goodplug": """
        from lpsim.formats import FixedPoint, FloatFormat
        FP12 = FloatFormat(exp_bits=6, man_bits=5)
        IMPORTS = [1]
        def make_q3():
            return FixedPoint.q(1, 2)
    """,
}


def test_plugin_formats_are_found_lazily_and_cached(site, write_distribution):
    write_distribution(site, "goodplug", {"lpsim.formats": {"FP12": "goodplug:FP12", "q3plug": "goodplug:make_q3"}}, GOOD)
    assert "goodplug" not in sys.modules
    assert get_format("binary16") is BINARY16  # built-in names never touch plugins
    assert plugins._entries == {}
    assert get_format("fp12") == FloatFormat(exp_bits=6, man_bits=5)
    import goodplug

    assert get_format("fp12") is goodplug.FP12
    assert get_format("q3plug") == FixedPoint(bits=3, frac_bits=2)
    assert get_format("q3plug") is get_format("q3plug")  # the factory ran once
    listed = available_formats()
    assert listed["fp12"] is goodplug.FP12 and "binary16" in listed
    assert broken_plugins() == []


BROKEN = {
    "brokenimport": "import lpsim_no_such_module\n",
    "brokenobjects": """
        from lpsim.formats import BINARY16
        NOT_A_FORMAT = 42
        def raising():
            raise RuntimeError("factory exploded")
        def wrong_result():
            return "binary16"
        FINE = BINARY16
    """,
}


def test_broken_plugins_are_skipped_and_reported_once(site, write_distribution):
    write_distribution(site, "brokenplug", {
        "lpsim.formats": {
            "badimport": "brokenimport:FMT",
            "badobject": "brokenobjects:NOT_A_FORMAT",
            "badfactory": "brokenobjects:raising",
            "badresult": "brokenobjects:wrong_result",
            "badattr": "brokenobjects:MISSING",
            "binary16": "brokenobjects:FINE",
            "e5m2_fn": "brokenobjects:FINE",
            "finefmt": "brokenobjects:FINE",
        },
    }, BROKEN)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = available_formats()
        assert listed["finefmt"] is BINARY16 and listed["binary16"] is BINARY16
        assert get_format("e5m2_fn") == FloatFormat(exp_bits=5, man_bits=2, specials="fn")  # the spec, not the plugin
        again = available_formats()
    assert again.keys() == listed.keys()
    names = {w.message.args[0].split("'")[1] for w in caught if issubclass(w.category, PluginWarning)}
    assert names == {"badimport", "badobject", "badfactory", "badresult", "badattr", "binary16", "e5m2_fn"}
    assert len([w for w in caught if issubclass(w.category, PluginWarning)]) == 7  # once each
    reports = {b.name: b for b in broken_plugins()}
    assert set(reports) == names
    assert "ModuleNotFoundError" in reports["badimport"].error and "lpsim_no_such_module" in reports["badimport"].error
    assert "got 42" in reports["badobject"].error
    assert "RuntimeError: factory exploded" in reports["badfactory"].error
    assert "returned str" in reports["badresult"].error
    assert "AttributeError" in reports["badattr"].error
    assert "built-in format name" in reports["binary16"].error
    assert "built-in format spec" in reports["e5m2_fn"].error
    assert all(b.distribution == "brokenplug" for b in reports.values())
    assert "badimport" in str(reports["badimport"]) and "brokenimport:FMT" in str(reports["badimport"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        with pytest.raises(ValueError, match="'badfactory' comes from a plugin that failed to load.*factory exploded"):
            get_format("badfactory")
    assert get_format("e4m3") is E4M3 and get_format("finefmt") is BINARY16


def test_duplicate_plugin_names_keep_the_first(site, write_distribution):
    write_distribution(site, "plugone", {"lpsim.formats": {"dup": "plugone:F"}},
                       {"plugone": "from lpsim.formats import BINARY16 as F\n"})
    write_distribution(site, "plugtwo", {"lpsim.formats": {"dup": "plugtwo:F"}},
                       {"plugtwo": "from lpsim.formats import E4M3 as F\n"})
    with pytest.warns(PluginWarning, match="two lpsim.formats plugins are named 'dup'") as caught:
        fmt = get_format("dup")
    message = str(caught[0].message)
    assert "plugone:F (from plugone 0.1 in " in message and "plugtwo:F (from plugtwo 0.1 in " in message
    used = message.split("lpsim uses ")[1].split(":")[0]
    assert fmt == {"plugone": BINARY16, "plugtwo": E4M3}[used]
    skipped = {"plugone", "plugtwo"} - {used}
    assert [(b.name, b.distribution) for b in broken_plugins()] == [("dup", skipped.pop())]


def test_two_installed_copies_of_one_distribution_are_reported(site, write_distribution, tmp_path, monkeypatch):
    # Two versions of one distribution on sys.path: importlib.metadata.entry_points() shows only the first.
    write_distribution(site, "twinplug", {"lpsim.formats": {"twin": "twinold:F"}},
                       {"twinold": "from lpsim.formats import BINARY16 as F\n"})
    later = tmp_path / "later-site"
    later.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(later)])
    write_distribution(later, "twinplug", {"lpsim.formats": {"twin": "twinnew:F"}},
                       {"twinnew": "from lpsim.formats import E4M3 as F\n"})
    with pytest.warns(PluginWarning, match="two lpsim.formats plugins are named 'twin'") as caught:
        assert get_format("twin") == BINARY16  # the copy first on sys.path
    message = str(caught[0].message)
    assert f"lpsim uses twinold:F (from twinplug 0.1 in {site})" in message
    assert f"skips twinnew:F (from twinplug 0.1 in {later})" in message


def test_one_copy_seen_twice_is_not_a_duplicate(site, write_distribution, monkeypatch):
    write_distribution(site, "onceplug", {"lpsim.formats": {"once": "onceplug:F"}},
                       {"onceplug": "from lpsim.formats import BINARY16 as F\n"})
    monkeypatch.syspath_prepend(str(site))  # the same folder twice on sys.path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_format("once") == BINARY16
    assert broken_plugins() == []


def test_register_format_refuses_plugin_names(site, write_distribution):
    write_distribution(site, "goodplug", {"lpsim.formats": {"fp12": "goodplug:FP12"}}, GOOD)
    with pytest.raises(ValueError, match="provided by plugin goodplug:FP12 from goodplug"):
        register_format("FP12", BINARY16)


def test_spec_parser_plugins(site, logformat, write_distribution):
    write_distribution(site, "specplug", {
        "lpsim.format_specs": {"log": "lpsim_logformat:parse_spec", "fixed": "lpsim_logformat:parse_spec",
                               "bad": "specplug:NOT_CALLABLE"},
    }, {"specplug": "NOT_CALLABLE = 3\n"})
    with pytest.warns(PluginWarning) as caught:
        assert get_format("log10_f4_error") == logformat.LogFormat(bits=10, frac_bits=4, overflow="error")
        problems = {b.name: b.error for b in broken_plugins()}
    assert problems.keys() == {"fixed", "bad"}
    assert "built-in grammar" in problems["fixed"] and "must be a callable" in problems["bad"]
    assert len(caught) == 2
    with pytest.raises(ValueError, match="specs starting with 'bad' come from a plugin that failed to load"):
        get_format("bad7")
