"""Run the core over HTTP with uvicorn: one start-up log line (address and redacted database, never a secret),
a periodic clean-up of expired sessions, and a clean shutdown on SIGINT/SIGTERM (uvicorn's handlers).

Also the two things every gatepass HTTP server (core, fauna-dev, the demo) shares:

- :func:`bind_listener` binds the port *before* anything else starts, so a port in use is one clear line naming
  the flag that changes it, not uvicorn's ``[Errno 98]`` after the database was opened and a banner was printed;
- :class:`GuardedH11Protocol`, uvicorn's h11 protocol with the slowloris defences uvicorn lacks (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import h11
import uvicorn
from starlette.concurrency import run_in_threadpool
from uvicorn.protocols.http.h11_impl import H11Protocol

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import CoreSettings, ServerLimits
from gatepass.errors import ConfigurationError

log = logging.getLogger("gatepass.core")
limits_log = logging.getLogger("gatepass.server")

MAX_HEADER_BYTES = 16 * 1024  # h11's own default, set explicitly so it cannot silently change under us
_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_BUSY_RESPONSE = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline, a body deadline and a connection cap.

    Why not a uvicorn setting: uvicorn 0.54 has no header- or body-read timeout at all. ``timeout_keep_alive`` runs
    only *between* requests (it is cancelled by the first byte of the next one), and nothing runs on a fresh
    connection, so a client that sends half a request line and then waits holds its socket forever.
    ``limit_concurrency`` does not help either: it answers 503 only once a *complete* request has arrived, so
    half-sent requests are never counted against it. The fix cannot live in ASGI middleware, because the app is
    called only after the headers are complete. So the protocol itself keeps one timer per connection:

    - from the connection's opening, or from the first byte of a later request, to the end of its headers;
    - from the end of the headers to the end of the body (a total, so a byte-a-second client loses too);
    - none while the app works on a complete request, nor between requests (uvicorn's keep-alive timer).

    New connections beyond ``max_connections`` are closed at once with a 503, which bounds file descriptors.
    ``limits`` is set on a per-server subclass (:func:`guarded_protocol`), because uvicorn builds the protocol
    from its config alone.
    """

    limits: ClassVar[ServerLimits] = ServerLimits()
    _last_refusal_log: ClassVar[float] = 0.0

    _deadline: asyncio.TimerHandle | None = None
    _deadline_kind: Literal["", "header", "body"] = ""
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse the connection with a 503 when ``max_connections`` are open; else start its header deadline."""
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            self._log_refusal()
            transport.write(_BUSY_RESPONSE)
            transport.close()
            return
        super().connection_made(transport)
        self._arm("header")

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the deadline; a refused connection was never uvicorn's, so uvicorn is not told."""
        self._cancel()
        if not self._refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Let uvicorn parse the bytes, then move the deadline to what the request now waits for."""
        super().data_received(data)
        self._follow_request_state()

    def on_response_complete(self) -> None:
        """After uvicorn's bookkeeping, start the body deadline of a pipelined request it has begun."""
        super().on_response_complete()
        # uvicorn has just started on a pipelined request it had buffered; if that one's body is incomplete, no
        # data_received may follow, so the body deadline starts here. (Buffered partial headers are left to
        # uvicorn's keep-alive timer, which it armed and which stays armed until a whole request is in.)
        if self.conn.their_state is h11.SEND_BODY and self._deadline_kind != "body":
            self._arm("body")

    def _follow_request_state(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE:  # bytes of a request whose headers are not complete yet
            if self._deadline_kind != "header":
                self._arm("header")
        elif state is h11.SEND_BODY:
            if self._deadline_kind != "body":
                self._arm("body")
        else:  # the whole request is in (or the connection is finished): the app's time is not ours to bound
            self._cancel()

    def _arm(self, kind: Literal["header", "body"]) -> None:
        self._cancel()
        limits = self.limits
        delay = limits.header_timeout_seconds if kind == "header" else limits.body_timeout_seconds
        self._deadline = self.loop.call_later(delay, self._expire, kind)
        self._deadline_kind = kind

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._deadline_kind = None, ""

    def _expire(self, kind: str) -> None:
        self._deadline, self._deadline_kind = None, ""
        transport = self.transport
        if transport.is_closing() or transport.get_protocol() is not self:  # closed, or upgraded away
            return
        cycle = self.cycle
        if kind == "body" and cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() now answers http.disconnect and its sends are dropped
            cycle.message_event.set()
        if self.conn.our_state is h11.IDLE or (cycle is not None and not cycle.response_started):
            transport.write(_TIMEOUT_RESPONSE)
        limits_log.debug("closed a connection whose request %s did not arrive in time", kind)
        transport.close()

    def _log_refusal(self) -> None:
        now = time.monotonic()
        if now - type(self)._last_refusal_log >= 10:  # under a flood, one line per 10 s, not one per connection
            type(self)._last_refusal_log = now
            limits_log.warning("refusing connections: %d are open (max_connections)", self.limits.max_connections)


def guarded_protocol(limits: ServerLimits) -> type[GuardedH11Protocol]:
    """A protocol class for one server, carrying its limits."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits, "_last_refusal_log": 0.0})


def server_config(app: Any, limits: ServerLimits, *, lifespan: Literal["on", "off"] = "off") -> uvicorn.Config:
    """The uvicorn config every gatepass server uses: guarded protocol, our logging, no access log."""
    return uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        timeout_keep_alive=limits.keep_alive_timeout_seconds,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level="warning",
        access_log=False,
        lifespan=lifespan,
    )


def _bind_error(host: str, port: int, flag: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use: stop the other server, or choose another port with {flag}"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port} (ports below 1024 need privileges): choose another with {flag}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: that address is not on this machine"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def bind_listener(host: str, port: int, flag: str) -> socket.socket:
    """A listening socket on ``host:port``, or a :class:`ConfigurationError` that names ``flag``."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on {host!r}: {exc.strerror}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        # SO_REUSEADDR, as uvicorn sets it: a restart may reuse a port whose old connections are in TIME_WAIT;
        # it never lets two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(_bind_error(host, port, flag, exc)) from exc
    return sock


async def _clean_up_forever(runtime: CoreRuntime, interval_s: float) -> None:
    while True:
        try:
            removed = await run_in_threadpool(runtime.records.delete_expired)
            if removed:
                log.info("removed %d expired sessions", removed)
        except Exception as exc:  # keep the loop alive through a database outage
            log.warning("expired-session clean-up failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_s)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, settings: CoreSettings, database: str) -> None:
        super().__init__(config)
        self._settings = settings
        self._database = database

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up, then the one start-up line with the real port (the flag may have said 0)."""
        await super().startup(sockets)
        if self.started:
            port = self._settings.port
            for server in getattr(self, "servers", []):
                for sock in server.sockets:
                    port = sock.getsockname()[1]
            log.info(
                "gatepass core listening on http://%s:%d (database: %s)",
                self._settings.host,
                port,
                self._database,
            )


def serve(settings: CoreSettings) -> None:
    """Run the core until SIGINT or SIGTERM: bind the port, open the database, serve, then close both."""
    listener = bind_listener(settings.host, settings.port, "--port (or GATEPASS_PORT)")
    try:
        runtime = CoreRuntime.open(settings.database_url, settings.app_config)
    except BaseException:
        listener.close()
        raise
    app = CoreHttpApp(runtime, settings.api_keys, settings.rate_limits)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(_clean_up_forever(runtime, settings.cleanup_interval_seconds))
        try:
            yield
        finally:
            task.cancel()

    app.starlette.router.lifespan_context = lifespan
    server = _Server(
        server_config(app.starlette, settings.limits, lifespan="on"), settings, runtime.storage.description
    )
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal to the handler that was installed
    # before it; a no-op handler there lets the process finish its clean-up and exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        runtime.close()
        if server.started:  # a server that never started was never running, so it did not "stop"
            log.info("gatepass core stopped")
