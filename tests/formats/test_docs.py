"""Every ```python block of docs/formats.md runs as written, in order, in one namespace, on each engine."""

from pathlib import Path

from ..doc_examples import default_engine, run_python_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_formats_doc_examples_run(engine):
    with default_engine(engine):
        run_python_blocks(DOC.name, min_blocks=10)


def test_formats_doc_names_every_preset_and_rounding_mode():
    from lpsim.formats import RoundingMode
    from lpsim.formats.presets import PRESETS

    text = DOC.read_text()
    for name in PRESETS:
        assert f"`{name}`" in text, name
    for mode in RoundingMode:
        assert mode.value in text, mode
