"""Hypothesis settings for the fuzz tests: few examples in CI, many on demand (``GATEPASS_FUZZ_EXAMPLES=3000``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def fuzz_settings() -> settings:
    return settings(
        max_examples=int(os.environ.get("GATEPASS_FUZZ_EXAMPLES", "200")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
