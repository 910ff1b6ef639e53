"""Study files: parsing, validation with helpful errors, grid expansion, stable run ids."""

import hashlib
import json
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.formats import BlockFormat, FixedPoint, FloatFormat, available_formats
from lpsim.formats.registry import get_format
from lpsim.studies import PARAMS, SEMANTICS_VERSION, Study, StudyError, resolve_format
from lpsim.studies.schema import SchemaError
from lpsim.studies.spec import canonical_json


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path, text) -> str:
    with pytest.raises(StudyError) as info:
        Study.from_toml(write(tmp_path, text))
    return str(info.value)


# -- parsing and expansion ----------------------------------------------------------------------
def test_small_study_expands_to_its_grid(small_study_file):
    study = Study.from_toml(small_study_file)
    runs = study.runs()
    # svrg is full precision: one run per seed, not per bit width; lpsgd and halp: 2 bits x 2 seeds
    assert len(runs) == 2 + 2 * 2 * 2
    assert len({r.id for r in runs}) == len(runs)
    svrg = [r for r in runs if r["algorithm"] == "svrg"]
    assert all(r["bits"] is None and r["format"] is None and r["rounding"] is None for r in svrg)
    halp = [r for r in runs if r["algorithm"] == "halp"]
    assert {r["format"] for r in halp} == {"fixed4_f0", "fixed8_f0"}
    assert all(r["fixed_scale"] is None for r in halp)
    # irrelevant dataset parameters are cleared, relevant ones resolved from defaults
    assert all(r["separable"] is None and r["test_fraction"] is None for r in runs)
    assert all(r["n"] == 32 and r["noise"] == PARAMS["noise"].default for r in runs)


def test_grid_order_first_axis_slowest(small_study_file):
    runs = Study.from_toml(small_study_file).runs()
    assert [r["algorithm"] for r in runs] == ["svrg"] * 2 + ["lpsgd"] * 4 + ["halp"] * 4
    assert [r["seed"] for r in runs[2:6]] == [0, 1, 0, 1]


def test_python_api_equals_toml(small_study_file):
    from_file = Study.from_toml(small_study_file)
    from_python = Study.create(
        "small", description="a tiny sweep for tests",
        problem={"dataset": "least_squares", "n": 32, "d": 4, "condition_number": 4.0},
        train={"epochs": 3}, grid={"algorithm": ["svrg", "lpsgd", "halp"], "bits": [4, 8], "seed": [0, 1]},
        plots=[{"kind": "error_vs_bits", "metric": "grad_norm"}])
    assert [r.id for r in from_file.runs()] == [r.id for r in from_python.runs()]
    assert from_file.to_json() == from_python.to_json()


def test_run_id_is_hash_of_canonical_spec():
    study = Study.create("a", problem={"n": 32, "d": 4, "condition_number": 10}, grid={"algorithm": ["halp"]})
    same = Study.create("b", problem={"n": 32.0, "d": 4, "condition_number": 10.0}, grid={"algorithm": ["halp"]})
    (run,), (other,) = study.runs(), same.runs()
    assert run.id == other.id  # 10 and 10.0 are the same value; the study name is not part of a run

    given = {k: v for k, v in run.params.items() if v is not None}
    text = canonical_json({"semantics": run.semantics, "params": given})
    assert run.id == hashlib.sha256(text.encode()).hexdigest()[:16]
    changed = Study.create("a", problem={"n": 32, "d": 4, "condition_number": 10}, train={"seed": 1},
                           grid={"algorithm": ["halp"]})
    assert changed.runs()[0].id != run.id


def test_run_id_is_stable_across_versions():
    # A golden id: if this changes, results folders made by earlier versions stop resuming.
    # Change it only together with SEMANTICS_VERSION (when a run's results change meaning).
    study = Study.create("golden", problem={"n": 64, "d": 8}, train={"epochs": 5, "seed": 3},
                         precision={"bits": 8, "family": "fixed"}, grid={"algorithm": ["halp"]})
    (run,) = study.runs()
    assert run.semantics == 3  # version 3 changed runs with stochastic rounding (the default)
    assert run.id == "5c19a6db449a15d9", run.params
    nearest = Study.create("golden", problem={"n": 64, "d": 8}, train={"epochs": 5, "seed": 3},
                           precision={"bits": 8, "family": "fixed", "rounding": "nearest_even"}, grid={"algorithm": ["halp"]})
    (run,) = nearest.runs()
    assert run.semantics == 1  # versions 2 and 3 changed only runs with a profile or stochastic rounding
    assert run.id == "86536b31d7dde68d", run.params


def test_overrides_apply_per_algorithm():
    study = Study.create("o", train={"step_size": 0.1}, grid={"algorithm": ["sgd", "halp"]},
                         overrides={"sgd": {"step_size": 0.01}})
    by_alg = {r["algorithm"]: r for r in study.runs()}
    assert by_alg["sgd"]["step_size"] == 0.01 and by_alg["halp"]["step_size"] == 0.1


def test_families_map_to_formats():
    assert resolve_format("fixed", 8) == FixedPoint(bits=8, frac_bits=0)
    assert resolve_format("float", 8) == FloatFormat(exp_bits=4, man_bits=3, specials="none", overflow="saturate")
    assert resolve_format("float", 16).man_bits == 10
    assert resolve_format("float", 4).spec.startswith("e2m1")
    assert resolve_format("float", 8, exp_bits=5).man_bits == 2
    assert resolve_format("bfp", 8, block_size=16) == BlockFormat.bfp(mantissa_bits=8, block_size=16)
    assert resolve_format("format", 8, format="e5m2").spec == "e5m2"
    with pytest.raises(SchemaError, match="exp_bits"):
        resolve_format("float", 4, exp_bits=4)


def test_format_family_takes_bits_from_the_format():
    study = Study.create("f", precision={"family": "format", "format": "e5m2"}, grid={"algorithm": ["halp"]})
    assert study.runs()[0]["bits"] == 8


def test_irrelevant_precision_keys_do_not_split_runs():
    # exp_bits only matters for floats: sweeping it over fixed point gives one run, not three
    study = Study.create("e", grid={"algorithm": ["halp"], "exp_bits": [2, 3, 4]})
    assert len(study.runs()) == 1


def test_saved_study_round_trips_in_grid_order(tmp_path):
    # grid keys out of alphabetical order: the saved study must keep the run order
    path = write(tmp_path, """\
        [study]
        name = "order"
        [grid]
        seed = [0, 1]
        rounding = ["stochastic", "nearest_even"]
        bits = [4, 8]
        """)
    study = Study.from_toml(path)
    again = Study.from_dict(json.loads(study.to_json()))
    assert [r.id for r in again.runs()] == [r.id for r in study.runs()]
    assert [r["seed"] for r in study.runs()][:4] == [0, 0, 0, 0]


# -- malformed files: line, key and allowed values -----------------------------------------------
def test_toml_syntax_error_names_line(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [grid]
        bits = [2, 4,, 8]
        """)
    assert "s.toml" in message and "not valid TOML" in message and "line 4" in message


def test_unknown_key_names_line_and_allowed_keys(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"

        [train]
        epochs = 3
        learning_rate = 0.1
        """)
    assert "line 6" in message and "[train] learning_rate" in message
    assert "allowed keys" in message and "step_size" in message


def test_key_in_wrong_section_says_where_it_belongs(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [train]
        bits = 8
        """)
    assert "line 4" in message and "belongs in [precision]" in message


def test_bad_value_names_allowed_values(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [grid]
        algorithm = ["halp", "adam"]
        """)
    assert "line 4" in message and "[grid] algorithm" in message
    assert "one of sgd, svrg, lpsgd, lpsvrg, halp" in message and "'adam'" in message


@pytest.mark.parametrize("line, expected", [
    ("bits = [1, 8]", "in [2, 32]"),
    ("bits = [8.5]", "an integer"),
    ("bits = []", "non-empty list"),
    ("bits = 8", "non-empty list"),
    ("bits = [8, 8]", "repeated values"),
    ("rounding = ['sideways']", "rounding mode"),
    ("family = ['posit']", "one of fixed, float, bfp, format"),
    ("step_size = [0.0]", "> 0"),
    ("profile = ['no_such_profile']", "lpsim profiles"),
])
def test_bad_grid_values(tmp_path, line, expected):
    message = error_of(tmp_path, f"[study]\nname = \"x\"\n[grid]\n{line}\n")
    assert "line 4" in message and expected in message


def test_list_outside_grid_is_rejected(tmp_path):
    message = error_of(tmp_path, "[study]\nname = \"x\"\n[precision]\nbits = [4, 8]\n")
    assert "line 4" in message and "put it in [grid]" in message


def test_unknown_section_and_bad_name(tmp_path):
    assert "unknown section 'run'" in error_of(tmp_path, "[study]\nname = \"x\"\n[run]\nx = 1\n")
    assert "name" in error_of(tmp_path, "[study]\nname = \"../../etc\"\n")


def test_invalid_grid_point_is_named(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [precision]
        family = "float"
        exp_bits = 5
        [grid]
        algorithm = ["halp"]
        bits = [4, 8]
        """)
    assert "bits = 4" in message and "exp_bits" in message


def test_plot_errors(tmp_path):
    message = error_of(tmp_path, "[study]\nname = \"x\"\n[[plot]]\nkind = \"pie\"\n")
    assert "line 4" in message and "error_vs_bits, convergence, bits_needed" in message
    message = error_of(tmp_path, "[study]\nname = \"x\"\n[[plot]]\nkind = \"convergence\"\n"
                                 "[[plot]]\nkind = \"convergence\"\nmetric = \"accuracy\"\n")
    assert "line 7" in message and "[[plot]] #2 metric" in message
    message = error_of(tmp_path, "[study]\nname = \"x\"\n[[plot]]\nkind = \"convergence\"\n[[plot]]\nkind = \"convergence\"\n")
    assert "both be saved" in message


def test_study_file_cannot_execute_code(tmp_path):
    # Values are data: a string that looks like code is just an unknown name, never evaluated.
    for line in ('algorithm = ["__import__(\'os\').system(\'touch pwned\')"]',
                 'dataset = ["!!python/object:os.system"]'):
        message = error_of(tmp_path, f"[study]\nname = \"x\"\n[grid]\n{line}\n")
        assert "expected one of" in message
    assert not (tmp_path / "pwned").exists()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(StudyError, match="cannot read study file"):
        Study.from_toml(tmp_path / "absent.toml")


def test_study_from_dict_needs_a_table():
    with pytest.raises(StudyError, match="table of sections"):
        Study.from_dict(["not", "a", "table"])


def test_the_integer_loops_anchor_from_codes_changes_only_its_variance_reduced_runs():
    """Version 4: integer-loop HALP and LP-SVRG runs take the full gradient from the data codes."""
    halp, lpsvrg, lpsgd = _integer_study({"algorithm": ["halp", "lpsvrg", "lpsgd"]}, rounding="nearest_even").runs()
    assert halp.semantics == lpsvrg.semantics == SEMANTICS_VERSION == 4
    assert lpsgd.semantics == 1
    float_halp = Study.create("acc", problem={"n": 32, "d": 4}, train={}, precision={"rounding": "nearest_even"},
                              grid={"algorithm": ["halp"]}).runs()[0]
    assert float_halp.semantics == 1


def _integer_study(grid, **precision):
    return Study.create("acc", problem={"n": 32, "d": 4}, train={"arithmetic": "integer"},
                        precision={"data_format": "int8", **precision}, grid=grid)


def test_a_profile_splits_runs_and_only_those_get_new_ids():
    # nearest rounding: semantics version 3 (stochastic rounding's random bits) does not apply; LP-SGD has no
    # full pass, so version 4 (the integer loop's anchor from the codes) does not either
    (plain,) = _integer_study({"algorithm": ["lpsgd"]}, rounding="nearest_even").runs()
    runs = _integer_study({"algorithm": ["lpsgd"], "profile": ["exact", "vnni_int8_int32"]}, rounding="nearest_even").runs()
    assert [r["profile"] for r in runs] == ["exact", "vnni_int8_int32"]
    assert len({plain.id, *(r.id for r in runs)}) == 3
    # the runs without a profile keep their semantics and ids; profile runs hash the version that made it count
    assert plain.semantics == 1 and all(r.semantics == 2 for r in runs)
    (stochastic,) = _integer_study({"algorithm": ["lpsgd"], "profile": ["exact"]}).runs()
    assert stochastic.semantics == 3
    given = {k: v for k, v in runs[1].params.items() if v is not None}
    old_id = hashlib.sha256(canonical_json({"semantics": 1, "params": given}).encode()).hexdigest()[:16]
    assert runs[1].id != old_id  # a result stored before the profile reached training is not reused


def test_profile_is_cleared_where_the_arithmetic_is_float():
    study = Study.create("acc", problem={"n": 32, "d": 4}, precision={"data_format": "int8"},
                         grid={"arithmetic": ["float", "integer"], "algorithm": ["svrg", "halp"],
                               "profile": ["exact", "vnni_int8_int32"]})
    runs = [(r["arithmetic"], r["algorithm"], r["profile"]) for r in study.runs()]
    # SVRG is the float64 reference whatever the arithmetic; float HALP once, not once per profile
    assert runs == [("float", "svrg", None), ("float", "halp", None), ("integer", "halp", "exact"),
                    ("integer", "halp", "vnni_int8_int32")]
    float_halp = [r for r in study.runs() if r["algorithm"] == "halp"][0]
    (no_profile,) = Study.create("b", problem={"n": 32, "d": 4}, precision={"data_format": "int8"},
                                 grid={"algorithm": ["halp"]}).runs()
    assert float_halp.id == no_profile.id


@pytest.mark.parametrize("grid, precision, expected", [
    ({"algorithm": ["halp"], "profile": ["vnni_int8_int32", "fp8_fp32"]}, {},
     r"at \{algorithm = 'halp', profile = 'fp8_fp32'\}.*the profiles it can run: avx2_maddubs_int16"),
    ({"algorithm": ["halp"], "profile": ["exact"]}, {"data_format": None}, "needs data_fmt"),
    ({"algorithm": ["halp"], "profile": ["vnni_int8_int32"]}, {"data_format": "fixed12_f0"},
     r"product register int16_err .* narrower than a single product"),
])
def test_profiles_the_integer_loop_cannot_run_are_rejected_before_running(grid, precision, expected):
    with pytest.raises(StudyError, match=expected):
        _integer_study(grid, **precision)


def test_a_profile_no_run_uses_is_an_error(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [grid]
        algorithm = ["svrg", "halp"]
        profile = ["vnni_int8_int32"]
        """)
    assert "line 5" in message and "[grid] profile: no run uses it" in message and "arithmetic = 'integer'" in message


# -- one spelling per format, impossible combinations refused at load ----------------------------
SPELLINGS_OF_INT8 = ["int8", "INT8", "fixed8_f0", "q8.0", " int8 "]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_INT8)
def test_data_format_spellings_are_one_run(spelling):
    def run_with(data_format):
        (run,) = Study.create("d", problem={"n": 32, "d": 4}, precision={"data_format": data_format},
                              grid={"algorithm": ["halp"]}).runs()
        return run

    canonical = run_with("fixed8_f0")
    run = run_with(spelling)
    assert run.id == canonical.id and run["data_format"] == "fixed8_f0"


@given(name=st.sampled_from(sorted(available_formats())), upper=st.lists(st.booleans(), min_size=24, max_size=24))
@settings(max_examples=40)
def test_any_spelling_of_a_registered_format_is_one_run(name, upper):
    respelled = "".join(c.upper() if flip else c for c, flip in zip(name, upper + [False] * len(name)))

    def runs(data_format):
        return Study.create("d", problem={"n": 32, "d": 4}, precision={"data_format": data_format},
                            grid={"algorithm": ["lpsgd"]}).runs()

    try:
        canonical = runs(get_format(name).spec)
    except StudyError:  # a format training refuses for data (unsigned, no finite max) is refused in every spelling
        with pytest.raises(StudyError, match="data_format"):
            runs(respelled)
        return
    assert [r.id for r in runs(respelled)] == [r.id for r in runs(name)] == [r.id for r in canonical]


def test_data_format_spellings_in_one_grid_are_repeated_values(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [grid]
        data_format = ["int8", "q8.0"]
        """)
    assert "line 4" in message and "[grid] data_format" in message and "repeated values" in message


def test_plot_where_matches_any_spelling_of_a_format():
    study = Study.create("p", grid={"algorithm": ["halp"]},
                         plots=[{"kind": "convergence", "where": {"data_format": "INT8", "format": "e4m3"}}])
    assert study.plots[0].where == {"data_format": ("fixed8_f0",), "format": ("e4m3_fn",)}


# sha256 of each shipped study's run ids in order: results folders of the shipped studies made by
# earlier versions keep resuming (change only together with SEMANTICS_VERSION).
SHIPPED_RUN_IDS = {
    "bits_vs_condition": "e8fa176aab5848c9",  # with the mu_factor axis and a third seed (see below)
    "convergence_8bit": "4217d26752126f76",
    "energy": "ea9a182598f30a9b",  # semantics 4: its 36 integer-loop HALP runs
    "error_vs_bits": "d0d3f9def1c61d29",
    "halp_formats": "eda0d6c02b4dd95d",
    "rounding": "981ed0614c5c0198",
    "softmax_digits": "9a9f12a782bf7f46",
}


@pytest.mark.parametrize("name", sorted(SHIPPED_RUN_IDS))
def test_shipped_studies_keep_their_run_ids(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "studies" / f"{name}.toml"
    ids = " ".join(run.id for run in Study.from_toml(path).runs())
    assert hashlib.sha256(ids.encode()).hexdigest()[:16] == SHIPPED_RUN_IDS[name]


def test_bits_vs_condition_keeps_the_runs_it_had_before_its_mu_factor_axis():
    # the study gained mu_factor = 10 and 100 and a third seed; at mu_factor = 1 (the default mu) and seeds 0
    # and 1 its runs are the earlier study's, id for id and in order, so their stored results stay valid
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "studies" / "bits_vs_condition.toml"
    runs = Study.from_toml(path).runs()
    earlier = " ".join(r.id for r in runs if r["mu_factor"] is None and r["seed"] in (0, 1))
    assert hashlib.sha256(earlier.encode()).hexdigest()[:16] == "41f88e531e8ce4d1"


@pytest.mark.parametrize("sections, where, why", [
    ('[train]\narithmetic = "integer"\n[precision]\nfamily = "float"\ndata_format = "int8"\n',
     "[precision] family", "family = 'float' with bits = 8"),
    ('[train]\narithmetic = "integer"\n[precision]\nfamily = "bfp"\ndata_format = "int8"\n',
     "[precision] family", "family = 'bfp' with bits = 8"),
    ('[train]\narithmetic = "integer"\n[precision]\nfamily = "format"\nformat = "e5m2"\ndata_format = "int8"\n',
     "[precision] format", "format = 'e5m2'"),
    ('[train]\narithmetic = "integer"\n[precision]\ndata_format = "e4m3"\n',
     "[precision] data_format", "data_format = 'e4m3_fn'"),
    ('[problem]\ndataset = "logistic"\nn = 1\n', "[problem] n", "needs n >= 2"),
    ('[problem]\ndataset = "digits"\nmodel = "logistic"\n', "[problem] model", "use model = 'softmax'"),
    ('[problem]\ndataset = "breast_cancer"\nmodel = "least_squares"\n', "[problem] model",
     "has 2 classes: use model = 'logistic' or 'softmax'"),
    ('[problem]\nmodel = "softmax"\n', "[problem] model", "has real-valued targets"),
    ('[problem]\nn = 4\nd = 8\n', "[problem] d", "needs d <= n"),
    ('[problem]\ndataset = "mnist"\n', "[problem] path", 'needs path = "FOLDER"'),
    ('[problem]\ndataset = "logistic"\n', "[train] mu", "which is l2 = 0 for a logistic model: set mu"),
    ('[problem]\ndataset = "logistic"\n[train]\nalgorithm = "lpsgd"\n', "[train] mu", "fixed_scale (the grid step)"),
    ('[problem]\ndataset = "svmlight"\n', "[problem] path", 'needs path = "FILE"'),
])
def test_impossible_combinations_are_errors_at_load(tmp_path, sections, where, why):
    message = error_of(tmp_path, f'[study]\nname = "x"\n{sections}')
    assert message.startswith(str(tmp_path / "s.toml")) and where in message and why in message


def test_a_logistic_study_runs_once_mu_l2_or_a_fixed_scale_is_given():
    for extra in ({"train": {"mu": 0.01}}, {"problem": {"dataset": "logistic", "l2": 1e-3}},
                  {"train": {"algorithm": "lpsgd"}, "precision": {"fixed_scale": 0.01}}):
        sections = {"problem": {"dataset": "logistic"}, "train": {"algorithm": "halp"}}
        for name, table in extra.items():
            sections[name] = {**sections.get(name, {}), **table}
        assert len(Study.create("ok", grid={"seed": [0]}, **sections).runs()) == 1


def test_impossible_grid_point_names_the_axis_and_the_point(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [train]
        arithmetic = "integer"
        [precision]
        data_format = "int8"
        [grid]
        algorithm = ["halp"]
        family = ["fixed", "float"]
        """)
    assert "line 9: [grid] family" in message and "at {algorithm = 'halp', family = 'float'}" in message
    assert "arithmetic = 'integer'" in message and "signed FixedPoint" in message


def test_impossible_override_names_its_table(tmp_path):
    message = error_of(tmp_path, """\
        [study]
        name = "x"
        [precision]
        data_format = "int8"
        [grid]
        algorithm = ["lpsgd", "halp"]
        [overrides.halp]
        arithmetic = "integer"
        family = "float"
        """)
    assert "line 9: [overrides.halp] family" in message and "algorithm = 'halp'" in message


def test_non_utf8_study_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[study]\nname = "x"\ndescription = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(StudyError) as info:
        Study.from_toml(path)
    assert str(info.value).startswith(f"{path}, line 3: not UTF-8")


# -- the random-bit generator ------------------------------------------------------------------------


def _generator_study(grid, **precision):
    return Study.create("gen", problem={"n": 32, "d": 4}, train={"arithmetic": "integer"},
                        precision={"data_format": "int8", **precision}, grid=grid)


def test_the_default_generator_is_left_out_of_run_ids():
    (plain,) = _generator_study({"algorithm": ["halp"]}).runs()
    runs = _generator_study({"algorithm": ["halp"], "generator": ["philox10", "hash32", "splitmix"]}).runs()
    assert [r["generator"] for r in runs] == [None, "hash32", "splitmix64"]
    assert runs[0].id == plain.id and len({r.id for r in runs}) == 3


def test_a_generator_named_in_the_rounding_is_the_same_run():
    (by_param,) = _generator_study({"algorithm": ["halp"], "generator": ["hash32"]}).runs()
    (by_rounding,) = _generator_study({"algorithm": ["halp"]}, rounding="stochastic:hash32").runs()
    assert by_param.id == by_rounding.id and by_rounding["rounding"] == "stochastic"
    with pytest.raises(StudyError, match="names generator .hash32. but generator is .philox7."):
        _generator_study({"algorithm": ["halp"], "generator": ["philox7"]}, rounding="stochastic:hash32").runs()


def test_a_generator_applies_only_where_rounding_is_stochastic():
    runs = _generator_study({"algorithm": ["svrg", "halp"], "generator": ["hash32"]}, rounding="nearest_even").runs()
    assert [r["generator"] for r in runs] == [None, None]


def test_the_generator_reaches_the_training_config():
    from lpsim.studies.run_config import train_config

    (run,) = _generator_study({"algorithm": ["halp"], "generator": ["splitmix64"]}, data_rounding="sr8").runs()
    config = train_config(run.params)
    assert config.rounding.generator.value == "splitmix64" and config.data_rounding.generator.value == "splitmix64"


def test_unknown_generators_are_rejected(tmp_path):
    message = error_of(tmp_path, '[study]\nname = "x"\n[precision]\ngenerator = "mt19937"\n')
    assert "[precision] generator" in message and "philox10, philox7, splitmix64, hash32" in message
