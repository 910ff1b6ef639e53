"""Run a doc's ```python blocks as written, in order, in one namespace (the docs tests share this)."""

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
