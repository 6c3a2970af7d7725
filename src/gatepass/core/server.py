"""Run the core over HTTP with uvicorn: one start-up log line (address and redacted database, never a secret),
a periodic clean-up of expired sessions, and a clean shutdown on SIGINT/SIGTERM (uvicorn's handlers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.concurrency import run_in_threadpool

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import CoreSettings

log = logging.getLogger("gatepass.core")


async def _clean_up_forever(runtime: CoreRuntime, interval_s: float) -> None:
    while True:
        try:
            removed = await run_in_threadpool(runtime.sessions.delete_expired)
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
    runtime = CoreRuntime.open(settings.database_url, settings.app_config)
    app = CoreHttpApp(runtime, settings.api_keys)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(_clean_up_forever(runtime, settings.cleanup_interval_seconds))
        try:
            yield
        finally:
            task.cancel()

    app.starlette.router.lifespan_context = lifespan
    config = uvicorn.Config(
        app.starlette,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal to the handler that was installed
    # before it; a no-op handler there lets the process finish its clean-up and exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        _Server(config, settings, runtime.storage.description).run()
    finally:
        runtime.close()
        log.info("gatepass core stopped")
