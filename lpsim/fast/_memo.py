"""Values the fast engine remembers by the identity of the objects they were built from.

Hashing a format costs as much as encoding a few values, so the per-call paths look their
parameter records up by ``id`` instead. Each entry keeps its key objects alive, so their ids
stay theirs; the builders cache by value, so equal objects still share one record.
"""

from __future__ import annotations

from typing import Callable

_LIMIT = 4096  # entries before the table starts over (each holds a few small objects)
_ENTRIES: dict = {}


def by_identity(build: Callable, *args, extra: tuple = ()):
    """``build(*args, *extra)``, remembered by ``build`` and the identity of ``args``.

    ``extra``: arguments ``build`` also needs that the ``args`` already determine (left out of the key).
    """
    # spelled out for one and two arguments: a short dot makes four of these calls
    if len(args) == 1:
        key = (build, id(args[0]))
    elif len(args) == 2:
        key = (build, id(args[0]), id(args[1]))
    else:
        key = (build, *map(id, args))
    hit = _ENTRIES.get(key)
    if hit is None:
        if len(_ENTRIES) >= _LIMIT:
            _ENTRIES.clear()
        hit = _ENTRIES[key] = (build(*args, *extra), args)
    return hit[0]


def by_identity2(build: Callable, first, second):
    """``by_identity(build, first, second)`` for per-call paths: the same table, its key spelled out."""
    hit = _ENTRIES.get((build, id(first), id(second)))
    return by_identity(build, first, second) if hit is None else hit[0]
