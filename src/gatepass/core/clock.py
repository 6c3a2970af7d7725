"""Time is injected everywhere as a callable returning epoch milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    """The current time in epoch milliseconds: the clock outside tests."""
    return time.time_ns() // 1_000_000
