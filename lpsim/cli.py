"""The ``lpsim`` command line."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _cmd_formats(args) -> int:
    from .codec import quantize
    from .formats.registry import available_formats

    formats = available_formats()
    print(f"{'name':<14} {'spec':<28} {'bits':>4} {'max':>12} {'smallest':>12}")
    for name, fmt in sorted(formats.items()):
        tiny = getattr(fmt, "smallest_subnormal", float("nan"))
        print(f"{name:<14} {fmt.spec:<28} {fmt.bits:>4} {fmt.max:>12.5g} {tiny:>12.5g}")
    values = np.array([0.1, -1.3, 3.14159, 1000.0, 1e-5])
    print("\nquantized (nearest-even):")
    print(f"{'format':<14} " + " ".join(f"{v:>12.6g}" for v in values))
    for name in ("binary16", "bfloat16", "e4m3", "e5m2", "int8"):
        q = quantize(values, formats[name], "nearest_even", engine="exact")
        print(f"{name:<14} " + " ".join(f"{v:>12.6g}" for v in q))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpsim", description="Bit-exact low-precision arithmetic and training studies.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("formats", help="list registered formats and show a quantization table")
    p.set_defaults(func=_cmd_formats)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
