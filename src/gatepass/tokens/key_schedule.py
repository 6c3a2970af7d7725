"""When to create, which to sign with, and how long to keep dynamic signing keys (pure).

Let U be the key update interval, V the access-token validity and O the overlap (60 s, or U/5 when U is so small
that 60 s would not fit, which tiny test intervals need). This mirrors the upstream core:
- a key verifies, and stays in the JWKS, until ``created + U + 2V``;
- a new key is created when there is none, or when ``now + O > newest.created + U``;
- the newest key signs unless it is younger than O while the previous key is still within its own U, so every key
  is published for at least O before it signs (publish-then-sign);
- the JWKS may be cached until the next key is due: ``max(1 s, newest.created + U - O - now)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_OVERLAP_MS = 60_000
VALIDITY_OVERLAP_FACTOR = 2


class Dated(Protocol):
    """Anything with a creation time (a stored or a parsed key): all the schedule needs to know of a key."""

    @property
    def created_at_ms(self) -> int:
        """When the key was created, in epoch milliseconds."""


@dataclass(frozen=True)
class KeyTimes:
    """The schedule's inputs: U (``update_interval_ms``) and V (``access_validity_ms``)."""

    update_interval_ms: int
    access_validity_ms: int

    @property
    def overlap_ms(self) -> int:
        """O: 60 s, or U/5 when U is shorter than five minutes."""
        return min(DEFAULT_OVERLAP_MS, self.update_interval_ms // 5)


def is_live(key: Dated, now_ms: int, times: KeyTimes) -> bool:
    """Whether the key still verifies and is published: ``now < created + U + 2V``."""
    deadline = key.created_at_ms + times.update_interval_ms + VALIDITY_OVERLAP_FACTOR * times.access_validity_ms
    return now_ms < deadline


def needs_new_key(newest_first: Sequence[Dated], now_ms: int, times: KeyTimes) -> bool:
    """Whether a key must be created: there is none, or ``now + O > newest.created + U``."""
    if not newest_first:
        return True
    return now_ms + times.overlap_ms > newest_first[0].created_at_ms + times.update_interval_ms


def signing_index(newest_first: Sequence[Dated], now_ms: int, times: KeyTimes) -> int:
    """Index of the key to sign with; the list must be non-empty and sorted newest first."""
    newest = newest_first[0]
    if len(newest_first) > 1 and now_ms - newest.created_at_ms < times.overlap_ms:
        previous = newest_first[1]
        if now_ms < previous.created_at_ms + times.update_interval_ms:
            return 1
    return 0


def jwks_max_age_seconds(newest_first: Sequence[Dated], now_ms: int, times: KeyTimes) -> int:
    """How long a JWKS may be cached: until the next key is due, at least one second."""
    if not newest_first:
        return 1
    due = newest_first[0].created_at_ms + times.update_interval_ms - times.overlap_ms
    return max(1, (due - now_ms) // 1000)
