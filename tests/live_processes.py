"""Which processes are alive, read from /proc (Linux): to prove that no worker outlives the process
that started it. Zombies are not counted: they hold no memory and no open files."""

import os
import time
from pathlib import Path

needs_proc = not Path("/proc/self/stat").exists()


def _stat(pid_dir: Path):
    """(pid, state, ppid, pgrp) of one /proc entry, or None if it vanished meanwhile."""
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    # the command name sits in parentheses and may itself contain spaces or parentheses
    state, ppid, pgrp = text[text.rindex(")") + 2:].split()[:3]
    return int(pid_dir.name), state, int(ppid), int(pgrp)


def live_processes():
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            stat = _stat(pid_dir)
            if stat is not None and stat[1] != "Z":
                yield stat


def in_group(pgrp: int) -> set[int]:
    """Live processes of one process group (every descendant that did not leave the group)."""
    return {pid for pid, _, _, group in live_processes() if group == pgrp}


def children(ppid: int) -> set[int]:
    return {pid for pid, _, parent, _ in live_processes() if parent == ppid}


def wait_until_gone(find, timeout: float = 20.0) -> set[int]:
    """Poll ``find()`` until it returns no process or ``timeout`` passes; return the survivors."""
    deadline = time.monotonic() + timeout
    while (alive := find()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def kill_group(pgrp: int) -> None:
    """Clean up after a failing test: leave nothing running."""
    try:
        os.killpg(pgrp, 9)
    except ProcessLookupError:
        pass
