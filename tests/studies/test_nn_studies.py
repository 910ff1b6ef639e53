"""Network studies: model = mlp | cnn | rnn in a study file, trained by lpsim.nn, end to end."""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lpsim.studies import Study, Table, run_study
from lpsim.studies.spec import StudyError

ROOT = Path(__file__).resolve().parents[2]

TINY = """
[study]
name = "tiny_nn"

[problem]
dataset = "breast_cancer"
model = "mlp"
hidden = "4"

[train]
epochs = 2
batch_size = 128
step_size = 0.1

[precision]
bits = 8

[grid]
algorithm = ["sgd", "lpsgd", "halp"]

[[plot]]
kind = "convergence"
metric = "loss"
"""


def write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_network_study_runs_through_the_cli(tmp_path):
    path = write(tmp_path, TINY)
    out = tmp_path / "results"
    result = subprocess.run([sys.executable, "-m", "lpsim.cli", "run", str(path), "--out", str(out),
                             "--executor", "serial"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    table = Table.read_csv(out / "results.csv")
    assert set(table.unique("algorithm")) == {"sgd", "lpsgd", "halp"}
    assert set(table.unique("status")) == {"ok"}
    assert sorted(set(table.column("epoch"))) == [0, 1, 2]  # epoch 0: the initial network
    for metric in ("loss", "grad_norm", "test_acc"):
        assert all(math.isfinite(v) for v in table.column(metric)), metric
    final = table.final()
    for row in final.records():
        first = table.where(run_id=row["run_id"], epoch=0).records()[0]
        assert row["loss"] < first["loss"]  # training lowers the loss
        assert 0.5 < row["test_acc"] <= 1.0
    halp = final.where(algorithm="halp").records()[0]
    assert halp["hidden"] == "4" and halp["bits"] == 8 and halp["mu"] == 1.0 and halp["model"] == "mlp"
    assert final.where(algorithm="sgd").records()[0]["bits"] is None  # float SGD: one run at every bit width
    assert (out / "figures" / "convergence.png").read_bytes()[:4] == b"\x89PNG"


def _engine_table(tmp_path, engine):
    study = Study.from_toml(write(tmp_path, f"""
        [study]
        name = "engines_{engine}"
        [problem]
        dataset = "sequence"
        model = "mlp"
        hidden = "3"
        n = 12
        n_test = 4
        sequence_length = 3
        [train]
        epochs = 1
        batch_size = 6
        engine = "{engine}"
        [precision]
        bits = 6
        profile = "fp16_fp16"
        activation_format = "e4m3"
        activation_scaling = "tensor"
        error_format = "e5m2"
        error_rounding = "stochastic"
        [grid]
        algorithm = ["sgd", "halp"]
        """, f"{engine}.toml"))
    result = run_study(study, tmp_path / engine, executor="serial", quiet=True, plot=False)
    assert not result.failures
    return Table.read_csv(tmp_path / engine / "results.csv")


def test_both_engines_give_identical_tables_with_a_simulated_mac(tmp_path):
    fast, exact = _engine_table(tmp_path, "fast"), _engine_table(tmp_path, "exact")
    # the run id and study name hash the engine; every metric must agree bit for bit
    ignore = ("run_id", "study", "engine", "seconds")
    assert fast.drop(*ignore) == exact.drop(*ignore)
    assert len(fast) == 4 and all(math.isfinite(v) for v in fast.column("loss"))


def test_diverged_run_reports_status_and_epoch(tmp_path):
    study = Study.from_toml(write(tmp_path, TINY.replace("step_size = 0.1", "step_size = 1e200")
                                  .replace('["sgd", "lpsgd", "halp"]', '["sgd"]')))
    result = run_study(study, tmp_path / "out", executor="serial", quiet=True, plot=False)
    assert not result.failures  # a diverged run is a result, not a failure
    table = Table.read_csv(tmp_path / "out" / "results.csv")
    assert set(table.unique("status")) == {"diverged"}
    record = __import__("json").loads(next((tmp_path / "out" / "runs").glob("*.json")).read_text())
    assert "epoch 1" in record["message"]


def test_finite_but_blown_up_run_is_stored_as_diverged(tmp_path):
    """Step size 30 sends the loss to ~1e13 in one epoch, finite: status and outcome say diverged, not ok."""
    study = Study.from_toml(write(tmp_path, TINY.replace("step_size = 0.1", "step_size = 30")
                                  .replace('["sgd", "lpsgd", "halp"]', '["sgd"]')))
    result = run_study(study, tmp_path / "out", executor="serial", quiet=True, plot=False)
    assert not result.failures
    table = Table.read_csv(tmp_path / "out" / "results.csv")
    assert all(math.isfinite(v) for v in table.column("loss"))
    assert max(table.column("loss")) > 1e3 * min(table.column("loss"))
    assert set(table.unique("status")) == {"diverged"} and set(table.unique("outcome")) == {"diverged"}
    record = __import__("json").loads(next((tmp_path / "out" / "runs").glob("*.json")).read_text())
    assert "divergence bound" in record["message"]


def test_recurrent_net_on_the_sequence_task(tmp_path):
    study = Study.from_toml(write(tmp_path, """
        [study]
        name = "gru"
        [problem]
        dataset = "sequence"
        hidden = "4"
        n = 64
        n_test = 16
        sequence_length = 4
        [train]
        epochs = 2
        batch_size = 16
        step_size = 0.2
        [grid]
        algorithm = ["sgd", "halp"]
        """))
    (run, _) = study.runs()
    assert run["model"] == "rnn" and run["sequence_length"] == 4 and run["channels"] is None
    result = run_study(study, tmp_path / "out", executor="serial", quiet=True, plot=False)
    assert not result.failures
    table = Table.read_csv(tmp_path / "out" / "results.csv")
    assert set(table.unique("status")) == {"ok"} and all(math.isfinite(v) for v in table.column("loss"))


def test_momentum_and_adam_train_networks(tmp_path):
    study = Study.from_toml(write(tmp_path, TINY.replace('["sgd", "lpsgd", "halp"]', '["momentum", "adam"]')))
    assert [run["bits"] for run in study.runs()] == [None, None]  # float64 optimizers: no bits
    result = run_study(study, tmp_path / "out", executor="serial", quiet=True, plot=False)
    assert not result.failures
    table = Table.read_csv(tmp_path / "out" / "results.csv")
    for run_id in table.unique("run_id"):
        losses = table.where(run_id=run_id).column("loss")
        assert losses[-1] < losses[0]


@pytest.mark.parametrize("change, key, expected", [
    (('model = "mlp"', 'model = "cnn"'), "model", "cannot train on dataset 'breast_cancer'"),
    (('dataset = "breast_cancer"', 'dataset = "digits"'), None, None),
    (('model = "mlp"', 'model = "rnn"'), "model", "cannot train on dataset 'breast_cancer'"),
    (('model = "mlp"', 'model = "transformer"'), "model", "mlp, cnn, rnn"),
    (('hidden = "4"', 'hidden = "4,x"'), "hidden", "positive integers separated by commas"),
    (('hidden = "4"', 'hidden = "4"\nactivation = "sigmoid"'), "activation", "relu, tanh"),
    (('bits = 8', 'bits = 8\nweight_scaling = "row"'), "weight_scaling", "none, tensor, channel, delayed"),
    (('bits = 8', 'bits = 8\nweight_format = "no_such_format"'), "weight_format", "format"),
])
def test_network_settings_are_checked_when_the_study_loads(tmp_path, change, key, expected):
    path = write(tmp_path, TINY.replace(*change))
    if expected is None:
        assert len(Study.from_toml(path).runs()) == 3  # digits with an MLP is fine
        return
    with pytest.raises(StudyError) as info:
        Study.from_toml(path)
    message = str(info.value)
    assert str(path) in message and key in message and expected in message
    assert ", line " in message


def test_impossible_combinations_name_the_parameter(tmp_path):
    rnn_digits = TINY.replace('dataset = "breast_cancer"', 'dataset = "digits"').replace('model = "mlp"', 'model = "rnn"')
    with pytest.raises(StudyError, match=r"\[problem\] model: .*model 'rnn' cannot train on dataset 'digits'"):
        Study.from_toml(write(tmp_path, rnn_digits))
    linear_sequence = TINY.replace('dataset = "breast_cancer"', 'dataset = "sequence"').replace('model = "mlp"', 'model = "softmax"')
    with pytest.raises(StudyError, match="dataset 'sequence' is for networks"):
        Study.from_toml(write(tmp_path, linear_sequence))
    unknown_algorithm = TINY.replace('["sgd", "lpsgd", "halp"]', '["sgd", "bcsgd"]')
    with pytest.raises(StudyError, match="algorithm"):
        Study.from_toml(write(tmp_path, unknown_algorithm))
    deep_cnn = TINY.replace('dataset = "breast_cancer"', 'dataset = "digits"').replace('model = "mlp"', 'model = "cnn"\nchannels = "2,2,2,2"')
    with pytest.raises(StudyError, match=r"\[problem\] channels: .*4 convolution stages .* at most 3 widths"):
        Study.from_toml(write(tmp_path, deep_cnn))
    assert Study.from_toml(write(tmp_path, deep_cnn.replace('"2,2,2,2"', '"2,2,2"'))).runs()
    linear_adam = TINY.replace('model = "mlp"', 'model = "logistic"').replace('["sgd", "lpsgd", "halp"]', '["sgd", "adam"]')
    with pytest.raises(StudyError, match=r"\[grid\] algorithm: .*'adam' trains networks only"):
        Study.from_toml(write(tmp_path, linear_adam))
    mnist_without_folder = TINY.replace('dataset = "breast_cancer"', 'dataset = "mnist"')
    with pytest.raises(StudyError, match=r"\[problem\] path: .*needs path"):
        Study.from_toml(write(tmp_path, mnist_without_folder))
    no_test = TINY.replace('dataset = "breast_cancer"', 'dataset = "sequence"')
    with pytest.raises(StudyError, match=r"n_test.*needs n_test >= 1"):
        Study.from_toml(write(tmp_path, no_test))


def test_a_network_run_takes_the_generator_key(tmp_path):
    """generator on a network run: the default is left out of run ids (shipped ids keep their value), a named
    one reaches the optimizer's grid and every stochastic quantization point, and changes the trained bits."""
    from lpsim.studies.run_config import nn_train_config

    points = 'bits = 8\nerror_format = "e5m2"\nerror_rounding = "stochastic"\nweight_format = "e4m3"'
    text = TINY.replace("bits = 8", points).replace('["sgd", "lpsgd", "halp"]', '["sgd", "halp"]')
    plain = Study.from_toml(write(tmp_path, text)).runs()
    by_key = Study.from_toml(write(tmp_path, text.replace("[grid]", '[grid]\ngenerator = ["philox10", "hash32"]'),
                                   "b.toml")).runs()
    assert [r.id for r in by_key if r["generator"] is None] == [r.id for r in plain]
    sgd_hash, halp_hash = [r for r in by_key if r["generator"] == "hash32" or r["algorithm"] == "sgd"][-2:]
    # float SGD's only stochastic rounding is the error point, so it takes the generator too
    assert sgd_hash["generator"] == "hash32" and halp_hash["generator"] == "hash32"
    config = nn_train_config(halp_hash.params)
    assert config.generator.value == "hash32" and config.optimizer.rounding.generator.value == "philox10"
    by_rounding = Study.from_toml(write(tmp_path, text.replace('error_rounding = "stochastic"',
                                                               'error_rounding = "stochastic:hash32"'), "c.toml")).runs()
    assert [r["generator"] for r in by_rounding] == ["hash32", "hash32"]
    assert {r.id for r in by_rounding} == {sgd_hash.id, halp_hash.id}
    nearest = Study.from_toml(write(tmp_path, TINY.replace('["sgd", "lpsgd", "halp"]', '["sgd"]')
                                    .replace("[grid]", '[grid]\ngenerator = ["hash32"]'), "d.toml")).runs()
    assert [r["generator"] for r in nearest] == [None]  # nothing of float SGD rounds stochastically
    result = run_study(Study.from_toml(write(tmp_path, text.replace("[grid]", '[grid]\ngenerator = ["philox10", "hash32"]')
                                             .replace('["sgd", "halp"]', '["halp"]'), "e.toml")),
                       tmp_path / "out", executor="serial", quiet=True, plot=False)
    assert not result.failures
    final = Table.read_csv(tmp_path / "out" / "results.csv").final()
    assert len(set(final.column("loss"))) == 2 and set(final.column("status")) == {"ok"}


def test_network_settings_leave_linear_runs_alone(tmp_path):
    """A linear study's run ids do not change when network parameters join the schema or are set."""
    linear = """
        [study]
        name = "linear"
        [problem]
        dataset = "digits"
        model = "softmax"
        l2 = 0.001
        [train]
        mu = 0.01
        [grid]
        algorithm = ["sgd", "halp"]
        """
    plain = [run.id for run in Study.from_toml(write(tmp_path, linear)).runs()]
    with_nn = linear.replace('l2 = 0.001', 'l2 = 0.001\nhidden = "32"').replace("[grid]", '[precision]\nweight_format = "e4m3"\n[grid]')
    assert [run.id for run in Study.from_toml(write(tmp_path, with_nn, "b.toml")).runs()] == plain


def _shipped_small(tmp_path, name, runs, problem=()):
    """The shipped study ``name`` cut to one seed and two epochs (and ``problem`` changes), run serially: its table."""
    import tomllib

    raw = tomllib.loads((ROOT / "studies" / f"{name}.toml").read_text())
    raw["train"]["epochs"] = 2
    raw["problem"].update(problem)
    raw["grid"]["seed"] = [0]
    study = Study.from_dict(raw)
    assert len(study.runs()) == runs
    result = run_study(study, tmp_path / name, executor="serial", quiet=True, plot=False)
    assert not result.failures
    return Table.read_csv(tmp_path / name / "results.csv")


@pytest.mark.slow
def test_shipped_deep_learning_study_small_configuration(tmp_path):
    """deep_learning.toml as shipped, cut to one seed and two epochs: every run trains and lowers the loss."""
    table = _shipped_small(tmp_path, "deep_learning", 10)
    assert set(table.unique("status")) == {"ok"} and set(table.unique("model")) == {"mlp", "cnn"}
    final = table.final()
    for row in final.records():
        assert row["loss"] < table.where(run_id=row["run_id"], epoch=0).column("loss")[0]
        assert row["test_acc"] > 0.5


def test_shipped_recurrent_study_small_configuration(tmp_path):
    """deep_learning_rnn.toml as shipped, cut to one seed, two epochs and 96 sequences: every run trains."""
    table = _shipped_small(tmp_path, "deep_learning_rnn", 5, problem={"n": 96})
    assert set(table.unique("status")) == {"ok"} and set(table.unique("model")) == {"rnn"}
    assert set(table.final().column("hidden")) == {"16"} and set(table.final().column("sequence_length")) == {10}
    assert all(math.isfinite(v) for v in table.column("loss"))
