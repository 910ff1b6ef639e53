"""A progress line on stderr: runs done of total, elapsed time and ETA. Quiet mode prints nothing.

On a terminal the line redraws in place (at most ~10 times a second); into a file or
pipe it prints a full line every 10% or 30 s, so logs stay short. While a terminal line
is shown, a warning (e.g. the fast engine falling back to the exact one) first clears it
and the line is redrawn below the warning, so neither is cut in two.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, total: int, *, done: int = 0, quiet: bool = False, stream: TextIO | None = None,
                 label: str = "runs", clock=time.monotonic):
        self.total = total
        self.skipped = done  # finished before this session: not part of the rate
        self.done = done
        self.failed = 0
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self._clock = clock
        self._start = clock()
        self._last_draw = -1e9
        self._last_fraction = -1.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown = ""  # the line on the terminal now
        self._saved_showwarning = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def eta(self) -> float | None:
        """Seconds left, from this session's rate; None before the first run finishes."""
        ran = self.done - self.skipped
        if ran <= 0:
            return None
        return (self._clock() - self._start) / ran * (self.total - self.done)

    def text(self) -> str:
        fraction = self.fraction
        width = 24
        filled = int(round(width * fraction))
        bar = "#" * filled + "-" * (width - filled)
        eta = self.eta()
        parts = [f"[{bar}] {self.done}/{self.total} {self.label}", f"{100 * fraction:3.0f}%",
                 f"elapsed {_clock(self._clock() - self._start)}",
                 "ETA " + ("?" if eta is None else _clock(eta))]
        if self.failed:
            parts.append(f"{self.failed} failed")
        return "  ".join(parts)

    def start(self) -> None:
        if not self.quiet and self._tty:
            self._route_warnings()
        self._draw(force=True)

    def _route_warnings(self) -> None:
        saved = self._saved_showwarning = warnings.showwarning

        def show_below_progress(message, category, filename, lineno, file=None, line=None):
            if self._shown:
                self._write("\r" + " " * len(self._shown) + "\r")
            saved(message, category, filename, lineno, file, line)
            if self._shown:
                self._write(self._shown)

        self._showwarning = warnings.showwarning = show_below_progress

    def _restore_warnings(self) -> None:
        if self._saved_showwarning is not None and warnings.showwarning is self._showwarning:
            warnings.showwarning = self._saved_showwarning
        self._saved_showwarning = None

    def update(self, count: int = 1, *, failed: bool = False) -> None:
        self.done += count
        self.failed += int(failed)
        self._draw(force=self.done >= self.total)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or piped into a finished `head`: the study goes on
            self.quiet = True

    def _draw(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = self._clock()
        fraction = self.fraction
        if self._tty:
            if force or now - self._last_draw >= 0.1:
                text = self.text()
                # pad over a longer previous line (a shorter ETA, no failures shown any more)
                self._write("\r" + text.ljust(len(self._shown)))
                self._shown, self._last_draw = text, now
        elif force or fraction - self._last_fraction >= 0.1 or now - self._last_draw >= 30:
            self._write(self.text() + "\n")
            self._last_draw, self._last_fraction = now, fraction

    def close(self) -> None:
        self._restore_warnings()
        if not self.quiet and self._tty:
            self._write("\r" + self.text().ljust(len(self._shown)) + "\n")
            self._shown = ""
