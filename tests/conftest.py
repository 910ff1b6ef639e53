import os

import pytest
from hypothesis import HealthCheck, settings

from lpsim.codec import ENGINES

# CI: reproducible examples, no deadline (Numba compiles on first call).
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=ENGINES, scope="module")
def engine(request) -> str:
    """Each engine in turn, so an expectation against an independent reference (numpy, ml_dtypes,
    a Fraction or Python-int computation, a hand table, a docs example) holds for both engines,
    not only for one engine and then fast-equals-exact. Module scope, so hypothesis tests can
    take it too."""
    return request.param
