import os

from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run, locally and in CI.
settings.register_profile(
    "hpsearch", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "hpsearch"))
