"""The per-user session cap: a pure decision over a user's live sessions, taken inside the creating transaction.

The invariant: with ``max_sessions_per_user = n > 0``, once a create commits the user has at most ``n`` live
sessions (in all the app's tenants together), whatever runs in parallel, in one core process or several: the
create locks the user (an advisory lock on PostgreSQL, the single writer on SQLite), reads their live sessions,
and writes its decision in the same transaction. With ``revoke_oldest`` (the default) the new session always
starts and the oldest ones (by creation time) end to make room; with ``refuse`` a create at the cap writes nothing
and answers ``SESSION_LIMIT_REACHED``. Expired sessions do not count. ``n = 0`` (the default) is no cap, and then
creating costs no extra query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

CapPolicy = Literal["revoke_oldest", "refuse"]
CAP_POLICIES: tuple[CapPolicy, ...] = ("revoke_oldest", "refuse")


@dataclass(frozen=True)
class CapDecision:
    """What one more session for the user means: refuse it, or create it after revoking these (oldest first)."""

    refuse: bool = False
    revoke: tuple[str, ...] = ()


def decide_cap(live_oldest_first: Sequence[str], cap: int, policy: CapPolicy) -> CapDecision:
    """The decision for one more session when the user's live sessions are ``live_oldest_first`` (handles)."""
    if cap <= 0 or len(live_oldest_first) < cap:
        return CapDecision()
    if policy == "refuse":
        return CapDecision(refuse=True)
    return CapDecision(revoke=tuple(live_oldest_first[: len(live_oldest_first) - cap + 1]))
