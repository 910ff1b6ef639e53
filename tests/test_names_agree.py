"""Every list of names has one source, and the lists that must agree do.

Algorithms come from ``lpsim.algorithms.recipes.RECIPES``; datasets from ``lpsim.data.DATASETS``;
models from ``lpsim.models.MODEL_KINDS``; engines from ``lpsim.codec.ENGINES``. The study schema,
TrainConfig, the CLI and the figures read them; what the schema adds about them (a dataset's
default model and generator parameters) is checked against the implementations here.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lpsim.nn.optim import OPTIMIZERS

from lpsim import codec, data, models
from lpsim.algorithms import TrainConfig, config, recipes
from lpsim.plots import _common as plot_names
from lpsim.studies import runner, schema, table

ROOT = Path(__file__).resolve().parent.parent
# The module (lpsim.algorithms.train, the attribute, is the function of the same name).
train_module = importlib.import_module("lpsim.algorithms.train")


def test_algorithm_lists_are_the_recipes():
    names = tuple(recipes.RECIPES)
    assert schema.ALGORITHMS == config.ALGORITHMS == names
    assert schema.PARAMS["algorithm"].choices == names + schema.NN_ONLY_ALGORITHMS  # networks add momentum, adam
    assert set(schema.NN_ALGORITHMS) == set(OPTIMIZERS) and set(names) <= set(OPTIMIZERS)
    assert set(schema.FULL_PRECISION) | set(config.LOW_PRECISION) == set(names)
    assert not set(schema.FULL_PRECISION) & set(config.LOW_PRECISION)
    assert set(plot_names.ALGORITHM_LABELS) == set(names)
    assert set(plot_names.ALGORITHM_COLORS) <= set(names)


@pytest.mark.parametrize("name", recipes.RECIPES)
def test_every_algorithm_is_trainable_labelled_and_plotted_by_its_storage(name):
    recipe = recipes.RECIPES[name]
    config_ = TrainConfig(algorithm=name)
    assert config_.low_precision == recipe.low_precision == (name not in schema.FULL_PRECISION)
    assert recipe.label and plot_names.ALGORITHM_LABELS[name] == recipe.label
    assert len({r.label for r in recipes.RECIPES.values()}) == len(recipes.RECIPES)
    takes_scale = name in recipes.FIXED_SCALE
    if takes_scale:
        assert TrainConfig(algorithm=name, scale=0.5).scale == 0.5
    else:
        with pytest.raises(ValueError, match="scale is the fixed grid step of lpsgd / lpsvrg"):
            TrainConfig(algorithm=name, scale=0.5)


def test_an_unknown_algorithm_is_refused_naming_the_list():
    with pytest.raises(ValueError, match="'sgd', 'svrg', 'lpsgd', 'lpsvrg', 'halp'"):
        TrainConfig(algorithm="adam")


def test_dataset_lists_agree_with_the_builders():
    network_only = ("sequence",)  # lpsim.nn's generated sequence task (lpsim.nn.data), for the rnn
    assert schema.DATASETS == tuple(data.DATASETS) + network_only == schema.PARAMS["dataset"].choices
    assert set(schema.DEFAULT_MODEL) == set(schema.DATASET_PARAMS) == set(schema.DATASETS)
    assert set(schema.DEFAULT_MODEL.values()) <= set(models.MODEL_KINDS) | set(schema.NN_MODELS)
    for name, params in schema.DATASET_PARAMS.items():
        if name in network_only:
            continue
        accepted = inspect.signature(data.DATASETS[name]).parameters
        for param in params:
            assert param in schema.PARAMS, (name, param)
            assert runner._DATA_ARGS.get(param, param) in accepted, (name, param)


def test_model_and_engine_lists_agree():
    from lpsim.nn.network import MODELS as NETWORKS

    assert schema.MODELS == tuple(models.MODEL_KINDS) + tuple(NETWORKS) == schema.PARAMS["model"].choices
    assert schema.ENGINES == codec.ENGINES == schema.PARAMS["engine"].choices
    assert {a.name: a for a in TrainConfig.__attrs_attrs__}["engine"].default in codec.ENGINES


def test_metric_lists_agree_with_the_training_history():
    assert table.HISTORY_COLUMNS == ("epoch", *schema.METRICS)
    assert set(schema.METRICS) <= set(train_module.HISTORY_KEYS) | set(train_module.CLASSIFIER_KEYS)


def test_a_new_recipe_is_one_entry(tmp_path):
    """Add an algorithm to a copy of the package by editing recipes.py alone: the schema, a
    study, TrainConfig, training and the figures' labels all take it."""
    copy = tmp_path / "lpsim"
    shutil.copytree(ROOT / "lpsim", copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "algorithms" / "recipes.py"
    text = source.read_text()
    anchor = '    "halp": Recipe('
    assert anchor in text
    source.write_text(text.replace(
        anchor, '    "lpsgd_twin": Recipe(variance_reduced=False, storage=Storage.FIXED_GRID, label="LP-SGD twin"),\n'
        + anchor))
    script = textwrap.dedent("""
        import lpsim
        from lpsim.algorithms import TrainConfig, train
        from lpsim.data import make_dataset
        from lpsim.models import make_model
        from lpsim.plots._common import ALGORITHM_LABELS
        from lpsim.studies import Study, schema

        assert lpsim.__file__.startswith(%r), lpsim.__file__
        assert "lpsgd_twin" in schema.ALGORITHMS and "lpsgd_twin" not in schema.FULL_PRECISION
        assert ALGORITHM_LABELS["lpsgd_twin"] == "LP-SGD twin"
        study = Study.create("twin", problem={"n": 16, "d": 3}, train={"epochs": 2, "engine": "exact"},
                             grid={"algorithm": ["lpsgd", "lpsgd_twin"], "bits": [4]})
        runs = {run["algorithm"]: run for run in study.runs()}
        assert runs["lpsgd_twin"]["bits"] == 4 and runs["lpsgd_twin"]["format"] == runs["lpsgd"]["format"]
        model = make_model("least_squares", make_dataset("least_squares", n=16, d=3))
        twin = train(model, TrainConfig(algorithm="lpsgd_twin", epochs=2, engine="exact"))
        same = train(model, TrainConfig(algorithm="lpsgd", epochs=2, engine="exact"))
        assert (twin.w == same.w).all() and twin.status == "ok"
        print("twin ok")
    """ % str(copy))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "twin ok"
