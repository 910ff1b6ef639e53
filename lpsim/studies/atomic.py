"""Atomic file writes: a reader, or a crash at any instant, sees the old file or the new one, never half.

The text goes to a temporary name in the same folder, is flushed and fsynced, then
``os.replace``d onto the final name (atomic on POSIX and Windows), and the folder is
fsynced. A crash before the rename leaves only a temporary file (``.NAME.PID.HEX.tmp``),
which the results store removes on its next start.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that the file is either absent/old or complete, never partial."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        with open(temp, "w", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
