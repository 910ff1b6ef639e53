"""The package's imports run one way: no circles, no arrow from a lower layer to a higher one.

The layer order is written once, in the README's "Layout" table (top row = lowest layer);
this test reads it, reads the imports of every module under lpsim/ with ``ast`` (module
level and inside functions, absolute and relative) and checks them against it. A module
in no row of the table fails too, so a new package must say where it sits.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "lpsim"

# (importer, imported) pairs that break a rule today and are being fixed elsewhere. Each entry
# must still exist (the test below fails once it is gone, so the entry gets dropped).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


# -- reading imports --------------------------------------------------------------------------------
def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (a folder under ``root``) by dotted name."""
    return {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` denotes: itself, or its longest prefix that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """importer -> the package's modules it imports, anywhere in its body.

    ``from a.b import c`` imports module ``a.b.c`` when that is a module, else ``a.b`` (a name
    defined there). The parent packages Python also initializes on the way are not edges:
    every package that re-exports its submodules would otherwise be a circle.
    """
    modules = package_modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            for target in targets:
                if target == package or target.startswith(package + "."):
                    resolved = _known(target, modules)
                    if resolved is not None and resolved != name:
                        found.add(resolved)
        graph[name] = found
    return graph


# -- the rules --------------------------------------------------------------------------------------
def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The row of the layout table that holds ``module`` (the longest matching entry wins)."""
    best, best_len = None, -1
    for row, entries in enumerate(layers):
        for entry in entries:
            if _covers(entry, module) and len(entry) > best_len:
                best, best_len = row, len(entry)
    return best


def _covers(entry: str, module: str) -> bool:
    if entry.endswith("."):  # a folder: the package and everything below it
        return module == entry[:-1] or module.startswith(entry)
    return module == entry


def upward_imports(graph: dict[str, set[str]], layers: list[list[str]]) -> list[tuple[str, str]]:
    return sorted((src, dst) for src, targets in graph.items() for dst in targets
                  if layer_of(src, layers) < layer_of(dst, layers))


def private_kernel_imports(graph: dict[str, set[str]], package: str) -> list[tuple[str, str]]:
    """Imports of a private ``PACKAGE.fast._*kernels`` module from outside ``PACKAGE.fast``."""
    fast = f"{package}.fast"
    kernel = re.compile(rf"^{re.escape(fast)}\._\w*kernels$")
    return sorted((src, dst) for src, targets in graph.items() for dst in targets
                  if kernel.match(dst) and not (src == fast or src.startswith(fast + ".")))


def readme_layers(text: str) -> list[list[str]]:
    """The README layout table's rows, lowest layer first, each as module names: ``lpsim.rng``
    for a file, ``lpsim.formats.`` (trailing dot: the package and all below) for a folder."""
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    layers = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        entries = []
        for path in re.findall(r"`([^`]+)`", cell):
            if path.endswith("/"):
                entries.append(path.rstrip("/").replace("/", ".") + ".")
            elif path.endswith("/__init__.py"):
                entries.append(path[: -len("/__init__.py")].replace("/", "."))
            else:
                entries.append(path.removesuffix(".py").replace("/", "."))
        layers.append(entries)
    return layers


def violations(root: Path, package: str, layers: list[list[str]]) -> dict[str, list]:
    graph = import_graph(root, package)
    return {
        "outside the layout table": sorted(m for m in graph if layer_of(m, layers) is None),
        "circles": import_circles(graph),
        "upward": [] if any(layer_of(m, layers) is None for m in graph) else upward_imports(graph, layers),
        "private kernels": private_kernel_imports(graph, package),
    }


# -- lpsim itself -------------------------------------------------------------------------------------
LAYERS = readme_layers((ROOT / "README.md").read_text())


def test_the_layout_table_names_real_modules():
    modules = package_modules(ROOT, PACKAGE)
    for entries in LAYERS:
        for entry in entries:
            assert entry.rstrip(".") in modules, f"README layout table: {entry!r} is not a module of lpsim"


@pytest.mark.parametrize("rule", ["outside the layout table", "circles", "upward", "private kernels"])
def test_lpsim_follows_its_layers(rule):
    found = violations(ROOT, PACKAGE, LAYERS)[rule]
    if rule in ("upward", "private kernels"):
        found = [edge for edge in found if edge not in KNOWN_VIOLATIONS]
    assert found == [], f"{rule}: {found}"


def test_known_violations_still_exist():
    graph = import_graph(ROOT, PACKAGE)
    gone = [edge for edge in KNOWN_VIOLATIONS if edge[1] not in graph.get(edge[0], set())]
    assert gone == [], f"fixed, so drop them from KNOWN_VIOLATIONS: {gone}"


# -- the checker catches what it should (a tiny package written for the test) --------------------------
def _package(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


TINY_LAYERS = [["pkg.low."], ["pkg.fast."], ["pkg.high.", "pkg"]]


def test_checker_accepts_a_clean_package(tmp_path):
    _package(tmp_path, {
        "pkg/__init__.py": "from .high import run\n",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "import math\n",
        "pkg/low/b.py": "from . import a\n",
        "pkg/fast/__init__.py": "from ._xkernels import k\n",
        "pkg/fast/_xkernels.py": "from ..low import b\nk = 1\n",
        "pkg/high/__init__.py": "from .run import run\n",
        "pkg/high/run.py": "from ..fast import k\nfrom pkg.low.a import math\n\ndef run():\n    from ..low import b\n",
    })
    assert violations(tmp_path, "pkg", TINY_LAYERS) == {
        "outside the layout table": [], "circles": [], "upward": [], "private kernels": []}


def test_checker_finds_a_circle_through_a_function_level_relative_import(tmp_path):
    _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/spec.py": "from .runner import go\n",
        "pkg/low/runner.py": "from . import table\n\ndef go():\n    pass\n",
        "pkg/low/table.py": "def write():\n    from .store import save\n",
        "pkg/low/store.py": "from pkg.low.spec import go\n",
    })
    found = violations(tmp_path, "pkg", TINY_LAYERS)
    assert found["circles"] == [["pkg.low.runner", "pkg.low.spec", "pkg.low.store", "pkg.low.table"]]
    assert found["upward"] == []


def test_checker_finds_an_upward_import_and_a_private_kernel_import(tmp_path):
    _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/driver.py": "def draw():\n    from ..high import plot\n",
        "pkg/fast/__init__.py": "",
        "pkg/fast/_halp_kernels.py": "",
        "pkg/high/__init__.py": "",
        "pkg/high/plot.py": "import pkg.fast._halp_kernels as kernels\n",
    })
    found = violations(tmp_path, "pkg", TINY_LAYERS)
    assert found["upward"] == [("pkg.low.driver", "pkg.high.plot")]
    assert found["private kernels"] == [("pkg.high.plot", "pkg.fast._halp_kernels")]
    assert found["circles"] == []


def test_checker_finds_a_module_outside_the_table(tmp_path):
    _package(tmp_path, {"pkg/__init__.py": "", "pkg/low/__init__.py": "", "pkg/extra.py": "from .low import x\n"})
    assert violations(tmp_path, "pkg", TINY_LAYERS)["outside the layout table"] == ["pkg.extra"]


def test_readme_layers_reads_files_folders_and_package_inits():
    text = ("## Layout\n\n| package | job |\n|---|---|\n| `lpsim/formats/` | formats |\n"
            "| `lpsim/__init__.py`, `lpsim/codec.py` | public |\n\n## Next\n| `lpsim/x/` | not read |\n")
    assert readme_layers(text) == [["lpsim.formats."], ["lpsim", "lpsim.codec"]]
