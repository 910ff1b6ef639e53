"""Datasets: synthetic generators and readers for real data, by name through ``make_dataset``."""

from __future__ import annotations

from .dataset import Dataset
from .readers import DataFileError, breast_cancer, digits, mnist, read_idx, read_svmlight, svmlight
from .synthetic import least_squares, logistic

DATASETS = {
    "least_squares": least_squares,
    "logistic": logistic,
    "digits": digits,
    "breast_cancer": breast_cancer,
    "mnist": mnist,
    "svmlight": svmlight,
}


def make_dataset(name: str, **params) -> Dataset:
    """Build a dataset by name; ``params`` go to the generator or reader (see its docstring)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    try:
        return DATASETS[name](**params)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc) or "required positional argument" in str(exc):
            import inspect

            allowed = ", ".join(inspect.signature(DATASETS[name]).parameters)
            raise TypeError(f"make_dataset({name!r}): {exc}; parameters: {allowed}") from None
        raise


__all__ = ["Dataset", "DataFileError", "make_dataset", "DATASETS", "least_squares", "logistic", "digits",
           "breast_cancer", "mnist", "svmlight", "read_idx", "read_svmlight"]
