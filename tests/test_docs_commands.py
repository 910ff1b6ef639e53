"""The shell commands of README.md, docs/*.md and benchmarks/README.md, run as written.

Each command runs as a real shell subprocess in a temporary folder holding a copy of the
repository's studies and benchmarks, with ``.venv`` there linking to the environment
that runs these tests (the README's install step made it). Where a command would take
minutes, a documented size flag shrinks it (the benchmarks) or the test runs a smaller
copy of the study it names; the full-size main study runs under the slow marker.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lpsim.studies import Study, Table

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
VENV_BIN = Path(sys.executable).parent
# Flags that shrink a documented benchmark command to seconds (each script's own options).
BENCHMARK_SIZE_FLAGS = {
    "codec_bench.py": "--n 2000 --repeats 1 --skip-latency",
    "arith_bench.py": "--quick",
    "halp_speed.py": "--help",  # no size flag: its smallest configuration fills the last-level cache
    "nn_bench.py": "--batches 1 --batch-size 8",
    "rng_speed.py": "--n 65536 --repeats 1",
    "mac_bench.py": "--quick",
}
# Files in benchmarks/ that are not timing commands (benchmarks/README.md says what each is).
NOT_COMMANDS = {"svrg_kernels.py", "integer_loop_iterates.py", "timing.py"}

pytestmark = pytest.mark.skipif(not (VENV_BIN / "lpsim").exists() or sys.prefix == sys.base_prefix,
                                reason="the documented commands use the project's .venv with lpsim installed")


def readme_main_command() -> str:
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", quick, flags=re.S)[0]


def studies_doc_commands() -> list[str]:
    """The command block at the top of docs/studies.md, one command per line."""
    text = (ROOT / "docs" / "studies.md").read_text()
    block = re.search(r"```\n(\.venv/bin/lpsim run .+?)\n```", text, flags=re.S).group(1)
    return block.splitlines()


def benchmark_commands() -> list[str]:
    """Every indented benchmark command in benchmarks/README.md and docs/performance.md."""
    found = []
    for path in (ROOT / "benchmarks" / "README.md", ROOT / "docs" / "performance.md"):
        found += re.findall(r"^ {4}(\S*=\S* .*benchmarks/\S+\.py.*?)\s*(?:#.*)?$", path.read_text(), flags=re.M)
    return list(dict.fromkeys(found))


def shell(command: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    # as on a fresh machine: the venv is not active, so its programs are not on PATH
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != VENV_BIN.resolve())
    result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"`{command}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def clone(tmp_path) -> Path:
    """A folder laid out like a clone after the README's install step."""
    for name in ("studies", "benchmarks"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(VENV, target_is_directory=True)
    return tmp_path


def shrink_study(path: Path) -> int:
    """Make the study at ``path`` small (2 bit widths, 1 seed, 2 epochs, n = 32); returns its run count."""
    text = path.read_text()
    for key, value in (("bits", "[4, 8]"), ("seed", "[0]"), ("epochs", "2"), ("n", "32")):
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert count == 1, f"{path.name} has no single line '{key} = ...'"
    path.write_text(text)
    grid = tomllib.loads(text)["grid"]
    full_precision = sum(a in ("sgd", "svrg") for a in grid["algorithm"])
    return full_precision + (len(grid["algorithm"]) - full_precision) * len(grid["bits"])


def readme_outputs() -> list[str]:
    """The files the README says the main command writes."""
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    return re.findall(r"`(results/[^`]+\.(?:png|csv))`", quick.split("```", 1)[0])


def check_main_study(clone: Path, runs: int) -> None:
    outputs = readme_outputs()
    assert outputs == ["results/error_vs_bits/figures/error_vs_bits.png", "results/error_vs_bits/results.csv"]
    png, csv = (clone / name for name in outputs)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = Table.read_csv(csv)
    assert len(table.unique("run_id")) == runs
    assert set(table.unique("algorithm")) == {"sgd", "svrg", "lpsgd", "lpsvrg", "halp"}
    assert set(table.unique("status")) <= {"ok", "converged", "diverged"}


def test_readme_install_step_is_what_this_environment_did():
    venv, install, run = readme_main_command().split(" && ")
    assert venv == "python3 -m venv .venv" and install == ".venv/bin/pip install -q -e ."
    assert run.startswith(".venv/bin/lpsim run studies/")


def test_readme_main_command_and_the_studies_doc_commands(clone):
    runs = shrink_study(clone / "studies" / "error_vs_bits.toml")
    run = readme_main_command().split(" && ")[-1]
    result = shell(run, clone)
    assert f"{runs} runs, 0 already done, {runs} to run" in result.stderr
    check_main_study(clone, runs)

    commands = studies_doc_commands()
    assert [c.split("#")[0].split()[:2] for c in commands] == [[".venv/bin/lpsim", verb] for verb in
                                                              ("run", "resume", "plot", "profiles", "formats")]
    assert commands[0].split("#")[0].strip() == run  # the same command as the README's
    for command in commands[1:]:
        result = shell(command, clone)
        verb = command.split()[1]
        if verb == "resume":
            assert f"{runs} runs, {runs} already done, 0 to run" in result.stderr
        elif verb == "plot":
            svg = clone / "results" / "error_vs_bits" / "figures" / "error_vs_bits.svg"
            assert str(svg.relative_to(clone)) in result.stdout and b"<svg" in svg.read_bytes()[:500]
        elif verb == "profiles":
            assert "vnni_int8_int32" in result.stdout and "fp8_fp32" in result.stdout
        elif verb == "formats":
            assert "e4m3" in result.stdout and "bfloat16" in result.stdout


@pytest.mark.slow
def test_readme_main_command_at_full_size(clone):
    shell(readme_main_command().split(" && ")[-1], clone)
    check_main_study(clone, len(Study.from_toml(ROOT / "studies" / "error_vs_bits.toml").runs()))


def test_every_benchmark_command_is_listed_and_runs_from_the_repository_root():
    commands = benchmark_commands()
    scripts = {re.search(r"benchmarks/(\S+\.py)", c).group(1) for c in commands}
    files = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    assert scripts == set(BENCHMARK_SIZE_FLAGS) == files - NOT_COMMANDS
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in NOT_COMMANDS)
    for command in commands:
        assert ".venv/bin/python benchmarks/" in command, command


# arith_bench --quick still times every case on the exact engine: about 30 s of CPU
@pytest.mark.parametrize("script", [pytest.param(s, marks=pytest.mark.slow) if s == "arith_bench.py" else s
                                    for s in sorted(BENCHMARK_SIZE_FLAGS)])
def test_benchmark_command_runs_as_written(clone, script):
    command = next(c for c in benchmark_commands() if f"benchmarks/{script}" in c)
    result = shell(f"{command} {BENCHMARK_SIZE_FLAGS[script]}", clone)
    expected = {"codec_bench.py": "fast is", "arith_bench.py": "ratio", "halp_speed.py": "--epochs",
                "nn_bench.py": "simulated FP8",
                "rng_speed.py": "ratios to philox10", "mac_bench.py": "int8 x int8 -> int32"}[script]
    assert expected in result.stdout
