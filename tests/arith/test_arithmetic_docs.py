"""docs/arithmetic.md's python blocks run as written, in order, in one namespace, and the doc
names every built-in hardware profile."""

import re
from pathlib import Path

from lpsim.arith import available_profiles, unregister_profile

DOC = Path(__file__).resolve().parents[2] / "docs" / "arithmetic.md"


def test_arithmetic_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.+?)\n```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
    finally:
        if "fp8_acc13_truncating" in available_profiles():
            unregister_profile("fp8_acc13_truncating")
    out = capsys.readouterr().out
    assert "avx2_maddubs_int16" in out and "fixed16_f0_error" in out


def test_doc_lists_every_builtin_profile():
    text = DOC.read_text()
    for name in available_profiles():
        if not name.startswith("test_"):
            assert f"| `{name}` |" in text, name
