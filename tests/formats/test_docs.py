"""Every ```python block of docs/formats.md runs as written, in order, in one namespace."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_formats_doc_examples_run():
    blocks = re.findall(r"```python\n(.+?)\n```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 10
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)


def test_formats_doc_names_every_preset_and_rounding_mode():
    from lpsim.formats import RoundingMode
    from lpsim.formats.presets import PRESETS

    text = DOC.read_text()
    for name in PRESETS:
        assert f"`{name}`" in text, name
    for mode in RoundingMode:
        assert mode.value in text, mode
