"""How the SDK reaches a core: ``RemoteCore`` over HTTP (``remote_core``), or ``EmbeddedCore`` in this process,
which runs the same CDI handlers as ``gatepass core`` without HTTP, through the core's one dispatch
(``gatepass.core.embedded``); its refusals become the same ``CoreError``s as a remote core's.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from gatepass.core.embedded import Clock, CoreRuntime, EmbeddedRuntime
from gatepass.errors import CoreError, CoreUnavailableError, GatepassError, MethodNotAllowed, NotFound
from gatepass.recipe.session.remote_core import CDI_VERSION, RemoteCore
from gatepass.recipe.session.steps import CoreCall
from gatepass.storage.url import redact

__all__ = ["CDI_VERSION", "CoreConnection", "EmbeddedCore", "RemoteCore"]


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
