"""Run the core over HTTP with uvicorn: one start-up log line (address and redacted database, never a secret),
a periodic clean-up of expired sessions, and a clean shutdown on SIGINT/SIGTERM (uvicorn's handlers).

Also the two things every gatepass HTTP server (core, fauna-dev, the demo) shares:

- :func:`bind_listener` binds the port *before* anything else starts, so a port in use is one clear line naming
  the flag that changes it, not uvicorn's ``[Errno 98]`` after the database was opened and a banner was printed;
- :func:`server_config`: uvicorn with ``http_protocol``'s guarded httptools protocol (the slowloris defences
  uvicorn lacks) and uvloop where it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import uvicorn
from starlette.concurrency import run_in_threadpool

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.http_protocol import guarded_protocol
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import CoreSettings, ServerLimits
from gatepass.core.workers import run_workers
from gatepass.errors import ConfigurationError
from gatepass.logs import configure_logging

log = logging.getLogger("gatepass.core")


def server_config(app: Any, limits: ServerLimits, *, lifespan: Literal["on", "off"] = "off") -> uvicorn.Config:
    """The uvicorn config every gatepass server uses: guarded protocol, uvloop where installed ("auto"), our
    logging, no access log."""
    return uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        loop="auto",
        timeout_keep_alive=limits.keep_alive_timeout_seconds,
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
    def __init__(self, config: uvicorn.Config, settings: CoreSettings, database: str, announce: bool) -> None:
        super().__init__(config)
        self._settings = settings
        self._database = database
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up, then the one start-up line with the real port (the flag may have said 0)."""
        await super().startup(sockets)
        if self.started and self._announce:
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
    """Run the core until SIGINT or SIGTERM: bind the port, open the database (which migrates it), then serve in
    this process, or in ``settings.workers`` processes (``workers``)."""
    listener = bind_listener(settings.host, settings.port, "--port (or GATEPASS_PORT)")
    try:
        runtime = CoreRuntime.open(settings.database_url, settings.app_config)
    except BaseException:
        listener.close()
        raise
    if settings.workers == 1:
        serve_on(listener, runtime, settings, clean_up=True, announce=True)
        return
    database = runtime.storage.description
    runtime.close()  # each worker opens its own
    try:
        run_workers(settings, listener, database, _worker_main)
    finally:
        listener.close()


def _worker_main(settings: CoreSettings, listener: socket.socket, index: int) -> None:
    """A worker process of ``--workers``: logging as the parent's, then one core on the shared socket; worker 0
    alone runs the clean-up."""
    configure_logging(settings.log_level)
    runtime = CoreRuntime.open(settings.database_url, settings.app_config)
    serve_on(listener, runtime, settings, clean_up=index == 0, announce=False)


def serve_on(
    listener: socket.socket, runtime: CoreRuntime, settings: CoreSettings, *, clean_up: bool, announce: bool
) -> None:
    """Serve ``runtime`` on ``listener`` until SIGINT or SIGTERM, then close both (``clean_up``: run the periodic
    clean-up of expired sessions; ``announce``: log the start-up and stop lines)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(_clean_up_forever(runtime, settings.cleanup_interval_seconds)) if clean_up else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    app = CoreHttpApp(runtime, settings.api_keys, settings.rate_limits, lifespan)
    config = server_config(app, settings.limits, lifespan="on")
    server = _Server(config, settings, runtime.storage.description, announce)
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal to the handler that was installed
    # before it; a no-op handler there lets the process finish its clean-up and exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        runtime.close()
        if server.started and announce:  # a server that never started was never running, so it did not "stop"
            log.info("gatepass core stopped")
