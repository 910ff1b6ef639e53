"""docs/nn.md's python blocks run as written, in order, in one namespace."""

from ..doc_examples import run_python_blocks


def test_nn_doc_examples_run(capsys):
    run_python_blocks("nn.md", min_blocks=6)
    out = capsys.readouterr().out
    assert "halp" in out and "diverged" in out and "relu1" in out
