"""Flows and their two drivers (the httpx pattern: one logic, two shells).

A flow is a generator that yields the I/O it needs and receives the result: ``CoreCall`` (a request to the core),
``FetchJwks`` (reload the core's public keys), ``Blocking`` (any other blocking call, such as a Fauna query) or
``Awaited`` (a coroutine of another async library: the official supertokens-python SDK, for the FaunaDB plugin).
``run_sync`` performs each step in the calling thread (an ``Awaited`` step is a programming error there);
``run_async`` awaits the core's async client and sends blocking work to a worker thread. Errors raised by a step
are thrown back into the flow, which may handle them.
No event loop is ever started from synchronous code.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio.to_thread

from gatepass.protocol.cdi import CdiReply, CdiRequest

T = TypeVar("T")


@dataclass(frozen=True)
class CoreCall:
    """A step: one request to the core; the driver sends back the reply body."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # bodies carry access and refresh tokens: show which fields, not their values
        fields = None if self.body is None else sorted(self.body)
        return f"CoreCall({self.method!r}, {self.path!r}, body_fields={fields!r}, query={self.query!r})"


@dataclass(frozen=True)
class FetchJwks:
    """Reload the JWKS because ``kid`` is unknown (``None``: because the cache is stale)."""

    kid: str | None


@dataclass(frozen=True)
class Blocking:
    """A step: a blocking call other than the core's (a Fauna query); the driver sends back its result."""

    fn: Callable[[], Any]


@dataclass(frozen=True)
class Awaited:
    """A step: a call of another async library; only ``run_async`` performs it (awaiting ``fn()``)."""

    fn: Callable[[], Awaitable[Any]]


Step = CoreCall | FetchJwks | Blocking | Awaited
Flow = Generator[Step, Any, T]
R = TypeVar("R", bound=CdiReply)


def resolved(value: Any) -> Flow[Any]:
    """``value``, or what it resolves to when it is awaitable (a user function that may be ``async``, as
    supertokens-python's ``MaybeAwaitable``): only the async driver can await it."""
    if inspect.isawaitable(value):
        awaitable = value
        value = yield Awaited(lambda: awaitable)
    return value


def ask(request: CdiRequest[R]) -> Flow[R]:
    """One CDI call as a step; the reply comes back parsed and checked by the request's own type."""
    body = yield CoreCall(request.method, request.path(), request.body(), request.query())
    return request.parse_reply(body)


class Io(Protocol):
    """What the drivers need from the recipe: ``core_sync`` and ``core_async`` answer a ``CoreCall`` with the
    reply body, and ``refresh_jwks`` reloads the core's public keys (blocking)."""

    def core_sync(self, call: CoreCall) -> dict[str, Any]: ...
    async def core_async(self, call: CoreCall) -> dict[str, Any]: ...
    def refresh_jwks(self, kid: str | None) -> None: ...


def run_sync(flow: Flow[T], io: Io) -> T:
    """Drive ``flow`` to its result in the calling thread: each step is performed, and its result sent back
    or its exception thrown in."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if isinstance(step, Awaited):
            pending = step.fn()
            close = getattr(pending, "close", None)
            if callable(close):
                close()  # a coroutine never awaited would warn
            flow.close()
            raise TypeError("an async function (an Awaited step) needs the async API: use asyncio, not syncio")
        result, error = None, None
        try:
            if isinstance(step, CoreCall):
                result = io.core_sync(step)
            elif isinstance(step, FetchJwks):
                io.refresh_jwks(step.kid)
            else:
                result = step.fn()
        except Exception as exc:
            error = exc


async def run_async(flow: Flow[T], io: Io) -> T:
    """Drive ``flow`` to its result: core calls awaited, key reloads and blocking steps in a worker thread;
    each step's result is sent back, or its exception thrown in."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        result, error = None, None
        try:
            if isinstance(step, CoreCall):
                result = await io.core_async(step)
            elif isinstance(step, FetchJwks):
                await anyio.to_thread.run_sync(io.refresh_jwks, step.kid)
            elif isinstance(step, Awaited):
                result = await step.fn()
            else:
                result = await anyio.to_thread.run_sync(step.fn)
        except Exception as exc:
            error = exc
