"""Per-client token buckets for failed attempts (security checklist 35: detect and slow down guessing).

Only failures are charged: a client is refused (HTTP 429 with ``Retry-After``) once it has failed ``burst`` times
faster than ``per_second`` refills, and a well-behaved client never notices the limiter. The core uses one bucket
set for bad API keys and one each for refresh and access tokens it cannot accept; the SDK uses one for its refresh
API.

Rules: a bucket may go below zero (down to ``-burst``), so that failures that passed the check concurrently, before
any of them was charged, still lengthen the wait; IPv6 clients are counted per /64, the block one subscriber
usually holds; at most ``max_clients`` buckets are kept (the least recently charged are forgotten first); the
caller is told to alert once per lockout, not once per refused attempt.

Written here rather than taken from ``limits``: that library counts every hit in fixed or moving windows and keeps
a timer thread for expiry, whereas this needs "test, then charge only on failure" with a refill rate, the rules
above and an injected clock for tests; together that is the sixty lines below.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketSpec:
    """``burst`` failures allowed at once (at least 1), refilled at ``per_second``; ``BucketSpec(0, 0)`` is off."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        finite = math.isfinite(self.burst) and math.isfinite(self.per_second)
        if not finite or (self.enabled and self.burst < 1) or (not self.enabled and (self.burst or self.per_second)):
            raise ValueError("a rate limit is BucketSpec(burst >= 1, per_second > 0), or BucketSpec(0, 0) for off")

    @property
    def enabled(self) -> bool:
        """False for ``BucketSpec(0, 0)``, the limit switched off."""
        return self.burst > 0 and self.per_second > 0


def client_key(address: str) -> str:
    """The bucket an address counts in: itself, or its /64 for IPv6 (a subscriber holds a whole /64)."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.ip_network(f"{address.split('%', 1)[0]}/64", strict=False))
    except ValueError:
        return address


@dataclass
class _Bucket:
    tokens: float
    at: float
    alerted: bool = False


class FailureLimiter:
    """One set of buckets, one per client (the rules are in the module docstring); safe to share between threads."""

    def __init__(
        self, spec: BucketSpec, *, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key) or _Bucket(self.spec.burst, now)
        tokens = min(self.spec.burst, bucket.tokens + (now - bucket.at) * self.spec.per_second)
        return _Bucket(tokens, now, bucket.alerted and tokens < self.spec.burst)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or ``None`` if it may now."""
        if not self.spec.enabled:
            return None
        key = client_key(client)
        if key not in self._buckets:  # never charged, or forgotten: a full bucket (``burst`` is at least 1)
            return None
        with self._lock:
            tokens = self._refilled(key, self._clock()).tokens
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) / self.spec.per_second))

    def charge(self, client: str) -> bool:
        """Count one failure; True when it starts a lockout (the moment to log one alert)."""
        if not self.spec.enabled:
            return False
        key = client_key(client)
        with self._lock:
            bucket = self._refilled(key, self._clock())
            bucket.tokens = max(-self.spec.burst, bucket.tokens - 1)
            alert = bucket.tokens < 1 and not bucket.alerted
            bucket.alerted = bucket.alerted or alert
            self._buckets[key] = bucket
            self._buckets.move_to_end(key)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        return alert
