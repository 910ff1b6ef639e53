"""HALP on deep learning: an MLP and a small CNN on scikit-learn's digits (and, with ``--models rnn``, a GRU on
the seeded sequence task), five algorithms, several seeds.

Float SGD and SVRG against LP-SGD, LP-SVRG and HALP with 8-bit weights (LP-SGD, LP-SVRG) or 8-bit
offsets (HALP); everything else float64. Prints the final training loss, test accuracy and gradient
norm per algorithm (mean and spread over seeds) and saves the figure "training loss vs epochs per
algorithm" with the histories as JSON.

    python examples/deep_learning.py                       # -> results/deep_learning/
    python examples/deep_learning.py --mu 4 --epoch-length 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lpsim import nn

MODELS = {"mlp": nn.ModelConfig(kind="mlp", hidden=(64,)), "cnn": nn.ModelConfig(kind="cnn", channels=(8, 16)),
          "rnn": nn.ModelConfig(kind="rnn", hidden=16)}
DATASETS = {"mlp": "digits", "cnn": "digits", "rnn": "sequence"}  # rnn: the seeded adding-problem classification
LEARNING_RATES = {"mlp": 0.05, "cnn": 0.05, "rnn": 0.2}


def algorithms(lr: float, bits: int, mu: float) -> dict:
    return {"SGD": nn.SGD(lr=lr), "SVRG": nn.SVRG(lr=lr), f"LP-SGD({bits})": nn.LPSGD(lr=lr, bits=bits),
            f"LP-SVRG({bits})": nn.LPSVRG(lr=lr, bits=bits), f"HALP({bits})": nn.HALP(lr=lr, bits=bits, mu=mu)}


def run(args) -> dict:
    results: dict = {}
    for model_name in args.models:
        model = MODELS[model_name]
        data = nn.load(DATASETS[model_name], **({"images": True} if model.kind == "cnn" else {}))
        epochs = getattr(args, f"epochs_{model_name}")
        lr = args.lr or LEARNING_RATES[model_name]
        for algo, opt in algorithms(lr, args.bits, args.mu).items():
            runs = []
            for seed in range(args.seeds):
                config = nn.TrainConfig(model=model, optimizer=opt, epochs=epochs, batch_size=args.batch_size,
                                        epoch_length=args.epoch_length, seed=seed)
                result = nn.train(config, data)
                runs.append({"status": result.status, **{c: result.column(c).tolist() for c in
                                                         ("train_loss", "test_accuracy", "grad_norm", "seconds")}})
            results.setdefault(model_name, {})[algo] = runs
            final = np.array([r["train_loss"][-1] for r in runs])
            acc = np.array([r["test_accuracy"][-1] for r in runs])
            norm = np.array([r["grad_norm"][-1] for r in runs])
            print(f"{model_name} {algo:12s} loss {final.mean():.4f} [{final.min():.4f}, {final.max():.4f}]  "
                  f"acc {acc.mean():.3f}  grad norm {norm.mean():.2e}  "
                  f"{sum(sum(r['seconds']) for r in runs) / len(runs):.1f} s/run  "
                  f"{','.join(sorted({r['status'] for r in runs}))}", flush=True)
    return results


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.2))
    for ax, (model_name, by_algo) in zip(np.atleast_1d(axes), results.items()):
        for algo, runs in by_algo.items():
            losses = np.array([r["train_loss"] for r in runs if r["status"] == "ok"])
            if not len(losses):
                continue
            epochs = np.arange(losses.shape[1])
            ax.semilogy(epochs, losses.mean(axis=0), label=algo)
            ax.fill_between(epochs, losses.min(axis=0), losses.max(axis=0), alpha=0.2)
        ax.set_title(f"{DATASETS[model_name]} {model_name.upper()}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=tuple(MODELS), default=["mlp", "cnn"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs-mlp", type=int, default=20)
    parser.add_argument("--epochs-cnn", type=int, default=8)
    parser.add_argument("--epochs-rnn", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epoch-length", type=int, default=None, help="T: steps between anchors (default: one pass)")
    parser.add_argument("--lr", type=float, default=None, help="default: 0.05 (mlp, cnn), 0.2 (rnn)")
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--mu", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("results/deep_learning"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = run(args)
    (args.out / "histories.json").write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()},
                                                         "results": results}))
    plot(results, args.out / "training_loss.png")
    print(f"saved {args.out / 'training_loss.png'}")


if __name__ == "__main__":
    main()
