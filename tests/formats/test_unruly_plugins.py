"""Plugins that misbehave, installed for real with pip (tests/formats/plugins/lpsim_unruly): one whose
module calls sys.exit, spec parsers that raise, exit or return the wrong type. The CLI, the registry and
a study report each by name and entry point, with no traceback, and the other formats keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest


def lpsim(site, *args, cwd):
    """The lpsim command in a fresh interpreter that sees the distributions installed in ``site`` (a folder,
    or a list of folders in sys.path order)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(map(str, site)) if isinstance(site, list) else str(site)
    return subprocess.run([sys.executable, "-m", "lpsim.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd)


def test_formats_lists_everything_else_when_a_plugin_calls_sys_exit(unruly_plugins, tmp_path):
    result = lpsim(unruly_plugins, "formats", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"binary16", "e4m3", "unrulyok"} <= names and "exitfmt" not in names
    assert "quantized (nearest-even):" in result.stdout
    assert "PluginWarning" in result.stderr and "'exitfmt'" in result.stderr
    assert "lpsim_unruly.exits:FORMAT" in result.stderr and "lpsim-unruly" in result.stderr
    assert "sys.exit(3)" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("spec", "expected"), [
    ("exitfmt", ["'exitfmt' comes from a plugin that failed to load", "lpsim_unruly.exits:FORMAT", "sys.exit(3)"]),
    ("boom8", ["plugin 'boom'", "lpsim_unruly.parsers:raising", "RuntimeError: the boom parser cannot read boom8"]),
    ("quit8", ["plugin 'quit'", "lpsim_unruly.parsers:exiting", "sys.exit(4)"]),
    ("wrong8", ["plugin 'wrong'", "lpsim_unruly.parsers:wrong_type", "returned int, not an lpsim Format"]),
    ("strict_x", ["expected strict<bits>", "plugin 'strict'", "lpsim_unruly.parsers:strict"]),
])
def test_formats_spec_names_the_failing_plugin(unruly_plugins, tmp_path, spec, expected):
    result = lpsim(unruly_plugins, "formats", "--spec", spec, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"lpsim formats: error: format spec {spec!r}" in result.stderr or spec == "exitfmt"
    for text in expected:
        assert text in result.stderr
    assert "lpsim-unruly" in result.stderr and "Traceback" not in result.stderr


def test_well_behaved_plugins_of_the_same_package_still_work(unruly_plugins, tmp_path):
    assert lpsim(unruly_plugins, "formats", "--spec", "strict12", cwd=tmp_path).stdout.startswith(
        "strict12 = fixed12_f0  (FixedPoint, 12 bits)")
    assert lpsim(unruly_plugins, "formats", "--spec", "unrulyok", cwd=tmp_path).stdout.startswith("unrulyok = e5m10")


STUDY = """\
[study]
name = "unruly"

[problem]
n = 16
d = 2

[train]
epochs = 1

[grid]
algorithm = ["lpsgd"]
family = ["format"]
format = [FORMATS]
"""


@pytest.mark.parametrize(("fmt", "expected"), [
    ("exitfmt", ["exitfmt", "lpsim_unruly.exits:FORMAT", "sys.exit(3)"]),
    ("quit8", ["plugin 'quit'", "lpsim_unruly.parsers:exiting", "sys.exit(4)"]),
])
def test_a_study_naming_a_failing_plugin_is_refused_with_its_name(unruly_plugins, tmp_path, fmt, expected):
    study = tmp_path / "unruly.toml"
    study.write_text(STUDY.replace("FORMATS", f'"binary16", "{fmt}"'))
    result = lpsim(unruly_plugins, "run", study, "--out", tmp_path / "out", "--executor", "serial", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "lpsim run: error: " in result.stderr and "[grid] format" in result.stderr
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_a_study_runs_beside_a_plugin_that_calls_sys_exit(unruly_plugins, tmp_path):
    study = tmp_path / "unruly.toml"
    # unrulyok is binary16 under a plugin's name (one canonical spec, so it is not listed beside binary16)
    study.write_text(STUDY.replace("FORMATS", '"unrulyok", "strict8"'))
    result = lpsim(unruly_plugins, "run", study, "--out", tmp_path / "out", "--executor", "serial", "--no-plot",
                   cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "out" / "results.csv").read_text()
    assert "fixed8_f0" in table and "e5m10" in table


def test_in_process_registry_survives_the_unruly_plugins(unruly_plugins, run_python):
    code = textwrap.dedent("""
        import json, warnings
        warnings.simplefilter("ignore")
        from lpsim.formats import available_formats, broken_plugins, get_format
        names = sorted(available_formats())
        errors = {}
        for spec in ("boom8", "quit8", "wrong8", "exitfmt"):
            try:
                get_format(spec)
            except (ValueError, TypeError) as err:
                errors[spec] = [type(err).__name__, str(err)]
        print(json.dumps({"names": names, "errors": errors, "broken": [str(b) for b in broken_plugins()]}))
    """)
    result = run_python(code, unruly_plugins)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "unrulyok" in out["names"] and "exitfmt" not in out["names"]
    assert out["broken"] == [
        "lpsim.formats plugin 'exitfmt' (lpsim_unruly.exits:FORMAT, from lpsim-unruly): it called sys.exit(3)"]
    assert {spec: kind for spec, (kind, _) in out["errors"].items()} == {
        "boom8": "ValueError", "quit8": "ValueError", "wrong8": "TypeError", "exitfmt": "ValueError"}


def test_two_installed_versions_of_a_plugin_with_one_name_are_reported(unruly_plugins, tmp_path):
    # lpsim-twin 1.0 and 2.0 both name a format 'twin', from different modules; importlib.metadata's
    # entry_points() lists only the copy first on sys.path, which hid the other without a word.
    later = unruly_plugins.parent / "site-later"
    result = lpsim([unruly_plugins, later], "formats", "--spec", "twin", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("twin = e5m10")  # 1.0's BINARY16: its folder is first on sys.path
    assert "PluginWarning: two lpsim.formats plugins are named 'twin'" in result.stderr
    assert f"lpsim uses lpsim_twin_one:FORMAT (from lpsim-twin 1.0 in {unruly_plugins})" in result.stderr
    assert f"skips lpsim_twin_two:FORMAT (from lpsim-twin 2.0 in {later})" in result.stderr
    swapped = lpsim([later, unruly_plugins], "formats", "--spec", "twin", cwd=tmp_path)
    assert swapped.stdout.startswith("twin = e4m3_fn") and "lpsim uses lpsim_twin_two:FORMAT" in swapped.stderr
