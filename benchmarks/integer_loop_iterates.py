"""Record the integer inner loop's iterates on both engines, or compare two recordings bit for bit.

A refactoring of the integer loop must not change a single bit. Run this script on the old tree
with ``--save old.npz``, on the new tree with ``--save new.npz``, then ``--compare old.npz new.npz``:
every config trains HALP, LP-SVRG and LP-SGD on least squares, logistic and softmax regression
with nearest-even and stochastic rounding (plus a wrapping 16-bit accumulator and K capped at 8)
on the fast and the exact engine, and the comparison checks the final iterate and the history
(loss, gradient norm, scale) of every run for bitwise equality.

    python benchmarks/integer_loop_iterates.py --save old.npz
    python benchmarks/integer_loop_iterates.py --compare old.npz new.npz
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from lpsim.algorithms import TrainConfig, train
from lpsim.data import Dataset, make_dataset
from lpsim.models import make_model

MODELS = ("least_squares", "logistic", "softmax")
ALGORITHMS = ("halp", "lpsvrg", "lpsgd")
ROUNDINGS = ("nearest_even", "stochastic", "stochastic:5")
HISTORY = ("loss", "grad_norm", "scale")


def _softmax_data(n: int, d: int, seed: int, classes: int = 3) -> Dataset:
    """Gaussian features labelled by the largest of ``classes`` random linear scores."""
    base = make_dataset("logistic", n=n, d=d, seed=seed)
    W = np.random.default_rng(seed).standard_normal((d, classes))
    label = lambda X: None if X is None else np.argmax(X @ W, axis=1).astype(np.int64)  # noqa: E731
    return Dataset(X=base.X, y=label(base.X), X_test=base.X_test, y_test=label(base.X_test), n_classes=classes,
                   name=f"argmax{classes}")


def _model(kind: str):
    if kind == "softmax":
        return make_model("softmax", _softmax_data(16, 4, seed=3), l2=0.1)
    if kind == "logistic":
        return make_model("logistic", make_dataset("logistic", n=16, d=4, seed=2), l2=0.1)
    return make_model("least_squares", make_dataset("least_squares", n=16, d=5, condition_number=3.0, noise=0.2,
                                                    seed=5), l2=0.05)


def _configs():
    for kind, algorithm, rounding in itertools.product(MODELS, ALGORITHMS, ROUNDINGS):
        yield kind, algorithm, rounding, {}
    yield "least_squares", "halp", "stochastic", {"batch_size": 3, "fmt": "fixed6_f0_wrap"}
    yield "least_squares", "lpsvrg", "nearest_even", {"fmt": "int16", "data_fmt": "fixed10_f0", "batch_size": 2}
    yield "logistic", "halp", "to_odd", {"batch_size": 2}
    yield "softmax", "lpsvrg", "toward_positive", {"batch_size": 2}


def record() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    models = {kind: _model(kind) for kind in MODELS}
    for kind, algorithm, rounding, extra in _configs():
        model = models[kind]
        base = dict(algorithm=algorithm, arithmetic="integer", epochs=2, epoch_length=8, data_fmt="int8",
                    rounding=rounding, seed=7, step_size=0.5 / model.L)
        base.update(extra)
        for engine in ("fast", "exact"):
            result = train(model, TrainConfig(engine=engine, **base))
            name = f"{kind}|{algorithm}|{rounding}|{sorted(extra.items())}|{engine}"
            out[f"{name}|w"] = np.asarray(result.w)
            out[f"{name}|status"] = np.asarray(result.status)
            for key in HISTORY:
                out[f"{name}|{key}"] = np.asarray(result.history[key])
    return out


def compare(old_path: str, new_path: str) -> int:
    old, new = np.load(old_path), np.load(new_path)
    if set(old.files) != set(new.files):
        print(f"different runs recorded: {sorted(set(old.files) ^ set(new.files))}")
        return 1
    differ = [k for k in sorted(old.files)
              if old[k].dtype != new[k].dtype or old[k].shape != new[k].shape
              or old[k].tobytes() != new[k].tobytes()]
    runs = len({k.rsplit("|", 1)[0] for k in old.files})
    moved = sum(1 for k in old.files if k.endswith("|w") and np.any(old[k] != 0))
    print(f"{runs} runs ({moved} moved off w = 0), {len(old.files)} arrays compared: "
          f"{len(differ)} differ" + ("" if not differ else f": {differ[:10]}"))
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE")
    group.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)
    if args.save:
        np.savez(args.save, **record())
        return 0
    return compare(*args.compare)


if __name__ == "__main__":
    sys.exit(main())
