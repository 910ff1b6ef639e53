"""Plugins that misbehave in every way the registry must survive (installed by tests/formats/conftest.py)."""
