"""Fixtures for registry and plugin tests: the example plugin, fake installed distributions, pip installs."""

from __future__ import annotations

import fcntl
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lpsim.formats import registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lpsim_logformat"
UNRULY = Path(__file__).resolve().parent / "plugins" / "lpsim_unruly"


@pytest.fixture(scope="session")
def logformat():
    """The example plugin package imported from the source tree (no entry points: not installed)."""
    sys.path.insert(0, str(EXAMPLE))
    import lpsim_logformat

    return lpsim_logformat


@pytest.fixture
def clean_registry(monkeypatch):
    """A registry with no names registered and no plugins cached, restored afterwards."""
    monkeypatch.setattr(registry, "_registered", {})
    monkeypatch.setattr(registry, "_spec_parsers", {})
    registry.refresh_plugins()
    yield registry
    registry.refresh_plugins()


def _write_distribution(site: Path, name: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]) -> None:
    """Lay out an installed distribution as pip does: modules plus <name>-0.1.dist-info with entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    sections = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(sections))
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def write_distribution():
    return _write_distribution


@pytest.fixture
def site(tmp_path, monkeypatch, clean_registry):
    """A fresh directory on sys.path where tests lay out installed distributions; modules loaded from it are forgotten after."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    before = set(sys.modules)
    yield path
    for module in set(sys.modules) - before:
        if getattr(sys.modules[module], "__file__", None) and str(path) in sys.modules[module].__file__:
            del sys.modules[module]
    importlib.invalidate_caches()


# -- real installs with pip ---------------------------------------------------------

def _one_module_plugin(folder: Path, name: str, version: str, format_name: str, module: str, source: str) -> Path:
    """Lay out the source of a plugin project ``name`` whose one module ``module`` provides format
    ``format_name`` as ``module:FORMAT``; returns the folder, ready for pip."""
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "{version}"

        [project.entry-points."lpsim.formats"]
        {format_name} = "{module}:FORMAT"

        [tool.setuptools]
        py-modules = ["{module}"]
    """))
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


BROKEN_SOURCE = """
    import lpsim_module_that_does_not_exist  # the plugin's dependency is missing

    FORMAT = None
"""


def _builds_wheels_offline() -> bool:
    """setuptools >= 70.1 builds wheels by itself; older versions also need the wheel package."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major_minor = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return major_minor >= (70, 1) or importlib.util.find_spec("wheel") is not None


def pip_install(sources: list[Path], target: Path) -> None:
    """``pip install --no-deps --target`` with this interpreter; offline when it can build wheels itself,
    otherwise with pip's isolated build environment (which fetches setuptools from the package index)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--target", str(target)]
    if _builds_wheels_offline():
        command += ["--no-build-isolation", "--no-index"]
    result = subprocess.run(command + [str(s) for s in sources], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip failed:\n{result.stdout}\n{result.stderr}"


def _installed_once(tmp_path_factory, name: str, install) -> Path:
    """``install(base)`` run once per test run (pytest-xdist workers share it through a lock file); base / "site"."""
    under_xdist = "PYTEST_XDIST_WORKER" in os.environ
    shared = tmp_path_factory.getbasetemp().parent if under_xdist else tmp_path_factory.getbasetemp()
    base = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "done").exists():
            shutil.rmtree(base, ignore_errors=True)
            install(base)
            (base / "done").touch()
    return base / "site"


def _copy_source(source: Path, base: Path) -> Path:
    # Build from copies: setuptools writes build/ and *.egg-info next to the sources.
    copy = base / "src" / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    return copy


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory) -> Path:
    """A directory where pip installed the example plugin and a broken plugin, with real entry points."""
    return _installed_once(tmp_path_factory, "lpsim-plugins", _install_plugins)


def _install_plugins(base: Path) -> None:
    example = _copy_source(EXAMPLE, base)
    broken = _one_module_plugin(base / "src" / "lpsim_brokenplugin", "lpsim-brokenplugin", "0.1.0", "brokenlog",
                                "lpsim_brokenplugin", BROKEN_SOURCE)
    pip_install([example, broken], base / "site")


@pytest.fixture(scope="session")
def unruly_plugins(tmp_path_factory) -> Path:
    """A directory where pip installed tests/formats/plugins/lpsim_unruly (plugins that call sys.exit,
    spec parsers that raise or return the wrong type, one good format) and version 1.0 of lpsim-twin;
    version 2.0 of lpsim-twin, whose format 'twin' lives in another module, is in the sibling "site-later"."""
    return _installed_once(tmp_path_factory, "lpsim-unruly-plugins", _install_unruly)


def _install_unruly(base: Path) -> None:
    pip_install([_copy_source(UNRULY, base), _twin_source(base, "1.0", "lpsim_twin_one", "BINARY16")], base / "site")
    pip_install([_twin_source(base, "2.0", "lpsim_twin_two", "E4M3")], base / "site-later")


def _twin_source(base: Path, version: str, module: str, preset: str) -> Path:
    """Version ``version`` of the distribution lpsim-twin: format 'twin' = ``preset``, from module ``module``."""
    return _one_module_plugin(base / "src" / f"lpsim_twin-{version}", "lpsim-twin", version, "twin", module,
                              f"from lpsim.formats import {preset} as FORMAT\n")


@pytest.fixture
def run_python():
    return _run_python


def _run_python(code: str, site: Path) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (this one) that sees the distributions installed in ``site``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=site)
