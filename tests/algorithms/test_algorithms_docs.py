"""docs/algorithms.md's python blocks run as written, in order, in one namespace."""

from ..doc_examples import run_python_blocks


def test_algorithms_doc_examples_run(capsys):
    run_python_blocks("algorithms.md", min_blocks=4)
    out = capsys.readouterr().out
    assert "halp" in out and "diverged" in out
