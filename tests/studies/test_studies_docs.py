"""docs/studies.md runs as written and documents every parameter; every shipped study is valid,
has its committed figure and its reading."""

import re
import tomllib
from pathlib import Path

import pytest

from lpsim.studies import PARAMS, Study

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "studies.md"
SHIPPED = sorted((ROOT / "studies").glob("*.toml"))


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.+?)\n```", DOC.read_text(), flags=re.S)
    assert blocks
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "10 runs" in out and "10 ran, 0 skipped; ['error_vs_bits.png', 'error_vs_bits.pdf']" in out
    assert "1 ran; [(True, 'is empty')]" in out  # the damaged run file was rerun
    assert "reached floor stalled diverged" in out  # the outcome example judges as it says


def test_doc_lists_every_parameter():
    text = DOC.read_text()
    for name in PARAMS:
        assert f"| `{name}` |" in text, name


def test_the_shipped_studies():
    names = {p.stem for p in SHIPPED}
    assert names == {"error_vs_bits", "convergence_8bit", "bits_vs_condition", "softmax_digits", "rounding",
                     "halp_formats", "energy", "generators", "deep_learning", "deep_learning_bits", "deep_learning_cnn4",
                     "deep_learning_rnn"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_study_is_valid_with_figure_and_reading(path):
    study = Study.from_toml(path)
    assert study.name == path.stem and study.plots
    figure = ROOT / "studies" / "figures" / f"{path.stem}.png"
    assert figure.read_bytes()[:4] == b"\x89PNG"
    text = DOC.read_text()
    assert f"### {path.stem}" in text and f"../studies/figures/{path.stem}.png" in text


def test_doc_profile_snippet_is_a_valid_study():
    (block,) = [b for b in re.findall(r"```toml\n(.+?)\n```", DOC.read_text(), flags=re.S) if "profile =" in b]
    study = Study.from_dict(tomllib.loads('[study]\nname = "profiles"\n' + block))
    assert [r["profile"] for r in study.runs()] == ["exact", "vnni_int8_int32", "avx2_maddubs_int16"]
