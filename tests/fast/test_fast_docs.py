"""docs/performance.md, section "Codec kernels": its python blocks run as written."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def test_codec_kernels_section_examples_run():
    section = DOC.read_text().split("## Codec kernels", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.+?)\n```", section, flags=re.S)
    assert blocks
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[codec block {i}]", "exec"), namespace)
