"""The core as a library: what the SDK's ``EmbeddedCore`` runs in process, on the same dispatch as ``gatepass
core``. The SDK depends on this module only; the database opens on first use."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.clock import Clock, system_clock
from gatepass.core.dispatch import dispatch
from gatepass.core.runtime import CoreRuntime
from gatepass.protocol.body import JsonBody, Query

__all__ = ["Clock", "CoreRuntime", "EmbeddedRuntime"]  # what EmbeddedCore's signature and .runtime name


class EmbeddedRuntime:
    """One in-process core over ``database_url`` with the given app settings (checked at once)."""

    def __init__(self, database_url: str, settings: Mapping[str, object], clock: Clock | None = None) -> None:
        self.config: AppConfig = build_app_config(dict(settings))
        self.database_url = database_url
        self._clock = clock or system_clock
        self._runtime: CoreRuntime | None = None
        self._lock = threading.Lock()

    @property
    def runtime(self) -> CoreRuntime:
        """The runtime, opened on first use (so that constructing an SDK never touches the database)."""
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = CoreRuntime.open(self.database_url, self.config, self._clock)
        return self._runtime

    def call(self, method: str, path: str, body: Mapping[str, Any] | None, query: Mapping[str, str]) -> dict[str, Any]:
        """One CDI call, blocking; the body is held to the JSON rules first. Raises ``GatepassError``s."""
        return dispatch(self.runtime, method, path, JsonBody.from_python(body or {}), Query(query)).body

    def jwks(self) -> dict[str, Any]:
        """The public app's JWKS, as ``/.well-known/jwks.json`` serves it."""
        ctx = self.runtime.apps.get("public")
        keys, _ = ctx.keyring.jwks(ctx.config.key_times)
        return {"keys": keys}

    def close(self) -> None:
        """Close the database, if it was opened."""
        if self._runtime is not None:
            self._runtime.close()
