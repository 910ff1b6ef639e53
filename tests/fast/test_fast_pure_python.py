"""The kernels run as plain Python (NUMBA_DISABLE_JIT=1) give the exact engine's results:
the compiled code is a faithful translation of readable Python, which coverage can see."""

import os
import subprocess
import sys
from pathlib import Path


def test_kernels_without_jit_match_the_exact_engine():
    script = Path(__file__).with_name("pure_python_check.py")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-W", "ignore::RuntimeWarning", str(script)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pure-python kernels agree" in done.stdout
