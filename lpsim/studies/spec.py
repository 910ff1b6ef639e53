"""Study definitions: parse and validate a study (TOML file or dict), expand its grid into run specs.

A study is pure data. ``tomllib`` parses the file (it evaluates nothing) and every key
and value is checked against ``schema.PARAMS``; errors name the file, line, key and the
allowed values. Each run is fully described by its resolved parameters (``RunSpec``),
and keyed by a hash of them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import attrs

from ..cost.counts import COST_COLUMNS
from ..cost.energy import (
    DEFAULT_TABLE_NAME,
    ENERGY_COLUMNS,
    EnergyTable,
    EnergyTableError,
    default_table,
    energy_table,
    is_plugin_table,
    load_energy_table,
)
from ..formats.rounding import DEFAULT_GENERATOR, as_rounding
from . import schema
from .outcome import DEFAULT_ROUNDOFF, OUTCOME_METRICS, OutcomeRule
from .precision import resolve_format
from .schema import PARAMS, SchemaError

# Bump when a change to lpsim alters the result of an unchanged run spec (algorithms,
# data generators, rounding semantics): old results then get new ids and are rerun
# instead of being mixed with new ones. A run's id hashes the latest version that changed
# *its* result (``run_semantics``), so a change confined to some runs leaves the ids and
# stored results of the others valid. Recorded in every run file.
SEMANTICS_VERSION = 4
# version -> (what changed, which resolved runs it changed); a change to every run: lambda p: True.
SEMANTICS_CHANGES = {
    2: ("the profile (accumulator) reaches the integer inner loop; before, it was recorded but unused",
        lambda p: p.get("profile") is not None),
    3: ("one Philox block serves four elements' stochastic rounding (lpsim.rng); before, each element had its own",
        lambda p: any(p.get(name) is not None and as_rounding(p[name]).is_stochastic for name in ("rounding", "data_rounding"))),
    4: ("an integer-loop HALP or LP-SVRG run takes its full gradient from the data codes (code_anchor): the anchor "
        "moves by round-off", lambda p: p.get("arithmetic") not in (None, "float") and p.get("algorithm") in ("halp", "lpsvrg")),
}
TOP_LEVEL = ("study", "problem", "train", "precision", "grid", "overrides", "plot")
STUDY_KEYS = ("name", "description", "record", "energy_table")
PLOT_KEYS = ("kind", "metric", "where", "lines", "title", "name", "x", "tolerance", "reference", "roundoff", "floor",
             "logx")
COST_AXES = ENERGY_COLUMNS + COST_COLUMNS  # the x axes of an error_vs_cost plot
# A study or plot name becomes a folder or file stem.
_STEM = re.compile(r"[A-Za-z0-9_\-]+")


class StudyError(ValueError):
    """A malformed study: the message names the file, line, key and what is allowed."""


# -- locating a key in the source text (for error messages) ------------------------------------
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _find_line(text: str | None, section: str | None, key: str | None, index: int | None = None) -> int | None:
    """The 1-based line of ``key`` inside table ``section`` (the index-th one for arrays of tables)."""
    if not text:
        return None
    lines = text.splitlines()
    current, seen = None, -1
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=") if key else None
    header_line = None
    for number, line in enumerate(lines, 1):
        match = _HEADER.match(line)
        if match:
            current = match.group(1).replace('"', "").replace("'", "").replace(" ", "")
            if current == section:
                seen += 1
                if index is None or seen == index:
                    header_line = number
            continue
        if current == section and (index is None or seen == index) and key_re and key_re.match(line):
            return number
    if section is None and key_re:
        for number, line in enumerate(lines, 1):
            if key_re.match(line):
                return number
    return header_line


@attrs.frozen
class _Source:
    path: str | None = None
    text: str | None = None

    def error(self, message: str, section: str | None = None, key: str | None = None,
              index: int | None = None) -> StudyError:
        where = []
        line = _find_line(self.text, section, key, index)
        prefix = self.path or "study"
        if line is not None:
            prefix += f", line {line}"
        if section is not None:
            label = f"[[{section}]] #{index + 1}" if index is not None else f"[{section}]"
            where.append(label if key is None else f"{label} {key}")
        elif key is not None:
            where.append(key)
        return StudyError(f"{prefix}: {' '.join(where)}{': ' if where else ''}{message}")

    def table(self, raw: dict, section: str, expected: str) -> dict:
        """``raw[section]`` (an empty table when the file has none); an error saying ``expected``
        where the file has something else there."""
        value = raw.get(section, {})
        if not isinstance(value, dict):
            raise self.error(expected, section)
        return value

    def check(self, key: str, value: Any, section: str) -> Any:
        """``value`` checked against the schema of parameter ``key``; a rejection names this file and line."""
        try:
            return PARAMS[key].check(value)
        except SchemaError as exc:
            raise self.error(str(exc), section, key) from None


# -- run specs ------------------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@attrs.frozen(eq=False)
class RunSpec:
    """One run: every resolved parameter (None where it does not apply). Equal specs, equal ids."""

    params: dict = attrs.field(repr=False)
    id: str = attrs.field(init=False)

    @id.default
    def _hash(self) -> str:
        # None means "does not apply": leaving those out keeps ids stable when a new parameter
        # (whose default is None, i.e. the old behaviour) joins the schema.
        given = {k: v for k, v in self.params.items() if v is not None}
        text = canonical_json({"semantics": self.semantics, "params": given})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def semantics(self) -> int:
        return run_semantics(self.params)

    def __eq__(self, other):
        return isinstance(other, RunSpec) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __getitem__(self, name: str):
        return self.params[name]


def run_semantics(params: dict) -> int:
    """The latest SEMANTICS_VERSION that changed the result of the run with these resolved params."""
    return max([1] + [version for version, (_, changed) in SEMANTICS_CHANGES.items() if changed(params)])


def resolve_run(params: dict[str, Any]) -> RunSpec:
    """Fill defaults that depend on other parameters and clear the ones that do not apply.

    Clearing matters: a full-precision SGD run is the same run at every bit width, so it
    must get the same id (run once, one row set in the table).
    """
    p = dict(params)
    if p["model"] is None:
        p["model"] = schema.DEFAULT_MODEL[p["dataset"]]
    for name in schema.ALL_DATASET_PARAMS:
        if name not in schema.DATASET_PARAMS[p["dataset"]]:
            p[name] = None
    if p["model"] in schema.NN_MODELS:
        return _resolve_network(p)
    for name in schema.NN_ONLY:
        p[name] = None  # network settings: a linear model has none
    if p["algorithm"] in schema.NN_ONLY_ALGORITHMS:
        raise SchemaError(f"algorithm {p['algorithm']!r} trains networks only (model = mlp, cnn or rnn); a {p['model']} "
                          f"model trains with one of {', '.join(schema.ALGORITHMS)}", param="algorithm")
    _check_problem(p)
    if p["data_format"] is None:
        p["data_rounding"] = None
    _check_mu(p)
    _resolve_generator(p, [name for name in ("rounding", "data_rounding") if p.get(name) is not None
                           and not (name == "rounding" and p["algorithm"] in schema.FULL_PRECISION)])
    if p["algorithm"] in schema.FULL_PRECISION:
        for name in schema.LOW_PRECISION_SETTINGS:
            p[name] = None
        p["arithmetic"] = "float"  # SGD and SVRG have no integer loop: the float64 reference of every arithmetic
        _check_trainable(p)
        return RunSpec(params=p)
    if p["algorithm"] not in schema.FIXED_SCALE:
        p["fixed_scale"] = None  # HALP sets its scale each epoch
    _check_grid_scale(p)
    family = p["family"]
    fmt = resolve_format(family, p["bits"], exp_bits=p["exp_bits"], block_size=p["block_size"], format=p["format"])
    if family == "float" and p["exp_bits"] is None:
        p["exp_bits"] = fmt.exp_bits
    if family != "float":
        p["exp_bits"] = None
    if family != "bfp":
        p["block_size"] = None
    p["bits"] = fmt.bits
    p["format"] = fmt.spec
    if p["profile"] is not None:
        from ..algorithms.config import accumulator_arithmetics

        if p["arithmetic"] not in accumulator_arithmetics():
            p["profile"] = None  # the arithmetic computes in float64: no accumulator to choose
    _check_trainable(p)
    return RunSpec(params=p)


def _resolve_generator(p: dict, roundings: list[str]) -> None:
    """One place for the generator: a generator named in one of the run's ``roundings`` (the parameters
    that round stochastically if they say so) moves to ``generator``; the default generator, or one no
    stochastic rounding of the run uses, is None (left out of the id)."""
    for name in roundings:
        r = as_rounding(p[name])
        if r.generator is not DEFAULT_GENERATOR:
            if p.get("generator") not in (None, r.generator.value):
                raise SchemaError(f"{name} {p[name]!r} names generator {r.generator.value!r} but generator is "
                                  f"{p['generator']!r}", param="generator")
            p["generator"] = r.generator.value
            p[name] = str(attrs.evolve(r, generator=DEFAULT_GENERATOR))
    if p.get("generator") == DEFAULT_GENERATOR.value or not any(as_rounding(p[n]).is_stochastic for n in roundings):
        p["generator"] = None


def _resolve_network(p: dict) -> RunSpec:
    """A network run (model mlp, cnn or rnn): lpsim.nn's settings filled in, the linear models' cleared."""
    model, dataset, algorithm = p["model"], p["dataset"], p["algorithm"]
    if dataset not in schema.NN_DATASETS[model]:
        fits = [name for name, sets in schema.NN_DATASETS.items() if dataset in sets]
        hint = f"use model = {' or '.join(map(repr, fits))}" if fits else f"model {model!r} trains on {', '.join(schema.NN_DATASETS[model])}"
        raise SchemaError(f"model {model!r} cannot train on dataset {dataset!r}: {hint}", param="model")
    _check_path(p)
    if algorithm not in schema.NN_ALGORITHMS:
        raise SchemaError(f"algorithm {algorithm!r} has no network optimizer; networks train with "
                          f"{', '.join(schema.NN_ALGORITHMS)}", param="algorithm")
    if dataset == "sequence":
        p["sequence_length"] = p["sequence_length"] or 10
        if p["n_test"] < 1:
            raise SchemaError("dataset 'sequence' needs n_test >= 1 held-out sequences (test accuracy), "
                              f"got n_test = {p['n_test']}", param="n_test")
    elif p["sequence_length"] is not None:
        p["sequence_length"] = None
    for name in schema.LINEAR_ONLY:
        p[name] = None
    architecture = schema.NN_ARCHITECTURE[model]
    for name in ("hidden", "activation", "channels", "kernel_size", "pool"):
        p[name] = (p[name] if p[name] is not None else architecture[name]) if name in architecture else None
    side = schema.NN_IMAGE_SIDE.get(dataset)
    stages = len(p["channels"].split(",")) if model == "cnn" else 0
    if side is not None and side >> stages == 0:
        raise SchemaError(f"{stages} convolution stages with 2 x 2 pooling shrink the {side} x {side} {dataset} images "
                          f"to nothing: give channels at most {side.bit_length() - 1} widths", param="channels")
    if model == "rnn" and "," in p["hidden"]:
        raise SchemaError(f"an rnn has one recurrent layer: hidden must be one width, got {p['hidden']!r}", param="hidden")
    if algorithm in schema.FULL_PRECISION or algorithm in schema.NN_ONLY_ALGORITHMS:
        p["bits"] = p["rounding"] = p["mu"] = p["headroom"] = None
    elif algorithm == "halp":
        p["headroom"] = None
        p["mu"] = 1.0 if p["mu"] is None else p["mu"]
    else:
        p["mu"] = None
        p["headroom"] = 2.0 if p["headroom"] is None else p["headroom"]
    if algorithm not in ("svrg", "lpsvrg", "halp"):
        p["epoch_length"] = None  # only variance-reduced optimizers have anchors
    for tensor in schema.TENSOR_CLASSES:
        fmt = f"{tensor}_format"
        for part, default in (("rounding", "nearest_even"), ("scaling", "none")):
            name = f"{tensor}_{part}"
            p[name] = None if p[fmt] is None else (p[name] or default)
    # the optimizer's grid (LP-SGD, LP-SVRG, HALP) and every active quantization point round with the generator
    _resolve_generator(p, [name for name in ("rounding", *(f"{t}_rounding" for t in schema.TENSOR_CLASSES))
                           if p[name] is not None])
    _check_network(p)
    return RunSpec(params=p)


def _check_network(p: dict) -> None:
    """Build the run's lpsim.nn TrainConfig now, so that a setting it refuses is an error when the study loads."""
    from .run_config import nn_train_config

    try:
        nn_train_config(p)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        param = next((name for name in ("kernel_size", "channels", "hidden", "profile", "mu", "bits", "headroom")
                      if name in message), None)
        raise SchemaError(f"model {p['model']!r} with algorithm {p['algorithm']!r}: {message}", param=param) from None


def _check_path(p: dict) -> None:
    if p["dataset"] in schema.DATASET_PATH and p["path"] is None:
        raise SchemaError(f"dataset {p['dataset']!r} needs {schema.DATASET_PATH[p['dataset']]}", param="path")


def _check_problem(p: dict) -> None:
    """Refuse a data set / model pair that would fail every run, naming the parameter at fault."""
    dataset, model = p["dataset"], p["model"]
    _check_path(p)
    if dataset == "sequence":
        raise SchemaError(f"dataset 'sequence' is for networks: use model = {' or '.join(map(repr, schema.NN_DATASETS))}, "
                          f"got model {model!r}", param="model")
    labels = schema.DATASET_LABELS[dataset]
    if labels is not None and labels not in schema.MODEL_LABELS[model]:
        fits = [name for name, kinds in schema.MODEL_LABELS.items() if labels in kinds]
        needs = schema.MODEL_LABELS[model]
        raise SchemaError(f"model {model!r} needs {needs[0] if len(needs) == 1 else 'class labels'}, but dataset {dataset!r} "
                          f"has {labels}: use model = {' or '.join(map(repr, fits))}", param="model")
    if dataset == "logistic" and p["n"] < 2:
        raise SchemaError(f"dataset 'logistic' needs n >= 2 (a classification problem needs samples of two "
                          f"classes), got n = {p['n']}", param="n")
    if dataset == "least_squares" and p["d"] > p["n"]:
        raise SchemaError(f"dataset 'least_squares' needs d <= n (a full-rank problem with a unique optimum), "
                          f"got d = {p['d']} > n = {p['n']}", param="d")


def shown_params(params: dict) -> dict:
    """A run's parameters as its table rows show them: a low-precision run that sets neither mu nor
    mu_factor shows mu_factor 1 (its mu is the model's strong convexity), so that a sweep over
    mu_factor has a value in every row, while the run spec keeps None and the id it always had."""
    shown = dict(params)
    if (shown.get("algorithm") in schema.LOW_PRECISION and shown.get("mu") is None
            and shown.get("mu_factor") is None):
        shown["mu_factor"] = 1.0
    return shown


def _check_mu(p: dict) -> None:
    """mu and mu_factor are two ways to say one number: refuse both. A factor of 1 is the default mu
    itself, so it is cleared: such a run keeps the id (and stored result) it had without the factor."""
    if p["mu"] is not None and p["mu_factor"] is not None:
        raise SchemaError(f"set mu (an absolute value) or mu_factor (a multiple of the model's strong convexity), "
                          f"not both: got mu = {p['mu']!r} and mu_factor = {p['mu_factor']!r}", param="mu_factor")
    if p["mu_factor"] == 1.0:
        p["mu_factor"] = None


def _check_grid_scale(p: dict) -> None:
    """HALP's scale and the default LP-SGD / LP-SVRG grid divide by mu, which defaults to the model's
    strong convexity: l2 for a logistic or softmax model (their losses are not strongly convex)."""
    centers = p["algorithm"] not in schema.FIXED_SCALE  # sets its scale each epoch from mu
    needs_mu = centers or p["fixed_scale"] is None
    if needs_mu and p["mu"] is None and p["model"] != "least_squares" and p["l2"] == 0:
        other = "" if centers else ", fixed_scale (the grid step)"
        factor = "" if p["mu_factor"] is None else " (mu_factor multiplies it, so it stays 0)"
        raise SchemaError(f"{p['algorithm']} scales its grid by 1 / mu, and mu defaults to the model's strong convexity, "
                          f"which is l2 = 0 for a {p['model']} model{factor}: set mu (a hyperparameter, e.g. 0.01){other} "
                          "or l2 > 0", param="mu")


# The study parameters behind TrainConfig's fields, for messages that name a field.
_CONFIG_FIELDS = (("data_fmt", "data_format"), ("accumulator", "profile"), ("fmt", "format"), ("scale", "fixed_scale"))


def _check_trainable(p: dict) -> None:
    """Build the run's TrainConfig now, as training would, so that a combination it refuses (integer
    arithmetic with a float or block format, a profile with float registers, ...) is an error when
    the study loads, naming the study parameter, instead of a failure of every run."""
    from .run_config import train_config

    try:
        train_config(p)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        param = next((name for field, name in _CONFIG_FIELDS if field in message), "arithmetic")
        if param == "format" and p["family"] != "format":
            what = f"family = {p['family']!r} with bits = {p['bits']} (format {p['format']})"
            param = "family"
        else:
            what = f"{param} = {p[param]!r}"
        raise SchemaError(f"{what} with arithmetic = {p['arithmetic']!r}: {message}", param=param) from None


# -- plots ----------------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class PlotSpec:
    kind: str
    metric: tuple[str, ...] = ("grad_norm",)
    where: dict = attrs.field(factory=dict)
    lines: tuple[str, ...] | None = None
    title: str | None = None
    name: str | None = None
    x: str = "bits"
    tolerance: float = 10.0
    reference: str = "svrg"
    roundoff: float = DEFAULT_ROUNDOFF
    floor: bool = True
    logx: bool | None = None

    @property
    def stem(self) -> str:
        return self.name or self.kind

    @property
    def outcome_rule(self) -> OutcomeRule:
        """How a bits_needed figure judges runs (its metric, reference, tolerance and round-off allowance)."""
        return OutcomeRule(metric=self.metric[0], reference=self.reference, tolerance=self.tolerance,
                           roundoff=self.roundoff)


def _plot_spec(raw: Any, index: int, src: _Source) -> PlotSpec:
    section = "plot"

    def fail(msg, key=None):
        return src.error(msg, section, key, index)

    if not isinstance(raw, dict):
        raise fail("each [[plot]] must be a table")
    for key in raw:
        if key not in PLOT_KEYS:
            raise fail(f"unknown key; allowed keys: {', '.join(PLOT_KEYS)}", key)
    kind = raw.get("kind")
    if kind not in schema.PLOT_KINDS:
        raise fail(f"expected one of {', '.join(schema.PLOT_KINDS)}, got {kind!r}", "kind")
    metric = raw.get("metric", "grad_norm")
    metrics = (metric,) if isinstance(metric, str) else metric
    if not isinstance(metrics, (list, tuple)) or not metrics or any(m not in schema.METRICS for m in metrics):
        raise fail(f"expected one of {', '.join(schema.METRICS)} (or a list of them), got {metric!r}", "metric")
    if kind == "bits_needed" and metrics[0] not in OUTCOME_METRICS:
        raise fail(f"bits_needed judges runs by an error that is zero at the optimum: expected one of "
                   f"{', '.join(OUTCOME_METRICS)}, got {metrics[0]!r}", "metric")
    where = raw.get("where", {})
    if not isinstance(where, dict):
        raise fail("expected an inline table {column = value or [values]}", "where")
    clean_where = {}
    for name, value in where.items():
        if name not in PARAMS:
            raise fail(f"unknown column {name!r}; columns are the study parameters: {', '.join(PARAMS)}", "where")
        values = value if isinstance(value, list) else [value]
        try:
            clean_where[name] = tuple(PARAMS[name].check(v) for v in values)
        except SchemaError as exc:
            raise fail(f"{name}: {exc}", "where") from None
    lines = raw.get("lines")
    if lines is not None:
        if not isinstance(lines, list) or any(c not in PARAMS for c in lines):
            raise fail(f"expected a list of study parameters ({', '.join(PARAMS)}), got {lines!r}", "lines")
        lines = tuple(lines)
    x = raw.get("x", {"bits_needed": "condition_number", "error_vs_cost": "energy_pj"}.get(kind, "bits"))
    if kind == "error_vs_cost":
        if x not in COST_AXES:
            raise fail(f"expected a cost column ({', '.join(COST_AXES)}), got {x!r}", "x")
    elif x not in PARAMS or PARAMS[x].kind not in (int, float):
        numeric = [n for n, p in PARAMS.items() if p.kind in (int, float)]
        raise fail(f"expected a numeric study parameter ({', '.join(numeric)}), got {x!r}", "x")
    tolerance = raw.get("tolerance", 10.0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 1:
        raise fail(f"expected a number >= 1 (factor over the reference's final value), got {tolerance!r}", "tolerance")
    reference = raw.get("reference", "svrg")
    if reference not in schema.ALGORITHMS:
        raise fail(f"expected one of {', '.join(schema.ALGORITHMS)}, got {reference!r}", "reference")
    roundoff = raw.get("roundoff", DEFAULT_ROUNDOFF)
    if isinstance(roundoff, bool) or not isinstance(roundoff, (int, float)) or not 0 <= roundoff < 1:
        raise fail(f"expected a number in [0, 1) (the round-off allowance, a fraction of a run's starting value), "
                   f"got {roundoff!r}", "roundoff")
    for key in ("floor", "logx"):
        if key in raw and not isinstance(raw[key], bool):
            raise fail(f"expected true or false, got {raw[key]!r}", key)
    for key in ("title", "name"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(f"expected a string, got {raw[key]!r}", key)
    if "name" in raw and not _STEM.fullmatch(raw["name"]):
        raise fail(f"expected a file stem of letters, digits, _ and -, got {raw['name']!r}", "name")
    return PlotSpec(kind=kind, metric=tuple(metrics), where=clean_where, lines=lines, title=raw.get("title"),
                    name=raw.get("name"), x=x, tolerance=float(tolerance), reference=reference,
                    roundoff=float(roundoff), floor=raw.get("floor", True), logx=raw.get("logx"))


# -- the study --------------------------------------------------------------------------------------
@attrs.frozen(kw_only=True, eq=False)
class Study:
    """A validated study: fixed parameters, grid axes, per-algorithm overrides, records, plots."""

    name: str
    description: str
    fixed: dict
    grid: dict  # axis name -> tuple of values, in file order
    overrides: dict  # algorithm -> {param: value}
    record: tuple[str, ...]
    plots: tuple[PlotSpec, ...]
    raw: dict = attrs.field(repr=False)  # the validated input, for saving and resuming
    source: str | None = None
    energy_table: EnergyTable = attrs.field(factory=default_table, repr=False)  # prices the runs' cost counts

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> "Study":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StudyError(f"{path}: cannot read study file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise StudyError(f"{path}, line {line}: not UTF-8 text (a TOML file is UTF-8): byte "
                             f"{exc.object[exc.start]:#04x} at offset {exc.start}") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise StudyError(f"{path}: not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path), text=text)

    @classmethod
    def from_dict(cls, raw: dict, *, source: str | None = None, text: str | None = None) -> "Study":
        return _parse(raw, _Source(source, text))

    @classmethod
    def create(cls, name: str, *, description: str = "", problem: dict | None = None, train: dict | None = None,
               precision: dict | None = None, grid: dict | None = None, overrides: dict | None = None,
               plots: list[dict] | None = None, record: list[str] | None = None) -> "Study":
        """The Python form of a study file: the same sections as keyword arguments."""
        raw: dict[str, Any] = {"study": {"name": name, "description": description}}
        if record is not None:
            raw["study"]["record"] = list(record)
        for key, value in (("problem", problem), ("train", train), ("precision", precision), ("grid", grid),
                           ("overrides", overrides), ("plot", plots)):
            if value is not None:
                raw[key] = value
        return cls.from_dict(raw)

    # -- use -----------------------------------------------------------------------------------
    def runs(self) -> list[RunSpec]:
        """Every distinct run of the grid, in grid order (first axis slowest). Duplicates collapse."""
        names = list(self.grid)
        out: dict[str, RunSpec] = {}
        for combo in itertools.product(*(self.grid[n] for n in names)):
            params = dict(self.fixed)
            params.update(zip(names, combo))
            params.update(self.overrides.get(params["algorithm"], {}))
            try:
                spec = resolve_run(params)
            except (SchemaError, ValueError, TypeError) as exc:
                point = ", ".join(f"{n} = {v!r}" for n, v in zip(names, combo))
                raise SchemaError(f"at {{{point}}}: {exc}" if point else str(exc),
                                  param=getattr(exc, "param", None)) from None
            out.setdefault(spec.id, spec)
        return list(out.values())

    @property
    def outcome_rule(self) -> OutcomeRule:
        """How the results table's ``outcome`` column judges runs: as the first bits_needed figure does,
        or by the defaults (gradient norm within 10x of SVRG's, or 1e-10 of its start)."""
        for plot in self.plots:
            if plot.kind == "bits_needed":
                return plot.outcome_rule
        return OutcomeRule()

    @property
    def reference_settings(self) -> tuple[str, ...]:
        """The parameters the outcome's reference algorithm sets for itself (``[overrides.svrg]``, e.g. more
        epochs, so that it reaches its float64 floor): the runs judged against it need not share them."""
        return tuple(self.overrides.get(self.outcome_rule.reference, {}))

    def to_json(self) -> str:
        # Key order is kept: the order of the [grid] lists is the order of the runs and table rows.
        return json.dumps(self.raw, indent=1)


def _parse(raw: Any, src: _Source) -> Study:
    """A validated Study from the raw sections, each checked by its own reader below."""
    if not isinstance(raw, dict):
        raise src.error("a study must be a table of sections")
    for key in raw:
        if key not in TOP_LEVEL:
            raise src.error(f"unknown section {key!r}; allowed sections: {', '.join(TOP_LEVEL)}", None, None)
    name, description, record = _parse_head(raw, src)
    raw, table = _parse_energy_table(raw, src)
    fixed = _parse_fixed(raw, src)
    grid = _parse_grid(raw, src)
    overrides = _parse_overrides(raw, src)
    plots = _parse_plots(raw, src)
    study = Study(name=name, description=description, fixed=fixed, grid=grid, overrides=overrides,
                  record=tuple(record), plots=plots, raw=raw, source=src.path, energy_table=table)
    _check_runs(study, src)
    return study


def _parse_head(raw: dict, src: _Source) -> tuple[str, str, list]:
    """[study]: name, description and the recorded metrics."""
    head = src.table(raw, "study", "expected a table [study]")
    for key in head:
        if key not in STUDY_KEYS:
            raise src.error(f"unknown key; allowed keys: {', '.join(STUDY_KEYS)}", "study", key)
    name = head.get("name")
    if not isinstance(name, str) or not _STEM.fullmatch(name):
        raise src.error(f"expected a name of letters, digits, _ and - (it names the results folder), got {name!r}",
                        "study", "name")
    description = head.get("description", "")
    if not isinstance(description, str):
        raise src.error(f"expected a string, got {description!r}", "study", "description")
    record = head.get("record", list(schema.METRICS))
    if not isinstance(record, list) or not record or any(m not in schema.METRICS for m in record):
        raise src.error(f"expected a non-empty list of {', '.join(schema.METRICS)}, got {record!r}", "study", "record")
    return name, description, record


def _parse_energy_table(raw: dict, src: _Source) -> tuple[dict, EnergyTable]:
    """[study] energy_table: the default table's name, an installed plugin table's name, or a TOML
    table's path (relative to the study file). The path is stored resolved, so a saved study
    resumes from any directory."""
    value = raw.get("study", {}).get("energy_table")
    if value is None or value == DEFAULT_TABLE_NAME:
        return raw, default_table()
    if not isinstance(value, str) or not value:
        raise src.error(f"expected {DEFAULT_TABLE_NAME!r}, a plugin table's name or the path of a TOML energy table, "
                        f"got {value!r}", "study", "energy_table")
    if is_plugin_table(value):
        try:
            return raw, energy_table(value)
        except EnergyTableError as exc:
            raise src.error(str(exc), "study", "energy_table") from None
    path = Path(value)
    if not path.is_absolute() and src.path is not None:
        path = Path(src.path).resolve().parent / path
    try:
        table = load_energy_table(path)
    except EnergyTableError as exc:
        raise src.error(str(exc), "study", "energy_table") from None
    raw = {**raw, "study": {**raw["study"], "energy_table": str(path.resolve())}}
    return raw, table


def _parse_fixed(raw: dict, src: _Source) -> dict:
    """[problem], [train], [precision]: one value per parameter, over the schema's defaults."""
    fixed = schema.defaults()
    for section in schema.SECTIONS:
        table = src.table(raw, section, f"expected a table [{section}]")
        allowed = schema.params_in(section)
        for key, value in table.items():
            if key not in allowed:
                hint = f" (it belongs in [{PARAMS[key].section}])" if key in PARAMS else ""
                raise src.error(f"unknown key{hint}; allowed keys: {', '.join(allowed)}", section, key)
            if isinstance(value, list):
                raise src.error(f"a list sweeps a parameter: put it in [grid] ({key} = {value!r})", section, key)
            fixed[key] = src.check(key, value, section)
    return fixed


def _parse_grid(raw: dict, src: _Source) -> dict[str, tuple]:
    """[grid]: axis name -> distinct checked values, in file order."""
    grid_raw = src.table(raw, "grid", "expected a table [grid] of parameter = [values]")
    grid: dict[str, tuple] = {}
    for key, values in grid_raw.items():
        if key not in PARAMS:
            raise src.error(f"unknown parameter; allowed: {', '.join(PARAMS)}", "grid", key)
        if not isinstance(values, list) or not values:
            raise src.error(f"expected a non-empty list of values, got {values!r}", "grid", key)
        checked = [src.check(key, value, "grid") for value in values]
        if len(set(checked)) != len(checked):
            raise src.error(f"repeated values in {values!r}", "grid", key)
        grid[key] = tuple(checked)
    return grid


def _parse_overrides(raw: dict, src: _Source) -> dict[str, dict]:
    """[overrides.ALGORITHM]: train and precision values for one algorithm's runs."""
    over_raw = src.table(raw, "overrides", "expected tables [overrides.ALGORITHM]")
    overrides: dict[str, dict] = {}
    for algorithm, table in over_raw.items():
        section = f"overrides.{algorithm}"
        if algorithm not in schema.STUDY_ALGORITHMS:
            raise src.error(f"unknown algorithm; allowed: {', '.join(schema.STUDY_ALGORITHMS)}", section)
        if not isinstance(table, dict):
            raise src.error("expected a table of parameter = value", section)
        allowed = schema.params_in("train") + schema.params_in("precision")
        allowed.remove("algorithm")
        overrides[algorithm] = {}
        for key, value in table.items():
            if key not in allowed:
                raise src.error(f"unknown key; allowed keys: {', '.join(allowed)}", section, key)
            overrides[algorithm][key] = src.check(key, value, section)
    return overrides


def _parse_plots(raw: dict, src: _Source) -> tuple[PlotSpec, ...]:
    """[[plot]]: the figures, each saved under a stem of its own."""
    plots_raw = raw.get("plot", [])
    if not isinstance(plots_raw, list):
        raise src.error("expected an array of tables [[plot]]", "plot")
    plots = tuple(_plot_spec(p, i, src) for i, p in enumerate(plots_raw))
    stems = [p.stem for p in plots]
    for i, stem in enumerate(stems):
        if stem in stems[:i]:
            raise src.error(f"two plots would both be saved as {stem!r}; give one a name = \"...\"", "plot", "name", i)
    return plots


def _check_runs(study: Study, src: _Source) -> None:
    """The grid expands into at least one valid run, and a named profile reaches one of them."""
    try:
        runs = study.runs()
    except (SchemaError, ValueError, TypeError) as exc:
        section, key = _where_set(getattr(exc, "param", None), study.grid, study.overrides)
        what = "a grid point is invalid" if study.grid else "an impossible combination"
        raise src.error(f"{what}: {exc}", section, key) from None
    if not runs:
        raise src.error("the grid has no runs", "grid")
    if _names_profile(study.fixed, study.grid, study.overrides) and all(run["profile"] is None for run in runs):
        from ..algorithms.config import accumulator_arithmetics

        *others, last = schema.LOW_PRECISION
        raise src.error(
            f"no run uses it: a profile sums the integer dot products of {', '.join(others)} or {last} with arithmetic = "
            f"{' or '.join(map(repr, accumulator_arithmetics()))} (and a data_format); arithmetic 'float' computes "
            "in float64", "grid" if "profile" in study.grid else "precision", "profile")


def _where_set(param: str | None, grid: dict, overrides: dict) -> tuple[str | None, str | None]:
    """The (section, key) of the line that sets ``param``, for an error about it."""
    if param is None:
        return ("grid" if grid else None), None
    if param in grid:
        return "grid", param
    for algorithm, table in overrides.items():
        if param in table:
            return f"overrides.{algorithm}", param
    section = PARAMS[param].section
    return section, param  # set in its section, or left at its default (the key names it either way)


def _names_profile(fixed: dict, grid: dict, overrides: dict) -> bool:
    return (fixed["profile"] is not None or any(v is not None for v in grid.get("profile", ()))
            or any(table.get("profile") is not None for table in overrides.values()))
