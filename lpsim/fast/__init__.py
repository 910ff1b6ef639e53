"""The fast engine: compiled Numba kernels with the exact engine's semantics, bit for bit."""

from .registry import kernels_for, register_kernels

__all__ = ["kernels_for", "register_kernels"]
