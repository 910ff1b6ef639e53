"""The ``lpsim`` command line."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

import numpy as np

# Values that show a format's rounding, range and underflow in the `lpsim formats` tables.
_EXAMPLE_VALUES = (0.1, -1.3, 3.14159, 1000.0, 1e-5)


def _show_format(text: str) -> int:
    """``lpsim formats --spec TEXT``: the format a name or spec denotes, its canonical spec and range."""
    from .formats.registry import get_format

    try:
        fmt = get_format(text)
    except (ValueError, TypeError) as exc:  # TypeError: a plugin's spec parser returned something else
        print(f"lpsim formats: error: {exc}", file=sys.stderr)
        return 2
    print(f"{text} = {fmt.spec}  ({type(fmt).__name__}, {fmt.bits} bits)")
    smallest = getattr(fmt, "smallest_subnormal", None)
    print(f"max {fmt.max:.6g}" + ("" if smallest is None else f", smallest {smallest:.6g}"))
    # a block format shares one scale across these values, set by the largest (1000)
    shared = " (one block: the values share a scale)" if getattr(fmt, "family", "") in ("block", "scaled_block") else ""
    results, error = _quantize_examples(fmt)
    print(f"nearest-even{shared}: " + ", ".join(f"{v:g} -> {q}" for v, q in zip(_EXAMPLE_VALUES, results)))
    if error is not None:
        print(f"  ({error})")
    return 0


def _quantize_examples(fmt) -> tuple[list[str], str | None]:
    """The example values quantized to ``fmt`` (as text), and the first error a value raised (or None).

    A format that raises on overflow (``_error``) raises for 1000 only: the values are then
    quantized one by one, and the one that raises shows the error it raises."""
    from .codec import quantize

    try:
        return [f"{q:g}" for q in quantize(np.array(_EXAMPLE_VALUES), fmt, "nearest_even", engine="exact")], None
    except (OverflowError, ValueError):
        pass
    results, first_error = [], None
    for value in _EXAMPLE_VALUES:
        try:
            results.append(f"{quantize(value, fmt, 'nearest_even', engine='exact'):g}")
        except (OverflowError, ValueError) as err:
            results.append(type(err).__name__)
            first_error = first_error or f"{type(err).__name__}: {err}"
    return results, first_error


def _cmd_formats(args) -> int:
    from .codec import quantize
    from .formats.registry import available_formats

    if args.spec:
        return _show_format(args.spec)
    formats = available_formats()
    print(f"{'name':<14} {'spec':<28} {'bits':>4} {'max':>12} {'smallest':>12}")
    for name, fmt in sorted(formats.items()):
        tiny = getattr(fmt, "smallest_subnormal", float("nan"))
        print(f"{name:<14} {fmt.spec:<28} {fmt.bits:>4} {fmt.max:>12.5g} {tiny:>12.5g}")
    values = np.array(_EXAMPLE_VALUES)
    print("\nquantized (nearest-even):")
    print(f"{'format':<14} " + " ".join(f"{v:>12.6g}" for v in values))
    for name in ("binary16", "bfloat16", "e4m3", "e5m2", "int8"):
        q = quantize(values, formats[name], "nearest_even", engine="exact")
        print(f"{name:<14} " + " ".join(f"{v:>12.6g}" for v in q))
    return 0


def _cmd_profiles(args) -> int:
    from .arith import available_profiles

    for name, profile in sorted(available_profiles().items()):
        print(f"{name:<22} {getattr(profile, 'summary', '')}".rstrip())
    return 0


def _executor_args(p: argparse.ArgumentParser) -> None:
    from .studies.executors import EXECUTORS

    p.add_argument("--executor", choices=EXECUTORS, default=None,
                   help="where runs execute: local processes, one per core (default), serial, or a Dask cluster "
                        "(at --scheduler ADDR, or a local one started for the study)")
    p.add_argument("--workers", type=int, default=None, help="number of worker processes (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786 (implies --executor dask)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.add_argument("--no-plot", action="store_true", help="do not draw the study's figures")


def _executor(args) -> dict:
    name = args.executor or ("dask" if args.scheduler else "processes")
    if args.scheduler is not None and name != "dask":
        raise ValueError(f"--scheduler {args.scheduler} is the address of a Dask cluster, but --executor {name} "
                         "runs on this machine: drop --scheduler, or use --executor dask")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if args.workers is not None and (name == "serial" or args.scheduler is not None):
        raise ValueError("--workers sets the number of local worker processes (--executor processes, or dask "
                         "without --scheduler)")
    plot = None
    if not args.no_plot:
        from .plots import plot_study as plot  # figures sit above studies: the command joins them
    return dict(executor=name, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet, plot=plot)


def _report(result) -> int:
    if result.failures:
        print(f"{len(result.failures)} run(s) failed (not stored); fix the cause and run `lpsim resume {result.folder}`",
              file=sys.stderr)
        return 1
    return 0


def _cmd_run(args) -> int:
    from .studies import Study, run_study
    from .studies.driver import default_folder

    options = _executor(args)
    study = Study.from_toml(args.study)
    args.results = args.out or default_folder(study)
    result = run_study(study, args.results, **options)
    return _report(result)


def _cmd_resume(args) -> int:
    from .studies import resume_study

    args.results = args.folder
    result = resume_study(args.folder, **_executor(args))
    return _report(result)


def _cmd_plot(args) -> int:
    from .plots import plot_study
    from .studies import ResultsStore

    store = ResultsStore(args.folder)
    study = store.load_study()
    table = store.compact(study)
    if not len(table):
        raise ValueError(f"{args.folder}: no finished runs to plot yet")
    if not study.plots:
        raise ValueError(f"{args.folder}: the study declares no [[plot]] figures")
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    paths = plot_study(study, table, args.out or store.figures_dir, formats)
    for path in paths:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpsim", description="Bit-exact low-precision arithmetic and training studies.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run a study file (resumable: finished runs are kept)")
    p.add_argument("study", help="study file, e.g. studies/error_vs_bits.toml")
    p.add_argument("--out", default=None, metavar="DIR", help="results folder (default: results/STUDY_NAME)")
    _executor_args(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("resume", help="finish an interrupted study in its results folder")
    p.add_argument("folder", metavar="DIR")
    _executor_args(p)
    p.set_defaults(func=_cmd_resume)

    p = sub.add_parser("plot", help="draw a study's figures from its results folder")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--format", default="png,pdf", help="comma-separated: png, pdf, svg (default: png,pdf)")
    p.add_argument("--out", default=None, metavar="FIGDIR", help="where figures go (default: DIR/figures)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("formats", help="list registered formats and show a quantization table")
    p.add_argument("--spec", metavar="NAME_OR_SPEC", help="show one format, e.g. q1.7, e5m2_fnuz, bfp8x32 (docs/plugins.md)")
    p.set_defaults(func=_cmd_formats)

    p = sub.add_parser("profiles", help="list hardware profiles (accumulators) a study may name")
    p.set_defaults(func=_cmd_profiles)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), handled like Ctrl-C: unwind, stop the workers, keep finished runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


@contextlib.contextmanager
def _terminate_like_interrupt():
    """While a command runs, SIGTERM (and SIGHUP, unless ignored as under nohup) unwind like Ctrl-C,
    so the executors stop their worker processes instead of leaving them behind."""
    saved = {}
    if threading.current_thread() is not threading.main_thread():  # only the main thread takes signals
        yield
        return
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            saved[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _terminate_like_interrupt():
            return args.func(args)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, _Terminated) else signal.SIGINT
        folder = getattr(args, "results", None)
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            if folder is not None:
                print(f"\ninterrupted; finished runs are kept, resume with `lpsim resume {folder}`",
                      file=sys.stderr)
            else:
                print("\ninterrupted", file=sys.stderr)
        return 128 + signum
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if args.command == "formats":
            raise
        print(f"lpsim {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
