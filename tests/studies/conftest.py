"""Fixtures for the studies tests, shared with the other study-level folders."""

from ..study_fixtures import (  # noqa: F401 (fixtures are found by name)
    _no_process_left_behind,
    _quiet_fallback_warnings,
    small_study_file,
    small_study_text,
)
