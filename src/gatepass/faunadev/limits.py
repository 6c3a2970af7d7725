"""The limits one query lives within, so that no query can answer 500 or hold the store's lock for long.

Fauna's own limits, where it documents them (``fauna/faunadb``):

- request bodies: 8 MiB (``HttpServer.MaxRequestSize``), ``413 request too large``;
- JSON nesting: Fauna's parser refuses bodies nested past its limit with ``invalid expression`` /
  "Request body JSON exceeds nesting limit." (``FQL1Routes.parseJSON``); ours is lower (``MAX_JSON_DEPTH``)
  because this evaluator recurses in Python, where every level costs a few frames of a 1,000-frame stack;
- numbers: integers are 64-bit longs (Jackson's ``getValueAsLong`` refuses a wider literal, which Fauna answers
  with "Request body is not valid JSON."), and long arithmetic wraps around as the JVM's does;
- call depth: Fauna allows lambda calls 200 deep (``EvalContext.MaxStackDepth``) and answers ``stack overflow``
  / "Call stack reached the maximum limit of 200."; we count every nested evaluation, lambda calls and
  expressions alike, up to ``MAX_EVAL_DEPTH`` (what the Python stack affords), and answer the same way;
- compute: one compute unit per function call and per lambda application, 12,000 billable ops of 50 units each
  (``State.computeOpsLimit``, ``QueryMetrics.BaselineCompute``), ``400 bad request`` /
  "Transaction does too much compute: got N, limit: 12000" (``TxnTooManyComputeOpsException``);
- time: a query past its deadline answers ``503 time out`` (``APIResponse.ServiceTimeout``); the caller may ask
  for less with ``X-Query-Timeout`` (milliseconds), never for more than the server's limit (``MAX_QUERY_MS``
  unless the server is built with another): Fauna's default is two minutes, but this server has one lock.

Bulk operations charge units for the elements they touch, so one call over a huge array costs what it does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from gatepass.faunadev.errors import FaunaError
from gatepass.faunadev.values import SetRef

MAX_BODY = 8 * 1024 * 1024
MAX_JSON_DEPTH = 128
MAX_EVAL_DEPTH = 160  # nested evaluation, lambda bodies included: bounds the Python stack the evaluator uses
BASELINE_COMPUTE = 50
COMPUTE_OPS_LIMIT = 12_000
COMPUTE_UNITS_LIMIT = COMPUTE_OPS_LIMIT * BASELINE_COMPUTE
MAX_QUERY_MS = 1_000  # one store lock: a query may hold it this long at most
CLOCK_EVERY = 256  # units between two looks at the clock
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_VALUE_DEPTH = MAX_JSON_DEPTH  # results and stored documents must be writable as JSON we would read back
MAX_STORED_MEMBERS = 200_000  # arrays' and objects' members in one stored record (Fauna caps documents at 8 MB)


class LimitExceeded(FaunaError):
    """A limit was reached: never swallowed by a role predicate (which would turn it into a refusal)."""


def wrap64(value: int) -> int:
    """A Python int as the JVM's 64-bit long arithmetic leaves it (two's complement wrap-around)."""
    return ((value - INT64_MIN) % 2**64) + INT64_MIN


def stack_overflow(limit: int, pos: list[Any]) -> LimitExceeded:
    """Fauna's ``stack overflow`` for a call stack deeper than ``limit``."""
    return LimitExceeded("stack overflow", f"Call stack reached the maximum limit of {limit}.", pos)


def nesting_error() -> FaunaError:
    """Fauna's answer to a request body nested past the limit."""
    return FaunaError("invalid expression", "Request body JSON exceeds nesting limit.", [])


def invalid_json() -> FaunaError:
    """Fauna's answer to a request body it cannot read as JSON (a 65-bit integer among them)."""
    return FaunaError("invalid expression", "Request body is not valid JSON.", [])


class Budget:
    """Compute units, evaluation depth and the deadline of one query; shared by every evaluator it starts."""

    def __init__(
        self,
        units: int = COMPUTE_UNITS_LIMIT,
        timeout_ms: int = MAX_QUERY_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = units
        self.used = 0
        self.depth = 0
        self._clock = clock
        self._deadline = clock() + timeout_ms / 1000
        self._next_clock_check = CLOCK_EVERY

    def charge(self, units: int = 1) -> None:
        """Spend ``units``; past the limit, or past the deadline (looked at every ``CLOCK_EVERY`` units), fail."""
        self.used += units
        if self.used > self.limit:
            got = math.ceil(self.used / BASELINE_COMPUTE)
            raise LimitExceeded(
                "bad request",
                f"Transaction does too much compute: got {got}, limit: {self.limit // BASELINE_COMPUTE}",
                None,
            )
        if self.used >= self._next_clock_check:
            self._next_clock_check = self.used + CLOCK_EVERY
            if self._clock() > self._deadline:
                raise LimitExceeded("time out", "Read timed out (the query ran past its time limit).", None)

    @property
    def compute_ops(self) -> int:
        """Billable compute ops, as Fauna reports them in ``X-Compute-Ops`` (at least one)."""
        return max(1, math.ceil(self.used / BASELINE_COMPUTE))


def query_timeout_ms(header: str | None, most: int = MAX_QUERY_MS) -> int | str:
    """The time limit a caller asked for in ``X-Query-Timeout`` (at most ``most``), or why it is refused, in
    Fauna's words (``RequestParams.AbstractTimeout``)."""
    if header is None:
        return most
    text = header.strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20):
        return f"Invalid number '{text[:40]}'."
    value = int(text)
    if value <= 0:
        return "Must be greater than 0."
    return min(value, most)


def wire_problem(value: Any) -> str | None:
    """Why a parsed request body is not FQL wire JSON (an integer wider than 64 bits), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
            return "integer out of 64-bit range"
    return None


def value_problem(value: Any, budget: Budget | None = None, *, max_members: int | None = None) -> str | None:
    """Why ``value`` may not be answered, stored or compared (nested deeper than ``MAX_VALUE_DEPTH``, or more
    than ``max_members`` members), or None. Walks iteratively, charging the budget one unit per 8 members: a value
    that shares its parts can be exponentially larger than the query that built it, and is paid for here."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, SetRef):
            item = item.spec
        if isinstance(item, dict):
            members: Any = item.values()
        elif isinstance(item, list):
            members = item
        else:
            continue
        if depth >= MAX_VALUE_DEPTH:
            return f"Values may nest at most {MAX_VALUE_DEPTH} arrays and objects deep."
        for member in members:
            stack.append((member, depth + 1))
            seen += 1
            if seen % 8 == 0 and budget is not None:
                budget.charge()
            if max_members is not None and seen > max_members:
                return f"Values may hold at most {max_members} members."
    return None
