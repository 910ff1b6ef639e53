"""One training pass of the digits CNN: simulated FP8 arithmetic vs plain numpy, side by side.

Cases (same network, batches and SGD steps):
  numpy float32  the lpsim.nn layers on float32 data and weights, mac=None (BLAS float32)
  numpy float64  mac=None, float64 (lpsim.nn's reference arithmetic)
  simulated FP8  E4M3 weights / activations / errors (per-tensor scaling, errors stochastically
                 rounded) and every matrix product forward and backward through fp8_fp32
                 (E4M3 operands, exact products, float32 accumulation rounded at every add)

``--batches`` times that many minibatch steps per case and reports seconds per full epoch by
proportion (the steps are alike). Run on one thread (BLAS included):

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/nn_bench.py
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from lpsim import nn
from lpsim.nn.quant import Rounder
from lpsim.nn.train import batch_order

FP8 = nn.QuantConfig(weight=nn.Quantizer(fmt="e4m3", scaling="tensor"),
                     activation=nn.Quantizer(fmt="e4m3", scaling="tensor"),
                     error=nn.Quantizer(fmt="e4m3", scaling="tensor", rounding="stochastic"))


def time_steps(data, model, batches, dtype, mac, quant, lr=0.05):
    network = nn.build_network(model, data.sample_shape, data.n_classes, np.random.default_rng(0))
    network.bind(nn.Arithmetic(mac, Rounder(quant)))
    params = {k: v.astype(dtype) for k, v in network.params.items()}
    X = data.X.astype(dtype)
    opt = nn.SGD(lr=lr)
    network.loss_and_grads(X[batches[0]], data.y[batches[0]])  # warm-up: compiles kernels, fills caches
    start = time.perf_counter()
    for batch in batches:
        network.set_params(params)
        _, grads = network.loss_and_grads(X[batch], data.y[batch])
        params, _ = opt.update(params, grads, {}, None)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=5, help="minibatch steps timed per case")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    data = nn.load("digits", images=True)
    model = nn.ModelConfig(kind="cnn", channels=(8, 16))
    per_epoch = math.ceil(len(data.y) / args.batch_size)
    batches = batch_order(len(data.y), args.batch_size, np.random.default_rng(1))[:args.batches]
    cases = [("numpy float32", np.float32, None, None), ("numpy float64", np.float64, None, None),
             ("simulated FP8 (e4m3, fp8_fp32)", np.float64, "fp8_fp32", FP8)]
    print(f"digits CNN {model.channels}, batch {args.batch_size}, {per_epoch} steps per epoch, "
          f"{len(batches)} steps timed per case")
    base = None
    for name, dtype, mac, quant in cases:
        seconds = time_steps(data, model, batches, dtype, mac, quant) * per_epoch / len(batches)
        base = base or seconds
        print(f"{name:34s} {seconds:9.3f} s/epoch  {seconds / base:8.1f}x numpy float32")


if __name__ == "__main__":
    main()
