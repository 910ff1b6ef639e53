"""Plugins installed for real: pip installs the example and a broken plugin into a directory, and a
fresh interpreter that sees that directory finds them through their entry points."""

from __future__ import annotations

import json

import numpy as np

import lpsim

SCRIPT = """
import json, warnings
import numpy as np

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import lpsim
    from lpsim.formats import available_formats, broken_plugins, get_format

    fmt = get_format("LOG8")
    x = np.array(VALUES)
    exact = lpsim.quantize(x, "log8", engine="exact")
    fast_first = lpsim.quantize(x, fmt, engine="fast")
    fast_again = lpsim.quantize(x, "log8", engine="fast")
    names = sorted(available_formats())
    broken = [[b.name, b.distribution, b.error] for b in broken_plugins()]
    try:
        get_format("brokenlog")
        lookup_error = None
    except ValueError as err:
        lookup_error = str(err)
    result = {
        "module": type(fmt).__module__, "file": __import__(type(fmt).__module__).__file__,
        "spec": fmt.spec, "spec_round_trip": get_format(fmt.spec) == fmt,
        "log16": get_format("log16").spec, "parsed": get_format("log12_f5").spec,
        "exact": exact.tolist(), "fast_first": fast_first.tolist(), "fast_again": fast_again.tolist(),
        "binary16": lpsim.quantize(0.1, "binary16", engine="exact"),
        "names": names, "broken": broken, "lookup_error": lookup_error,
    }
result["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
print(json.dumps(result))
"""

VALUES = [0.1, -1.3, 3.14159, 1000.0, 1e-5, -0.0, 0.75]


def test_installed_plugins_work_and_a_broken_one_is_skipped(installed_plugins, run_python, logformat):
    result = run_python(SCRIPT.replace("VALUES", repr(VALUES)), installed_plugins)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    # The format came from the installed copy, found by its entry point name.
    assert out["module"] == "lpsim_logformat.format"
    assert out["file"].startswith(str(installed_plugins))
    assert out["spec"] == "log8_f3" and out["spec_round_trip"]
    assert out["log16"] == "log16_f8" and out["parsed"] == "log12_f5"
    expected = lpsim.quantize(np.array(VALUES), logformat.LOG8, engine="exact")
    assert out["exact"] == expected.tolist()
    assert out["fast_first"] == out["exact"] and out["fast_again"] == out["exact"]

    # Without kernels the fast engine fell back to the exact one, saying so once.
    fallback = [m for c, m in out["warnings"] if c == "FastEngineFallbackWarning"]
    assert len(fallback) == 1 and "LogFormat" in fallback[0]

    # The broken plugin: skipped, named once with its error, and the rest of the registry works.
    assert {"log8", "log16", "binary16", "e4m3"} <= set(out["names"]) and "brokenlog" not in out["names"]
    assert out["broken"] == [[
        "brokenlog", "lpsim-brokenplugin", "ModuleNotFoundError: No module named 'lpsim_module_that_does_not_exist'",
    ]]
    plugin_warnings = [m for c, m in out["warnings"] if c == "PluginWarning"]
    assert len(plugin_warnings) == 1
    assert "'brokenlog'" in plugin_warnings[0] and "lpsim_module_that_does_not_exist" in plugin_warnings[0]
    assert "brokenlog" in out["lookup_error"] and "failed to load" in out["lookup_error"]
    assert out["binary16"] == float(np.float16(0.1))
    assert len(out["warnings"]) == 2, out["warnings"]
