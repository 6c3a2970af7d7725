"""One dispatch for the CDI API, used by the HTTP app and by the embedded core alike.

``resolve`` finds the API for a method and path (404/405 otherwise); ``start`` runs its handler, which answers at
once or returns the rest as ``Deferred`` (blocking) or ``Signing`` (steps that sign); ``finish`` does that rest on
the calling thread; ``dispatch`` does it all, for callers that are already off the event loop (the embedded core).
Errors are ``GatepassError``s carrying their status.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.core.cdi_api import ROUTES, Api, Call, Deferred, Reply, Signing
from gatepass.core.routing import split_path
from gatepass.core.runtime import CoreRuntime
from gatepass.errors import MethodNotAllowed, NotFound
from gatepass.protocol.body import JsonBody, Query


@dataclass(frozen=True)
class Resolved:
    """The API a request names, with the app and tenant of its path."""

    api: Api
    app_id: str
    tenant_id: str
    api_path: str


# Callers name a handful of paths over and over, so each resolution is kept: a pure function of the method and the
# path, for paths up to ``MAX_KEPT_PATH`` characters; emptied when full, so a flood of distinct paths costs only the
# cache's benefit. Refusals are not kept.
_RESOLVED: dict[tuple[str, str], Resolved] = {}
MAX_RESOLVED = 1024
MAX_KEPT_PATH = 256


def resolve(method: str, path: str) -> Resolved:
    """The API for ``method`` and ``path``; ``NotFound`` or ``MethodNotAllowed`` when there is none."""
    key = (method, path)
    kept = _RESOLVED.get(key)
    if kept is not None:
        return kept
    route = split_path(path, ROUTES)
    if route is None:
        raise NotFound()
    api = ROUTES[route.api_path].get(method)
    if api is None:
        raise MethodNotAllowed()
    resolved = Resolved(api, route.app_id, route.tenant_id, route.api_path)
    if len(path) <= MAX_KEPT_PATH:
        if len(_RESOLVED) >= MAX_RESOLVED:
            _RESOLVED.clear()
        _RESOLVED[key] = resolved
    return resolved


def start_inline(
    runtime: CoreRuntime, resolved: Resolved, body: JsonBody, query: Query
) -> Reply | Deferred | Signing | None:
    """Run a CPU-only handler without blocking (its app already cached), or ``None`` if it needs a worker thread."""
    if not resolved.api.inline:
        return None
    ctx = runtime.apps.cached(resolved.app_id, resolved.tenant_id)
    if ctx is None:
        return None
    return resolved.api.handler(Call(runtime, ctx, resolved.tenant_id, body, query))


def start(runtime: CoreRuntime, resolved: Resolved, body: JsonBody, query: Query) -> Reply | Deferred | Signing:
    """Run the handler (it may block on the database to load the app); the rest, if any, comes back deferred."""
    ctx = runtime.apps.get(resolved.app_id)
    runtime.apps.require_tenant(ctx, resolved.tenant_id)
    return resolved.api.handler(Call(runtime, ctx, resolved.tenant_id, body, query))


def dispatch(runtime: CoreRuntime, method: str, path: str, body: JsonBody, query: Query) -> Reply:
    """Answer one CDI call completely, blocking (the embedded core's way in)."""
    return finish(start(runtime, resolve(method, path), body, query))


def finish(answer: Reply | Deferred | Signing) -> Reply:
    """The reply, doing the rest of ``answer`` (if any) on this thread."""
    return answer if isinstance(answer, Reply) else answer.run()
