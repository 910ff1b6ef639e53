"""Formats by name or spec string: built-in names, ``register_format``, spec grammar, plugins.

``get_format(text)`` looks, in order, at

1. built-in names (``lpsim.formats.presets.PRESETS``: "binary16", "e4m3", "mxint8", ...);
2. names registered in this process with ``register_format``;
3. plugin format names (entry-point group ``lpsim.formats``);
4. the built-in spec grammar (``lpsim.formats.spec``: "fixed8_f6", "q1.7", "bfp8x32", ...);
5. plugin spec parsers by head (``register_spec_parser`` or group ``lpsim.format_specs``).

Names are case-insensitive. A name may not shadow a built-in name or a valid spec, so
every string means one format whoever installed what. Plugins are discovered on the
first lookup that is not a built-in name, loaded when first needed, and cached.
"""

from __future__ import annotations

import re
from typing import Callable

from . import plugins
from ._validate import check_ascii
from .base import Format
from .plugins import FORMATS_GROUP, SPECS_GROUP, BrokenPlugin, PluginWarning
from .presets import PRESETS
from .spec import SPEC_FORMS, SPEC_HEADS, looks_like_spec, parse_format, spec_head

__all__ = [
    "get_format", "available_formats", "register_format", "unregister_format", "register_spec_parser",
    "broken_plugins", "refresh_plugins", "parse_format", "PluginWarning", "BrokenPlugin",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.+\-]*")
_registered: dict[str, Format | Callable[[], Format]] = {}
_spec_parsers: dict[str, Callable[[str], Format]] = {}


def _key(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"format name must be a string, got {type(name).__name__}")
    return name.strip().lower()


def _name_conflict(key: str) -> str | None:
    """Why ``key`` cannot be a new format name, or None if it can."""
    if not _NAME.fullmatch(key):
        return f"name {key!r} must be lowercase letters, digits and _ . + - (starting with a letter or digit)"
    if key in PRESETS:
        return f"name {key!r} is a built-in format name"
    if looks_like_spec(key):
        try:
            parse_format(key)
        except ValueError:
            return None
        return f"name {key!r} is a built-in format spec"
    return None


def _as_format(value, what: str) -> Format:
    """A Format instance, or the result of calling a zero-argument factory that returns one."""
    if isinstance(value, Format):
        return value
    if callable(value):
        made = value()
        if isinstance(made, Format):
            return made
        raise TypeError(f"{what}: the factory returned {type(made).__name__}, not an lpsim Format")
    raise TypeError(f"{what}: expected an lpsim Format or a zero-argument callable returning one, got {value!r}")


def _as_parser(value):
    if not callable(value):
        raise TypeError(f"a spec parser must be a callable parse(text) -> Format, got {type(value).__name__}")
    return value


def _head_conflict(head: str) -> str | None:
    if not re.fullmatch(r"[a-z]+", head):
        return f"spec head {head!r} must be lowercase letters"
    if head in SPEC_HEADS:
        return f"spec head {head!r} belongs to the built-in grammar"
    return None


# -- programmatic registration ---------------------------------------------------


def register_format(name: str, fmt_or_factory, *, replace: bool = False) -> None:
    """Register a format under ``name`` (case-insensitive): a Format, or a zero-argument callable
    returning one (called on first lookup). Built-in names, valid specs and plugin names are taken;
    re-registering a name of this process needs ``replace=True``."""
    key = _key(name)
    reason = _name_conflict(key)
    if reason is None and key in plugins.entries(FORMATS_GROUP, _name_conflict):
        entry = plugins.entries(FORMATS_GROUP, _name_conflict)[key]
        reason = f"name {key!r} is provided by plugin {entry.target} from {entry.distribution}"
    if reason is None and key in _registered and not replace:
        reason = f"name {key!r} is already registered (pass replace=True to replace it)"
    if reason is not None:
        raise ValueError(f"register_format: {reason}")
    if not isinstance(fmt_or_factory, Format) and not callable(fmt_or_factory):
        raise TypeError(
            f"register_format: fmt_or_factory must be an lpsim Format or a zero-argument callable returning one, "
            f"got {fmt_or_factory!r}"
        )
    _registered[key] = fmt_or_factory


def unregister_format(name: str) -> None:
    """Remove a name added by ``register_format``."""
    key = _key(name)
    if key not in _registered:
        raise ValueError(f"unregister_format: {key!r} was not registered with register_format")
    del _registered[key]


def register_spec_parser(head: str, parse: Callable[[str], Format], *, replace: bool = False) -> None:
    """Make ``get_format`` send specs starting with ``head`` (lowercase letters, then a digit or '_')
    to ``parse(text) -> Format``, which raises ValueError on a malformed spec."""
    key = _key(head)
    reason = _head_conflict(key)
    if reason is None and key in _spec_parsers and not replace:
        reason = f"spec head {key!r} is already registered (pass replace=True to replace it)"
    if reason is not None:
        raise ValueError(f"register_spec_parser: {reason}")
    _spec_parsers[key] = _as_parser(parse)


# -- lookup ------------------------------------------------------------------------


def _plugin_format(key: str) -> Format | None:
    entry = plugins.entries(FORMATS_GROUP, _name_conflict).get(key)
    if entry is None:
        return None
    fmt = plugins.load(FORMATS_GROUP, entry, lambda obj: _as_format(obj, f"plugin {key!r}"))
    if fmt is None:
        raise ValueError(f"format {key!r} comes from a plugin that failed to load: {plugins.problem(FORMATS_GROUP, key)}")
    return fmt


def _spec_parser(head: str) -> tuple[Callable[[str], Format], str] | None:
    """The parser for specs starting with ``head`` and where it comes from (for messages), or None."""
    if head in _spec_parsers:
        parse = _spec_parsers[head]
        where = f"{getattr(parse, '__module__', '?')}.{getattr(parse, '__qualname__', type(parse).__name__)}"
        return parse, f"the spec parser registered for {head!r} ({where})"
    entry = plugins.entries(SPECS_GROUP, _head_conflict).get(head)
    if entry is None:
        return None
    parser = plugins.load(SPECS_GROUP, entry, _as_parser)
    if parser is None:
        raise ValueError(f"specs starting with {head!r} come from a plugin that failed to load: {plugins.problem(SPECS_GROUP, head)}")
    return parser, f"the {SPECS_GROUP} plugin {head!r}, {entry}"


def _parse_plugin_spec(parse: Callable[[str], Format], origin: str, key: str) -> Format:
    """``parse(key)``, with any failure of a plugin's parser (sys.exit included) turned into an error naming it."""
    try:
        fmt = parse(key)
    except KeyboardInterrupt:  # the user's, not the plugin's
        raise
    except ValueError as err:  # how a parser rejects a malformed spec
        raise ValueError(f"format spec {key!r}: {err} (parsed by {origin})") from err
    except BaseException as err:
        raise ValueError(f"format spec {key!r}: {origin} failed: {plugins.failure(err)}") from err
    if not isinstance(fmt, Format):
        raise TypeError(f"format spec {key!r}: {origin} returned {type(fmt).__name__}, not an lpsim Format")
    return fmt


def get_format(name_or_spec) -> Format:
    """The format a name or spec string denotes (a Format passes through unchanged)."""
    if isinstance(name_or_spec, Format):
        return name_or_spec
    key = _key(name_or_spec)
    if key in PRESETS:
        return PRESETS[key]
    if key in _registered:
        return _as_format(_registered[key], f"register_format({key!r})")
    check_ascii(name_or_spec.strip(), "format name or spec")
    fmt = _plugin_format(key)
    if fmt is not None:
        return fmt
    if looks_like_spec(key):
        return parse_format(name_or_spec)
    head = spec_head(key)
    rest = key[len(head):]
    if rest[:1].isdigit() or rest[:1] == "_":
        parser = _spec_parser(head)
        if parser is not None:
            return _parse_plugin_spec(*parser, key)
    names = ", ".join(sorted(_all_names()))
    raise ValueError(
        f"unknown format {name_or_spec!r}: not a format name and not a spec. Names: {names}. "
        "Spec forms: " + "; ".join(SPEC_FORMS) + " (see docs/plugins.md)"
    )


def _all_names() -> list[str]:
    return [*PRESETS, *_registered, *plugins.entries(FORMATS_GROUP, _name_conflict)]


def available_formats() -> dict[str, Format]:
    """Every named format: built-ins, registered and plugin formats (broken plugins skipped, with a warning)."""
    formats = dict(PRESETS)
    for key, value in _registered.items():
        formats[key] = _as_format(value, f"register_format({key!r})")
    for key, entry in plugins.entries(FORMATS_GROUP, _name_conflict).items():
        fmt = plugins.load(FORMATS_GROUP, entry, lambda obj, key=key: _as_format(obj, f"plugin {key!r}"))
        if fmt is not None:
            formats[key] = fmt
    return formats


def broken_plugins() -> list[BrokenPlugin]:
    """Every plugin that fails to load (loads them all first), with its name, target and error."""
    available_formats()
    for head in plugins.entries(SPECS_GROUP, _head_conflict):
        try:
            _spec_parser(head)
        except ValueError:
            pass
    return plugins.broken()


def refresh_plugins() -> None:
    """Discover plugins again (after installing one into a running process)."""
    plugins.reset()
