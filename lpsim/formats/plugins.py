"""Entry-point plugins: discovered lazily, loaded one by one, cached; a broken one is skipped and reported.

Two entry-point groups (see docs/plugins.md):

* ``lpsim.formats``: name = a format name, object = a Format or a zero-argument
  callable returning one.
* ``lpsim.format_specs``: name = a spec head (lowercase letters, e.g. ``log``), object =
  a callable ``parse(text) -> Format`` for specs starting with that head.

Importing the plugin's module is also how it registers its exact codec (and fast
kernels). Any failure while loading (import error, wrong object, raising factory, even
``sys.exit``) marks the plugin broken: it is reported once with a ``PluginWarning`` naming
it, listed by ``broken_plugins()``, and skipped; the rest of the registry keeps working.
Two entry points with one name (two plugins, or two installed copies of one) are reported
the same way: the first found on ``sys.path`` is used, the warning names both.
"""

from __future__ import annotations

import threading
import warnings
from importlib import metadata
from typing import Callable

import attrs

FORMATS_GROUP = "lpsim.formats"
SPECS_GROUP = "lpsim.format_specs"


class PluginWarning(UserWarning):
    """An lpsim plugin failed to load and is skipped (the message names it and the error)."""


@attrs.frozen(kw_only=True)
class BrokenPlugin:
    """A plugin that was skipped: which entry point, from which distribution, and why."""

    group: str
    name: str
    target: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return f"{self.group} plugin {self.name!r} ({self.target}, from {self.distribution}): {self.error}"


@attrs.frozen(kw_only=True)
class _Entry:
    name: str
    target: str
    distribution: str
    location: str  # distribution, version and folder: tells two installed copies of one distribution apart
    load: Callable[[], object]

    def __str__(self) -> str:
        return f"{self.target} (from {self.location})"


_lock = threading.RLock()
_entries: dict[str, dict[str, _Entry]] = {}  # group -> name -> entry (discovery cache)
_loaded: dict[tuple[str, str], object] = {}  # (group, name) -> converted object
_broken: dict[tuple[str, str], BrokenPlugin] = {}  # entry points that failed to load
_rejected: list[BrokenPlugin] = []  # entry points refused at discovery (taken or duplicate names)


def _entry(entry_point, dist) -> _Entry:
    name = getattr(dist, "name", None) or "an unknown distribution"
    return _Entry(name=entry_point.name.strip().lower(), target=entry_point.value, distribution=name,
                  location=f"{name} {dist.version} in {dist.locate_file('')}", load=entry_point.load)


def _installed(group: str):
    """(entry point, distribution) of every installed entry point of ``group``, in sys.path order.

    Unlike ``metadata.entry_points``, this keeps every installed copy of a distribution (two versions
    on sys.path), so a second copy's plugin is reported rather than hidden."""
    for dist in metadata.distributions():
        for entry_point in dist.entry_points.select(group=group):
            yield entry_point, dist


def _report(group: str, entry: _Entry, error: str, *, loading: bool, message: str | None = None) -> None:
    broken = BrokenPlugin(group=group, name=entry.name, target=entry.target, distribution=entry.distribution, error=error)
    if loading:
        _broken[(group, entry.name)] = broken
    else:
        _rejected.append(broken)
    warnings.warn(message or f"lpsim skipped a broken plugin: {broken}", PluginWarning, stacklevel=4)


def entries(group: str, reject: Callable[[str], str | None]) -> dict[str, _Entry]:
    """The group's entry points by lowercased name, read once from installed metadata (nothing imported).

    ``reject(name)`` returns why a name is not allowed (say, it is a built-in name), or None;
    rejected and duplicate names are reported as broken (a duplicate: the first found is kept).
    """
    with _lock:
        if group in _entries:
            return _entries[group]
        found: dict[str, _Entry] = {}
        for entry_point, dist in _installed(group):
            entry = _entry(entry_point, dist)
            if entry.name in found:
                kept = found[entry.name]
                if (kept.distribution, kept.target) == (entry.distribution, entry.target):
                    continue  # one plugin seen twice (an editable install and its source folder): one object loads
                _report(group, entry, f"name already provided by {kept.target} from {kept.distribution}", loading=False,
                        message=f"two {group} plugins are named {entry.name!r}: lpsim uses {kept}, found first on "
                                f"sys.path, and skips {entry}; uninstall one of them")
                continue
            reason = reject(entry.name)
            if reason is not None:
                _report(group, entry, reason, loading=False)
                continue
            found[entry.name] = entry
        _entries[group] = found
        return found


def failure(err: BaseException) -> str:
    """What a plugin did wrong, for a message naming it."""
    if isinstance(err, SystemExit):
        return f"it called sys.exit({err.code!r})"
    return f"{type(err).__name__}: {err}"


def load(group: str, entry: _Entry, convert: Callable[[object], object]) -> object | None:
    """The entry point's object passed through ``convert``, cached; None if the plugin is broken."""
    key = (group, entry.name)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if key in _broken:
            return None
        try:
            value = convert(entry.load())
        except KeyboardInterrupt:  # the user's, not the plugin's
            raise
        except BaseException as err:  # a plugin may fail in any way, sys.exit included; none may break the registry
            _report(group, entry, failure(err), loading=True)
            return None
        _loaded[key] = value
        return value


def broken(group: str | None = None) -> list[BrokenPlugin]:
    """Plugins reported broken so far (in ``group``, or in every group)."""
    with _lock:
        return [b for b in [*_rejected, *_broken.values()] if group is None or b.group == group]


def problem(group: str, name: str) -> BrokenPlugin | None:
    """Why the entry point ``name`` failed to load (None if it did not fail)."""
    with _lock:
        return _broken.get((group, name))


def reset() -> None:
    """Forget every discovered and loaded plugin (after installing one into a running process, or in tests)."""
    with _lock:
        _entries.clear()
        _loaded.clear()
        _broken.clear()
        _rejected.clear()
