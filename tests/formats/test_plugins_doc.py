"""docs/plugins.md's code blocks run: 'python' blocks with the example importable from the source tree,
'python install' blocks in an interpreter that has the example installed with its entry points."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lpsim_logformat"
DOC = ROOT / "docs" / "plugins.md"


def blocks(kind: str) -> str:
    found = re.findall(r"^```(python(?: install)?)\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)
    return "\n".join(code for tag, code in found if tag == kind)


def test_doc_has_both_kinds_of_blocks():
    assert blocks("python").count("\n") > 40 and blocks("python install").count("\n") > 8


def test_python_blocks_run(run_python):
    result = run_python(blocks("python"), EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "log8_f3 234.75303506039583" in result.stdout


def test_install_blocks_run(run_python, installed_plugins):
    result = run_python(blocks("python install"), installed_plugins)
    assert result.returncode == 0, result.stderr
    assert "LogFormat log8_f3" in result.stdout
