"""ASGI plumbing shared by the ASGI framework adapters (Starlette/FastAPI and Litestar): where a request keeps the
sessions it touched (a list in the ASGI scope), how their response changes are merged into a raw header list, and
how an ``ApiResult`` is sent as a JSON response. No framework is imported here."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import SessionState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

STATES = "gatepass.states"
INSTANCE = "gatepass.instance"
_VIEW = "gatepass.request_view"
_EXPOSE = "access-control-expose-headers"


def request_view(scope: Scope) -> RequestView:
    """The framework-neutral view of an HTTP scope (method, path, headers, client address), built once per request:
    the middleware's view is reused by ``verify_session`` while the scope still has the same headers, method and
    path. The headers are compared with a snapshot, not by identity: Starlette's ``Headers(scope=...)`` replaces
    the list with an equal copy, and a middleware may edit the list in place (elements are the same tuples, so
    the comparison is a pointer walk)."""
    raw_headers, method, path = scope.get("headers", []), scope.get("method", "GET"), scope.get("path", "/")
    cached = scope.get(_VIEW)
    if cached is not None and cached[1] == method and cached[2] == path and cached[0] == raw_headers:
        view: RequestView = cached[3]
        return view
    snapshot = list(raw_headers)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in snapshot]
    client = scope.get("client")
    view = RequestView.build(method, path, headers, client[0] if client else "")
    scope[_VIEW] = (snapshot, method, path, view)
    return view


def remember(scope: Scope, state: SessionState) -> None:
    """Keep ``state`` in the scope so that its response changes reach the response."""
    scope.setdefault(STATES, []).append(state)


def forget_sessions(scope: Scope) -> None:
    """Drop the sessions remembered so far: an error answer carries only the error's own changes."""
    scope[STATES] = []


def collected_changes(scope: Scope) -> ResponseChanges:
    """The response changes of every session remembered in ``scope``, merged in order."""
    merged = ResponseChanges()
    for state in scope.get(STATES, []):
        merged.extend(state.changes)
    return merged


def apply_changes(headers: RawHeaders, changes: ResponseChanges) -> RawHeaders:
    """``headers`` with ``changes`` applied: replaced and removed headers dropped, ours added, exposed headers
    merged with the app's."""
    replaced = {name.lower() for name in changes.headers} | {n.lower() for n in changes.removed_headers}
    if changes.expose:
        replaced.add(_EXPOSE)
    existing_expose = next((v.decode("latin-1") for k, v in headers if k.decode("latin-1").lower() == _EXPOSE), None)
    kept = [(k, v) for k, v in headers if k.decode("latin-1").lower() not in replaced]
    added = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in changes.final_headers(existing_expose)]
    return kept + added


def with_session_changes(scope: Scope, send: Send) -> Send:
    """A ``send`` that adds the remembered sessions' changes to the response start."""

    async def send_with_session(message: Message) -> None:
        if message["type"] == "http.response.start":
            changes = collected_changes(scope)
            if not changes.empty:
                message = dict(message)
                message["headers"] = apply_changes(list(message.get("headers", [])), changes)
        await send(message)

    return send_with_session


async def send_result(send: Send, result: ApiResult) -> None:
    """Send ``result`` as a complete JSON response with its cookies and headers."""
    body = json.dumps(result.body, separators=(",", ":")).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    start = {"type": "http.response.start", "status": result.status, "headers": apply_changes(headers, result.changes)}
    await send(start)
    await send({"type": "http.response.body", "body": body})
