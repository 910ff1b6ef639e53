"""Spec parsers that fail in each way a plugin's parser can, and one well-behaved format."""

import sys

from lpsim.formats import BINARY16, FixedPoint

FINE = BINARY16


def raising(text):
    raise RuntimeError(f"the boom parser cannot read {text}")


def exiting(text):
    sys.exit(4)


def wrong_type(text):
    return 42


def strict(text):
    """strict<bits>: a signed integer format; anything else is a malformed spec (ValueError, as documented)."""
    digits = text[len("strict"):]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("expected strict<bits>")
    return FixedPoint(bits=int(digits), frac_bits=0)
