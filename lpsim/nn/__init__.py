"""Low-precision training of neural networks: layers with explicit backward passes whose every matrix
product runs through lpsim's simulated arithmetic, quantization points per tensor class, and the
optimizers of the HALP paper (see docs/nn.md)."""

from .context import Arithmetic
from .data import NetData, from_dataset, load, sequence_task
from .layers import LAYERS, AvgPool2d, Conv2d, Flatten, GRU, Layer, Linear, MaxPool2d, ReLU, ShapeError, Tanh, make_layer
from .loss import softmax_cross_entropy
from .mac import Mac, as_mac, matmul
from .network import MODELS, ModelConfig, Network, build_network
from .optim import HALP, LPSGD, LPSVRG, OPTIMIZERS, SGD, SVRG, Adam, Momentum, make_optimizer
from .quant import TENSOR_CLASSES, QuantConfig, QuantizationRangeError, Quantizer, Rounder
from .train import EpochRecord, TrainConfig, TrainResult, train

__all__ = [
    "Arithmetic", "NetData", "from_dataset", "load", "sequence_task",
    "LAYERS", "Layer", "Linear", "Conv2d", "ReLU", "Tanh", "MaxPool2d", "AvgPool2d", "Flatten", "GRU", "ShapeError",
    "make_layer", "softmax_cross_entropy", "Mac", "as_mac", "matmul",
    "MODELS", "ModelConfig", "Network", "build_network",
    "OPTIMIZERS", "SGD", "Momentum", "Adam", "LPSGD", "SVRG", "LPSVRG", "HALP", "make_optimizer",
    "TENSOR_CLASSES", "Quantizer", "QuantConfig", "QuantizationRangeError", "Rounder",
    "TrainConfig", "TrainResult", "EpochRecord", "train",
]
