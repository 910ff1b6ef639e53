"""Formats by name: presets, string specs and plugins.

Minimal first version: preset names only. (Issue 2 extends it with the spec grammar and
entry-point plugins.)
"""

from __future__ import annotations

from .base import Format
from .presets import PRESETS


def get_format(name: str) -> Format:
    if not isinstance(name, str):
        raise TypeError(f"format name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    raise ValueError(f"unknown format {name!r}; known names: {', '.join(sorted(PRESETS))}")


def available_formats() -> dict[str, Format]:
    return dict(PRESETS)
