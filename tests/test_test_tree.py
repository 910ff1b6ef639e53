"""The test tree mirrors the package: one folder under tests/ per package (or top-level module)
of lpsim, so the tests of a piece of code are found where the code lives.

Tests that span several packages (every engine against every operation, the import layers, the
names that must agree, the README and docs commands) are the top-level ``tests/test_*.py``
files, not folders. Every test folder is a Python package (``tests/__init__.py`` too), so test
modules are imported as ``tests.<folder>.<module>``: two folders may hold files of the same
name, and helpers are imported relatively (``from .strategies import ...``,
``from ..doc_examples import ...``). Deeper folders hold fixture data only (the plugin projects
in tests/formats/plugins), never tests.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Folders under tests/ that match no package, each with the reason it exists. Keep it short: a
# test of one package belongs in that package's folder, a test of several at the top level.
CROSS_CUTTING: dict[str, str] = {}


def _is_test_module(path: Path) -> bool:
    return path.suffix == ".py" and (path.name.startswith("test_") or path.name == "conftest.py")


def tree_problems(tests: Path, package: Path, cross_cutting: dict[str, str] = CROSS_CUTTING) -> list[str]:
    """What keeps ``tests`` from mirroring ``package``: folders that match no subpackage or
    top-level module, test folders that are not Python packages, tests below the first level."""
    targets = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    targets |= {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
    problems = []
    if not (tests / "__init__.py").exists():
        problems.append(f"{tests.name}/ has no __init__.py")
    for folder in sorted(p for p in tests.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))):
        name = f"{tests.name}/{folder.name}"
        if folder.name not in targets and folder.name not in cross_cutting:
            problems.append(f"{name}/ matches no package or module of {package.name}/ "
                            f"(move its tests to where the code they test lives)")
        if not (folder / "__init__.py").exists():
            problems.append(f"{name}/ has no __init__.py")
        for nested in sorted(folder.rglob("*.py")):
            if nested.parent != folder and _is_test_module(nested):
                problems.append(f"{nested.relative_to(tests.parent)} is a test below {name}/ (one level only)")
    return problems


def test_the_test_tree_mirrors_the_package():
    assert tree_problems(ROOT / "tests", ROOT / "lpsim") == []


def test_cross_cutting_folders_exist():
    missing = [name for name in CROSS_CUTTING if not (ROOT / "tests" / name).is_dir()]
    assert missing == [], f"listed as cross-cutting but gone: {missing}"


def _layout(root: Path, files: list[str]) -> Path:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


def test_checker_accepts_a_mirror_and_fixture_data_below_it(tmp_path):
    _layout(tmp_path, ["pkg/__init__.py", "pkg/fast/__init__.py", "pkg/cli.py",
                       "tests/__init__.py", "tests/fast/__init__.py", "tests/fast/test_a.py",
                       "tests/cli/__init__.py", "tests/cli/conftest.py",
                       "tests/fast/plugins/project/module.py"])
    assert tree_problems(tmp_path / "tests", tmp_path / "pkg") == []


def test_checker_finds_a_folder_that_matches_no_package(tmp_path):
    _layout(tmp_path, ["pkg/__init__.py", "pkg/fast/__init__.py", "pkg/data/readme.txt",
                       "tests/__init__.py", "tests/fast_arith/__init__.py", "tests/fast_arith/test_a.py",
                       "tests/data/__init__.py"])
    problems = tree_problems(tmp_path / "tests", tmp_path / "pkg")
    assert len(problems) == 2 and all("matches no package" in p for p in problems), problems
    assert tree_problems(tmp_path / "tests", tmp_path / "pkg",
                              {"fast_arith": "why", "data": "why"}) == []


def test_checker_finds_missing_inits_and_nested_tests(tmp_path):
    _layout(tmp_path, ["pkg/__init__.py", "pkg/fast/__init__.py",
                       "tests/fast/test_a.py", "tests/fast/deeper/test_b.py"])
    problems = tree_problems(tmp_path / "tests", tmp_path / "pkg")
    assert problems == ["tests/ has no __init__.py", "tests/fast/ has no __init__.py",
                        "tests/fast/deeper/test_b.py is a test below tests/fast/ (one level only)"]
