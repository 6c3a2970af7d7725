"""The HTTP shell of the dev server: FQL v4 on ``POST /`` (and ``/linearized``), ``GET /ping``, a clock hook for
tests, CORS for browser drivers, and Fauna's envelopes, status codes and ``X-Txn-Time`` header.

Request bodies and secrets are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.faunadev import secrets
from gatepass.faunadev.access import ROOT, Auth
from gatepass.faunadev.errors import FaunaError
from gatepass.faunadev.evaluator import Evaluator
from gatepass.faunadev.store import Store, Transaction
from gatepass.faunadev.values import ROLES, Ref, encode

log = logging.getLogger("gatepass.faunadev")
MAX_BODY = 8 * 1024 * 1024
CORS_EXPOSE = "x-txn-time, x-compute-ops, x-byte-read-ops, x-byte-write-ops, x-query-time, x-faunadb-build"


class Unauthorized(Exception):
    pass


def _secret_from(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return None


def authenticate(tx: Transaction, secret: str | None, root_hash: str) -> Auth:
    """The caller behind a secret, checked in this transaction (so a token deleted a moment ago is refused)."""
    if secret is None:
        raise Unauthorized()
    if secrets.root_matches(secret, root_hash):
        return ROOT
    parsed = secrets.parse_secret(secret)
    if parsed is None:
        raise Unauthorized()
    if parsed.kind == "key":
        record = tx.get("keys", str(parsed.id))
        if record is None or not secrets.secret_matches(parsed, record["secret_hash"]):
            raise Unauthorized()
        role = record["role"]
        if isinstance(role, Ref) and role.collection == ROLES:
            return Auth("custom", key_id=str(parsed.id), custom_roles=(role.id,))
        return Auth(role, key_id=str(parsed.id))
    record = tx.get("tokens", str(parsed.id))
    if record is None or not secrets.secret_matches(parsed, record["secret_hash"]):
        raise Unauthorized()
    ttl = record.get("ttl")
    if ttl is not None and tx.now_ns >= ttl.nanos:
        raise Unauthorized()
    instance: Ref = record["instance"]
    if instance.collection is None:
        raise Unauthorized()
    identity = tx.get("documents", (instance.collection.id, instance.id))
    identity_ttl = identity.get("ttl") if identity else None
    if identity is None or (identity_ttl is not None and tx.now_ns >= identity_ttl.nanos):
        raise Unauthorized()
    return Auth("token", token_id=str(parsed.id), identity=instance)


class FaunaDevServer:
    def __init__(self, store: Store, admin_secret: str = "secret") -> None:
        if not admin_secret:
            raise ValueError("the admin secret must not be empty")
        self.store = store
        self._root_hash = hashlib.sha256(admin_secret.encode()).hexdigest()
        self.app = Starlette(
            routes=[
                Route("/", self.query, methods=["POST", "OPTIONS"]),
                Route("/linearized", self.query, methods=["POST", "OPTIONS"]),
                Route("/ping", self.ping, methods=["GET", "OPTIONS"]),
                Route("/_emulator/advance_clock", self.advance_clock, methods=["POST", "OPTIONS"]),
                Route("/query/1", self.fql10, methods=["POST", "OPTIONS"]),
                Route("/stream/1", self.fql10, methods=["POST", "OPTIONS"]),
                Route("/feed/1", self.fql10, methods=["POST", "OPTIONS"]),
                Route("/{path:path}", self.not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
            ]
        )

    # responses -----------------------------------------------------------------------------------------------------
    def _json(
        self,
        request: Request,
        status: int,
        body: Any,
        txn_us: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> Response:
        headers = self._cors(request)
        headers["x-txn-time"] = str(txn_us if txn_us is not None else self.store.last_ts or self.store.now_us())
        headers.update(extra or {})
        content = json.dumps(body, separators=(",", ":"))
        return Response(content, status, headers=headers, media_type="application/json;charset=utf-8")

    @staticmethod
    def _cors(request: Request) -> dict[str, str]:
        requested = request.headers.get("access-control-request-headers")
        return {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, POST, OPTIONS",
            "access-control-allow-headers": requested
            or "authorization, content-type, x-faunadb-api-version, x-fauna-driver, x-driver-env, x-last-seen-txn, "
            "x-query-timeout, x-fauna-tags, traceparent",
            "access-control-expose-headers": CORS_EXPOSE,
            "access-control-max-age": "600",
        }

    def _preflight(self, request: Request) -> Response:
        return Response(status_code=204, headers=self._cors(request))

    def _unauthorized(self, request: Request) -> Response:
        body = {"errors": [{"code": "unauthorized", "description": "Unauthorized"}]}
        return self._json(request, 401, body, extra={"www-authenticate": 'Basic realm="Unauthorized"'})

    # routes --------------------------------------------------------------------------------------------------------
    async def query(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return self._json(
                request, 413, {"errors": [{"code": "request too large", "description": "Request Entity Too Large"}]}
            )
        secret = _secret_from(request.headers.get("authorization"))
        started = time.perf_counter()
        try:
            expr = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            expr = _INVALID
        try:
            result, txn_us = await run_in_threadpool(self._evaluate, secret, expr)
        except Unauthorized:
            return self._unauthorized(request)
        except FaunaError as error:
            return self._json(request, error.status, {"errors": [error.wire()]})
        elapsed_ms = str(int((time.perf_counter() - started) * 1000))
        stats = {"x-compute-ops": "1", "x-byte-read-ops": "0", "x-byte-write-ops": "0", "x-query-time": elapsed_ms}
        return self._json(request, 200, {"resource": encode(result)}, txn_us, stats)

    def _evaluate(self, secret: str | None, expr: Any) -> tuple[Any, int]:
        with self.store.transaction() as tx:
            auth = authenticate(tx, secret, self._root_hash)
            if expr is _INVALID:
                raise FaunaError("invalid expression", "Request body is not valid JSON.", [])
            return Evaluator(tx, auth).run(expr), tx.ts_us

    async def ping(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        scope = request.query_params.get("scope", "node")
        return self._json(request, 200, {"resource": f"Scope {scope} is OK"})

    async def advance_clock(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        secret = _secret_from(request.headers.get("authorization"))
        if secret is None or not secrets.root_matches(secret, self._root_hash):
            return self._unauthorized(request)
        try:
            seconds = float(json.loads(await request.body())["seconds"])
        except (ValueError, KeyError, TypeError):
            error = FaunaError("invalid argument", 'Body must be {"seconds": <number>}.', [])
            return self._json(request, 400, {"errors": [error.wire()]})
        offset = self.store.advance_clock(seconds)
        return self._json(request, 200, {"resource": {"clock_offset_us": offset}})

    async def fql10(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        body = {"error": {"code": "invalid_request", "message": "FQL v10 is not implemented"}}
        return self._json(request, 400, body)

    async def not_found(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        return self._json(request, 404, {"errors": [{"code": "not found", "description": "Not Found"}]})


_INVALID = object()


def open_server(data: Path | None, admin_secret: str) -> FaunaDevServer:
    return FaunaDevServer(Store(data), admin_secret)


__all__ = ["FaunaDevServer", "authenticate", "open_server"]
