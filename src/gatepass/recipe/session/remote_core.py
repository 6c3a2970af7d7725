"""The SDK's connection to a core over HTTP (``gatepass core`` or any CDI 5.4 core).

Sync callers share one pooled ``httpx.Client``; async callers share one pooled ``httpx.AsyncClient`` per event loop
(a client's connections belong to the loop that opened them), so an awaited core call holds no worker thread, has
no cap on calls in flight but the pool's, and is cancelled with its task (the connection is dropped). Under an async
library other than asyncio, async calls run the sync client in a worker thread. Both have explicit timeouts;
several hosts separated by ``;`` are tried in turn on connection errors only, and a 429 without ``Retry-After`` is
retried, as upstream. The first call checks ``/apiversion`` once. Any 4xx/5xx from the core is a ``CoreError``
naming the status, never the body of a request (which carries tokens); a reply that is not strict JSON
(``gatepass.untrusted``) is the core being unavailable.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncGenerator
from typing import Any

import anyio
import anyio.to_thread
import httpx

from gatepass.errors import ConfigurationError, CoreError, CoreUnavailableError
from gatepass.protocol.cdi import ApiVersion
from gatepass.recipe.session.steps import CoreCall
from gatepass.untrusted import MalformedInput, parse_json_object

CDI_VERSION = "5.4"
RETRY_STATUS = 429
MAX_RETRIES = 5
POOL = httpx.Limits(max_connections=200, max_keepalive_connections=50)  # per client: per process, or per loop
APIVERSION = CoreCall("GET", "/apiversion")


def _split_hosts(connection_uri: str) -> list[str]:
    hosts = [h.strip().rstrip("/") for h in connection_uri.split(";") if h.strip()]
    if not hosts:
        raise ConfigurationError("connection_uri must name at least one core, e.g. http://localhost:3567")
    for host in hosts:
        parsed = httpx.URL(host)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigurationError(f"connection_uri entry {host!r} is not an http(s) URL")
    return hosts


def _retry_delay_s(response: httpx.Response, attempt: int) -> float | None:
    """How long to wait before retrying, or ``None`` to take the answer. A 429 is retried as upstream does, but not
    one with Retry-After: that is gatepass core's rate limit, which will not lift within the retries."""
    retry = response.status_code == RETRY_STATUS and "retry-after" not in response.headers
    return (10 + 250 * attempt) / 1000 if retry and attempt < MAX_RETRIES else None


def read_answer(call: CoreCall, response: httpx.Response) -> dict[str, Any]:
    """The body of the core's answer to ``call``, or the ``CoreError`` / ``CoreUnavailableError`` it amounts to."""
    if response.status_code in (RETRY_STATUS, 503):  # limited or its database is down: unavailable, not broken
        raise CoreUnavailableError(f"the core answered {call.method} {call.path} with {response.status_code}")
    if response.status_code >= 400:
        detail = response.text[:200] if response.status_code < 500 else "internal error"
        raise CoreError(f"the core answered {call.method} {call.path} with {response.status_code}: {detail}")
    try:  # the strict reader: a reply with NaN, 1e309 or a 5,000-digit number is no reply (see untrusted)
        return parse_json_object(response.content)
    except MalformedInput as exc:
        raise CoreUnavailableError(
            f"the core answered {call.method} {call.path} with a body that is not a JSON object ({exc})"
        ) from exc


def _not_json(call: CoreCall, exc: Exception) -> CoreError:
    """A request body httpx cannot encode (NaN, infinity, a lone surrogate, too deep): refused as embedded."""
    return CoreError(f"{call.method} {call.path}: the request body is not JSON ({exc})")


class RemoteCore:
    """A core reached over HTTP."""

    def __init__(self, connection_uri: str, api_key: str | None = None, *, timeout_s: float = 10.0) -> None:
        self.hosts = _split_hosts(connection_uri)
        self._api_key = api_key
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))
        self._sync: httpx.Client | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = weakref.WeakKeyDictionary()
        self._next_host = 0
        self._lock = threading.Lock()
        self._version_checked = False

    def __repr__(self) -> str:  # never show the API key
        return f"RemoteCore({';'.join(self.hosts)!r})"

    def _headers(self, call: CoreCall | None) -> dict[str, str]:
        headers = {"cdi-version": CDI_VERSION}
        if self._api_key:
            headers["api-key"] = self._api_key
        if call is not None and "/recipe/" in call.path:
            headers["rid"] = "session"
        return headers

    def _client(self) -> httpx.Client:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = httpx.Client(timeout=self._timeout, limits=POOL)
        return self._sync

    async def _async_client(self, loop: asyncio.AbstractEventLoop) -> httpx.AsyncClient:
        with self._lock:
            pooled = self._async.get(loop)
            if pooled is None:
                client = httpx.AsyncClient(timeout=self._timeout, limits=POOL)
                pooled = self._async[loop] = (client, _closed_with_the_loop(client))
            else:
                return pooled[0]
        await anext(pooled[1])  # started on this loop: closed by its shutdown_asyncgens (asyncio.run does that)
        return pooled[0]

    def _host_order(self) -> list[str]:
        with self._lock:
            start = self._next_host
            self._next_host = (self._next_host + 1) % len(self.hosts)
        return self.hosts[start:] + self.hosts[:start]

    def _check_versions(self, body: dict[str, Any]) -> None:
        if CDI_VERSION not in ApiVersion().parse_reply(body).versions:
            raise CoreError(f"the core does not support CDI {CDI_VERSION}")
        self._version_checked = True

    def _unreachable(self, last: Exception | None) -> CoreUnavailableError:
        return CoreUnavailableError(f"no core reachable at {';'.join(self.hosts)}: {type(last).__name__}")

    # sync -----------------------------------------------------------------------------------------------------------
    def send_sync(self, call: CoreCall) -> dict[str, Any]:
        """One CDI call, blocking: the reply body (failures raise as above). The first call also checks that the
        core speaks CDI 5.4."""
        if not self._version_checked:
            self._check_versions(self._send_sync(APIVERSION))
        return self._send_sync(call)

    def _send_sync(self, call: CoreCall) -> dict[str, Any]:
        last: Exception | None = None
        for host in self._host_order():
            for attempt in range(MAX_RETRIES + 1):
                try:
                    response = self._client().request(
                        call.method, host + call.path, json=call.body, params=call.query, headers=self._headers(call)
                    )
                except httpx.TransportError as exc:
                    last = exc
                    break
                except (ValueError, RecursionError) as exc:
                    raise _not_json(call, exc) from exc
                delay = _retry_delay_s(response, attempt)
                if delay is None:
                    return read_answer(call, response)
                time.sleep(delay)
        raise self._unreachable(last)

    # async ----------------------------------------------------------------------------------------------------------
    async def send_async(self, call: CoreCall) -> dict[str, Any]:
        """``send_sync``, awaited on this event loop's pooled client (in a worker thread off asyncio)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another async library (trio)
            result: dict[str, Any] = await anyio.to_thread.run_sync(self.send_sync, call)
            return result
        client = await self._async_client(loop)
        if not self._version_checked:
            self._check_versions(await self._send_async(client, APIVERSION))
        return await self._send_async(client, call)

    async def _send_async(self, client: httpx.AsyncClient, call: CoreCall) -> dict[str, Any]:
        # ``_send_sync``'s loop, awaited: the rules (retry delay, answer, errors) are shared, only the I/O differs
        last: Exception | None = None
        for host in self._host_order():
            for attempt in range(MAX_RETRIES + 1):
                try:
                    response = await client.request(
                        call.method, host + call.path, json=call.body, params=call.query, headers=self._headers(call)
                    )
                except httpx.TransportError as exc:
                    last = exc
                    break
                except (ValueError, RecursionError) as exc:
                    raise _not_json(call, exc) from exc
                delay = _retry_delay_s(response, attempt)
                if delay is None:
                    return read_answer(call, response)
                await anyio.sleep(delay)
        raise self._unreachable(last)

    # keys and closing -----------------------------------------------------------------------------------------------
    def fetch_jwks(self) -> dict[str, Any]:
        """The public keys, fetched like upstream: plain GET, no API key (the endpoint is public)."""
        last: Exception | None = None
        for host in self._host_order():
            try:
                response = self._client().get(host + "/.well-known/jwks.json")
            except httpx.TransportError as exc:
                last = exc
                continue
            return read_answer(CoreCall("GET", "/.well-known/jwks.json"), response)
        raise self._unreachable(last)

    def close(self) -> None:
        """Close the pooled clients; a later call opens new ones. An async client is closed on its own loop: at
        once if that loop is not running, else soon, on it (a closed loop's connections went with it)."""
        with self._lock:
            client, self._sync = self._sync, None
            pooled, self._async = list(self._async.items()), weakref.WeakKeyDictionary()
        if client is not None:
            client.close()
        for loop, (async_client, _) in pooled:
            _close_on(loop, async_client)


_LoopClient = tuple[httpx.AsyncClient, AsyncGenerator[None, None]]


async def _closed_with_the_loop(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended for the loop's lifetime once started; the loop's shutdown (``shutdown_asyncgens``) closes it, and so
    the client, on that loop: a loop that ends does not leave the pool's sockets open."""
    try:
        yield
    finally:
        await client.aclose()


def _close_on(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
    if loop.is_closed():
        return  # its shutdown closed the client
    if loop.is_running():
        loop.call_soon_threadsafe(lambda: loop.create_task(client.aclose()))
    else:
        loop.run_until_complete(client.aclose())
