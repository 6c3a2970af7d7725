"""How the SDK reaches a core: ``RemoteCore`` over HTTP, or ``EmbeddedCore`` in this process.

``RemoteCore`` keeps one pooled httpx client per process, with explicit timeouts (async callers use it from a
worker thread); several hosts separated by ``;`` are tried in turn on connection errors only, as upstream. The
first call checks ``/apiversion`` once. Any 4xx/5xx from the core is a ``CoreError`` naming the status, never
the body of a request (which carries tokens); a reply that is not strict JSON (``gatepass.untrusted``) is the core
being unavailable. ``EmbeddedCore`` runs the same CDI handlers as ``gatepass core``
without HTTP, through the core's one dispatch (``gatepass.core.embedded``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio.to_thread
import httpx

from gatepass.core.embedded import Clock, CoreRuntime, EmbeddedRuntime
from gatepass.errors import (
    ConfigurationError,
    CoreError,
    CoreUnavailableError,
    GatepassError,
    MethodNotAllowed,
    NotFound,
)
from gatepass.protocol.cdi import ApiVersion
from gatepass.recipe.session.steps import CoreCall
from gatepass.storage.url import redact
from gatepass.untrusted import MalformedInput, parse_json_object

CDI_VERSION = "5.4"
RETRY_STATUS = 429
MAX_RETRIES = 5


def _split_hosts(connection_uri: str) -> list[str]:
    hosts = [h.strip().rstrip("/") for h in connection_uri.split(";") if h.strip()]
    if not hosts:
        raise ConfigurationError("connection_uri must name at least one core, e.g. http://localhost:3567")
    for host in hosts:
        parsed = httpx.URL(host)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigurationError(f"connection_uri entry {host!r} is not an http(s) URL")
    return hosts


class RemoteCore:
    """A core reached over HTTP (``gatepass core`` or any CDI 5.4 core)."""

    def __init__(self, connection_uri: str, api_key: str | None = None, *, timeout_s: float = 10.0) -> None:
        self.hosts = _split_hosts(connection_uri)
        self._api_key = api_key
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))
        self._sync: httpx.Client | None = None
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
                    self._sync = httpx.Client(timeout=self._timeout)
        return self._sync

    def _host_order(self) -> list[str]:
        with self._lock:
            start = self._next_host
            self._next_host = (self._next_host + 1) % len(self.hosts)
        return self.hosts[start:] + self.hosts[:start]

    @staticmethod
    def _answer(call: CoreCall, response: httpx.Response) -> dict[str, Any]:
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

    def _check_versions(self, body: dict[str, Any]) -> None:
        if CDI_VERSION not in ApiVersion().parse_reply(body).versions:
            raise CoreError(f"the core does not support CDI {CDI_VERSION}")
        self._version_checked = True

    def send_sync(self, call: CoreCall) -> dict[str, Any]:
        """One CDI call, blocking: the reply body (failures raise as above). The first call also checks that the
        core speaks CDI 5.4."""
        if not self._version_checked:
            self._check_versions(self._send_sync(CoreCall("GET", "/apiversion"), versioned=False))
        return self._send_sync(call)

    def _send_sync(self, call: CoreCall, *, versioned: bool = True) -> dict[str, Any]:
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
                except (ValueError, RecursionError) as exc:  # no JSON (NaN, inf, lone surrogate, too deep): as embedded
                    raise CoreError(f"{call.method} {call.path}: the request body is not JSON ({exc})") from exc
                # Retry a 429 as upstream does, but not one with Retry-After: that is gatepass core's rate limit,
                # which will not lift within the retries, and waiting for it would hold a worker thread for seconds.
                retry = response.status_code == RETRY_STATUS and "retry-after" not in response.headers
                if retry and attempt < MAX_RETRIES:
                    time.sleep((10 + 250 * attempt) / 1000)
                    continue
                return self._answer(call, response)
        raise CoreUnavailableError(f"no core reachable at {';'.join(self.hosts)}: {type(last).__name__}")

    async def send_async(self, call: CoreCall) -> dict[str, Any]:
        """``send_sync`` in a worker thread."""
        # The pooled sync client in a worker thread: an AsyncClient would be bound to one event loop (and leak its
        # connections when that loop closes), and httpx's sync client costs less CPU per call anyway.
        result: dict[str, Any] = await anyio.to_thread.run_sync(self.send_sync, call)
        return result

    def fetch_jwks(self) -> dict[str, Any]:
        """The public keys, fetched like upstream: plain GET, no API key (the endpoint is public)."""
        last: Exception | None = None
        for host in self._host_order():
            try:
                response = self._client().get(host + "/.well-known/jwks.json")
            except httpx.TransportError as exc:
                last = exc
                continue
            return self._answer(CoreCall("GET", "/.well-known/jwks.json"), response)
        raise CoreUnavailableError(f"no core reachable at {';'.join(self.hosts)}: {type(last).__name__}")

    def close(self) -> None:
        """Close the pooled HTTP client, if one was opened; a later call opens a new one."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()


class EmbeddedCore:
    """A core running in this process on the same code as ``gatepass core`` (SQLite file by default)."""

    def __init__(
        self,
        database_url: str = "sqlite:///./gatepass.db",
        *,
        access_token_validity: float | None = None,
        refresh_token_validity: float | None = None,
        access_token_dynamic_signing_key_update_interval: float | None = None,
        session_absolute_lifetime: float | None = None,
        access_token_validity_jitter: float | None = None,
        refresh_token_grace_period: float | None = None,
        max_sessions_per_user: int | None = None,
        session_cap_policy: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Lifetimes and session policies in ``gatepass core``'s settings' names and units (access tokens and the
        grace period in seconds, sessions in minutes); ``clock`` (epoch milliseconds) for tests."""
        lifetimes = {
            "access_token_validity": access_token_validity,
            "refresh_token_validity": refresh_token_validity,
            "access_token_dynamic_signing_key_update_interval": access_token_dynamic_signing_key_update_interval,
            "session_absolute_lifetime": session_absolute_lifetime,
            "access_token_validity_jitter": access_token_validity_jitter,
            "refresh_token_grace_period": refresh_token_grace_period,
            "max_sessions_per_user": max_sessions_per_user,
            "session_cap_policy": session_cap_policy,
        }
        settings = {k: v for k, v in lifetimes.items() if v is not None}
        self._embedded = (
            EmbeddedRuntime(database_url, settings, clock) if clock else EmbeddedRuntime(database_url, settings)
        )
        self.database_url = database_url

    def __repr__(self) -> str:
        return f"EmbeddedCore({redact(self.database_url)!r})"

    @property
    def runtime(self) -> CoreRuntime:
        """The in-process core (opened on first use)."""
        return self._embedded.runtime

    def send_sync(self, call: CoreCall) -> dict[str, Any]:
        """One CDI call through the core's own dispatch; its refusals become ``CoreError``s as over HTTP."""
        try:
            return self._embedded.call(call.method, call.path, call.body, call.query)
        except (NotFound, MethodNotAllowed) as exc:
            raise CoreError(f"the embedded core has no API {call.method} {call.path}") from exc
        except GatepassError as exc:
            error = CoreUnavailableError if exc.http_status == 503 else CoreError
            raise error(f"the core refused {call.method} {call.path}: {exc.message}") from exc

    async def send_async(self, call: CoreCall) -> dict[str, Any]:
        """``send_sync`` in a worker thread (the core's storage calls block)."""
        result: dict[str, Any] = await anyio.to_thread.run_sync(self.send_sync, call)
        return result

    def fetch_jwks(self) -> dict[str, Any]:
        """The core's public keys."""
        return self._embedded.jwks()

    def close(self) -> None:
        """Close the core's database."""
        self._embedded.close()


CoreConnection = RemoteCore | EmbeddedCore
