"""Run a doc's ```python blocks as written, in order, in one namespace (the docs tests share this)."""

import contextlib
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def run_python_blocks(name: str, min_blocks: int = 1) -> dict:
    """Execute every python block of docs/<name>; returns the namespace they ran in."""
    doc = DOCS / name
    blocks = re.findall(r"```python\n(.+?)\n```", doc.read_text(), flags=re.S)
    assert len(blocks) >= min_blocks, f"{name}: expected at least {min_blocks} python blocks, found {len(blocks)}"
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{doc.name}[block {i}]", "exec"), namespace)
    return namespace


@contextlib.contextmanager
def default_engine(engine: str):
    """Within the block, the public codec and ops functions default to ``engine``: a docs example
    that leaves ``engine`` out runs on that engine, one that names an engine keeps it. The keyword
    default lives on the function object, so every way a block imports the function sees it."""
    from lpsim import codec, ops

    functions = [f for module in (codec, ops) for f in vars(module).values()
                 if callable(f) and "engine" in (getattr(f, "__kwdefaults__", None) or {})]
    saved = [f.__kwdefaults__["engine"] for f in functions]
    for f in functions:
        f.__kwdefaults__["engine"] = codec.check_engine(engine)
    try:
        yield
    finally:
        for f, old in zip(functions, saved):
            f.__kwdefaults__["engine"] = old
