"""Per-client token buckets for failed attempts (security checklist 35: detect and slow down guessing).

Only failures are charged: a client is refused (HTTP 429 with ``Retry-After``) once it has failed ``burst`` times
faster than ``per_second`` refills, and a well-behaved client never notices the limiter. The core uses one bucket
set for bad API keys and one for refresh tokens it cannot accept; the SDK uses one for its refresh API.

Written here rather than taken from ``limits``: that library counts every hit in fixed or moving windows and keeps
a timer thread for expiry, whereas this needs "test, then charge only on failure" with a refill rate, a memory
bound under address spraying (least recently used clients are forgotten, at most ``max_clients``) and an injected
clock for tests; together that is the thirty lines below.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketSpec:
    """``burst`` failures allowed at once, refilled at ``per_second``; ``burst <= 0`` switches the limit off."""

    burst: float
    per_second: float

    @property
    def enabled(self) -> bool:
        return self.burst > 0 and self.per_second > 0


class FailureLimiter:
    def __init__(
        self, spec: BucketSpec, *, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (self.spec.burst, now))
        return min(self.spec.burst, tokens + (now - at) * self.spec.per_second)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or ``None`` if it may now."""
        if not self.spec.enabled:
            return None
        with self._lock:
            tokens = self._tokens(client, self._clock())
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) / self.spec.per_second))

    def charge(self, client: str) -> bool:
        """Count one failure; True if it used the client's last allowance (the moment to log an alert)."""
        if not self.spec.enabled:
            return False
        with self._lock:
            now = self._clock()
            tokens = max(0.0, self._tokens(client, now) - 1)
            self._buckets[client] = (tokens, now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        return tokens < 1
