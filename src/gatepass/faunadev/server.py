"""The HTTP shell of the dev server: FQL v4 on ``POST /`` (and ``/linearized``), ``GET /ping``, a clock hook for
tests, CORS for browser drivers, and Fauna's envelopes, status codes and ``X-Txn-Time`` header.

Request bodies and secrets are never logged. Every request gets an answer in Fauna's shape, even when the
evaluator fails in a way nobody foresaw (``500 internal server error``, logged as the exception's type and
traceback only), so the caller's keep-alive connection survives every query. Bodies are read with the project's
strict JSON reader (``gatepass.untrusted``) and the limits of ``limits``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import time
import traceback
from collections.abc import Awaitable, Callable
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
from gatepass.faunadev.jwks import JwksCache
from gatepass.faunadev.jwt import MAX_JWT_CHARS, looks_like_jwt
from gatepass.faunadev.jwtauth import Holds, VerifiedJwt, jwt_auth, verify_jwt
from gatepass.faunadev.limits import (
    MAX_BODY,
    MAX_EVAL_DEPTH,
    MAX_JSON_DEPTH,
    MAX_QUERY_MS,
    Budget,
    LimitExceeded,
    invalid_json,
    nesting_error,
    query_timeout_ms,
    stack_overflow,
    value_problem,
    wire_problem,
)
from gatepass.faunadev.store import Store, Transaction
from gatepass.faunadev.values import ROLES, Lambda, Ref, encode
from gatepass.untrusted import MalformedInput, parse_json

log = logging.getLogger("gatepass.faunadev")
Route_ = Callable[[Request], Awaitable[Response]]
ANY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
MAX_CLOCK_OFFSET_S = 100 * 366 * 86_400  # the clock hook may move time a century either way, no further
CORS_EXPOSE = "x-txn-time, x-compute-ops, x-byte-read-ops, x-byte-write-ops, x-query-time, x-faunadb-build"


class Unauthorized(Exception):
    """No valid secret: answered with Fauna's 401."""


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
    """The dev server's Starlette app over one store, with the admin secret and the query time limit."""

    def __init__(
        self,
        store: Store,
        admin_secret: str = "secret",
        *,
        max_query_ms: int = MAX_QUERY_MS,
        jwks: JwksCache | None = None,
    ) -> None:
        if not admin_secret:
            raise ValueError("the admin secret must not be empty")
        self.store = store
        self.max_query_ms = max_query_ms
        self.jwks = jwks if jwks is not None else JwksCache()
        self._root_hash = hashlib.sha256(admin_secret.encode()).hexdigest()
        self.app = Starlette(
            routes=[
                Route("/", self._answering(self.query), methods=["POST", "OPTIONS"]),
                Route("/linearized", self._answering(self.query), methods=["POST", "OPTIONS"]),
                Route("/ping", self._answering(self.ping), methods=["GET", "OPTIONS"]),
                Route("/_emulator/advance_clock", self._answering(self.advance_clock), methods=["POST", "OPTIONS"]),
                Route("/query/1", self._answering(self.fql10), methods=["POST", "OPTIONS"]),
                Route("/stream/1", self._answering(self.fql10), methods=["POST", "OPTIONS"]),
                Route("/feed/1", self._answering(self.fql10), methods=["POST", "OPTIONS"]),
                Route(
                    "/{path:path}",
                    self._answering(self.not_found),
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                ),
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

    def _error(self, request: Request, error: FaunaError) -> Response:
        return self._json(request, error.status, {"errors": [error.wire()]})

    def _internal_error(self, request: Request, exc: BaseException) -> Response:
        # the type and where it happened, never the message: it may quote the query, which may hold secrets
        where = "".join(traceback.format_tb(exc.__traceback__))
        log.error("fauna-dev: unexpected %s while answering a request\n%s", type(exc).__name__, where)
        error = FaunaError("internal server error", "Unexpected error in fauna-dev; see the server log.", None)
        return self._error(request, error)

    # routes --------------------------------------------------------------------------------------------------------
    def _answering(self, route: Route_) -> Route_:
        """The route, answering even when it fails unexpectedly: an exception escaping to the ASGI server after
        the answer started would make it close the connection, and the caller's next query fails on it."""

        async def answering(request: Request) -> Response:
            try:
                return await route(request)
            except Exception as exc:  # the last resort
                return self._internal_error(request, exc)

        return answering

    async def query(self, request: Request) -> Response:
        """``POST /``: one FQL query, evaluated for the caller behind the secret."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        raw = await _read_body(request)
        if raw is None:
            error = FaunaError("request too large", "Request entity is too large.", None)
            return self._error(request, error)
        header = request.headers.get("authorization")
        if header is not None and len(header) > MAX_JWT_CHARS:
            # what Fauna's HTTP server answers past its 8 KiB header limit (``Application.handleChannelException``)
            return self._json(request, 400, {"error": "bad request"})
        secret = _secret_from(header)
        timeout = query_timeout_ms(request.headers.get("x-query-timeout"), self.max_query_ms)
        if isinstance(timeout, str):
            error = FaunaError("bad request", f"Invalid header 'X-Query-Timeout': {timeout}", None)
            return self._error(request, error)
        started = time.perf_counter()
        try:
            result, txn_us, ops = await run_in_threadpool(self._evaluate, secret, raw, timeout)
        except Unauthorized:
            return self._unauthorized(request)
        except FaunaError as error:
            return self._error(request, error)
        elapsed_ms = str(int((time.perf_counter() - started) * 1000))
        stats = {"x-compute-ops": str(ops), "x-byte-read-ops": "0", "x-byte-write-ops": "0", "x-query-time": elapsed_ms}
        return self._json(request, 200, {"resource": result}, txn_us, stats)

    def _evaluate(self, secret: str | None, raw: bytes, timeout_ms: int) -> tuple[Any, int, int]:
        expr = _read_query(raw)  # parsed before taking the lock
        verified = self._verify_jwt(secret) if secret is not None and looks_like_jwt(secret) else None
        with self.store.transaction() as tx:
            budget = Budget(timeout_ms=timeout_ms)  # the time limit counts from the lock, not from the queue
            if verified is not None:
                auth = self._jwt_login(tx, verified, budget)
            else:
                auth = authenticate(tx, secret, self._root_hash)
            if isinstance(expr, FaunaError):
                raise expr
            try:
                result = Evaluator(tx, auth, budget=budget).run(expr)
                # measured (and paid for) before encoding: an aliased value can be far larger than its query
                problem = value_problem(result, budget)
                if problem is not None:
                    raise FaunaError("invalid argument", problem, [])
                return encode(result), tx.ts_us, budget.compute_ops
            except RecursionError as exc:  # a value deeper than any limit caught sooner, compared or copied
                raise stack_overflow(MAX_EVAL_DEPTH, []) from exc

    def _verify_jwt(self, token: str) -> VerifiedJwt:
        """A JWT checked outside the lock (a JWKS download may be due), or ``Unauthorized``."""
        verified = verify_jwt(self.store, self.jwks, token)
        if isinstance(verified, str):
            log.info("fauna-dev: JWT refused: %s", verified)
            raise Unauthorized()
        return verified

    def _jwt_login(self, tx: Transaction, verified: VerifiedJwt, budget: Budget) -> Auth:
        """The JWT's caller, with the roles whose predicates hold (evaluated on the query's budget)."""

        def holds_for(auth: Auth) -> Holds:
            evaluator = Evaluator(tx, auth, unrestricted=True, budget=budget)

            def holds(predicate: Lambda, claims: dict[str, Any]) -> bool:
                try:
                    return evaluator.apply(predicate, [claims], []) is True
                except LimitExceeded:
                    raise
                except FaunaError:  # a predicate that fails grants nothing (``LambdaWrapper.evalPredicate``)
                    return False

            return holds

        auth = jwt_auth(tx, verified, holds_for)
        if isinstance(auth, str):
            log.info("fauna-dev: JWT refused: %s", auth)
            raise Unauthorized()
        return auth

    async def ping(self, request: Request) -> Response:
        """``GET /ping``: Fauna's health answer."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        scope = request.query_params.get("scope", "node")
        return self._json(request, 200, {"resource": f"Scope {scope[:32]} is OK"})

    async def advance_clock(self, request: Request) -> Response:
        """``POST /_emulator/advance_clock``: move the store's clock (admin secret only), for expiry tests."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        secret = _secret_from(request.headers.get("authorization"))
        if secret is None or not secrets.root_matches(secret, self._root_hash):
            return self._unauthorized(request)
        raw = await _read_body(request)
        seconds = _clock_seconds(raw) if raw is not None else None
        if seconds is None or abs(self.store.clock_offset_us / 1_000_000 + seconds) > MAX_CLOCK_OFFSET_S:
            error = FaunaError("invalid argument", 'Body must be {"seconds": <number>}, within a century.', [])
            return self._error(request, error)
        offset = self.store.advance_clock(seconds)
        return self._json(request, 200, {"resource": {"clock_offset_us": offset}})

    async def fql10(self, request: Request) -> Response:
        """The FQL v10 routes: Fauna's error, as FQL v10 is not implemented."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        body = {"error": {"code": "invalid_request", "message": "FQL v10 is not implemented"}}
        return self._json(request, 400, body)

    async def not_found(self, request: Request) -> Response:
        """Any other route: Fauna's 404."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        return self._json(request, 404, {"errors": [{"code": "not found", "description": "Not Found"}]})


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None once it grows past ``MAX_BODY`` (the rest is never read into memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _read_query(raw: bytes) -> Any:
    """The query in a request body, or the error Fauna answers for a body that is not FQL wire JSON."""
    if not raw.strip():
        return FaunaError("invalid expression", "No query provided.", [])
    try:
        expr = parse_json(raw, max_depth=MAX_JSON_DEPTH)
    except MalformedInput as exc:  # too deep: the reader's depth rule, or the stdlib decoder's own recursion limit
        too_deep = "nested deeper" in str(exc) or isinstance(exc.__cause__, RecursionError)
        return nesting_error() if too_deep else invalid_json()
    return invalid_json() if wire_problem(expr) is not None else expr


def _clock_seconds(raw: bytes) -> float | None:
    try:
        body = parse_json(raw, max_depth=2)
    except MalformedInput:
        return None
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return None
    return float(seconds)


def open_server(data: Path | None, admin_secret: str) -> FaunaDevServer:
    """A server over the snapshot at ``data`` (in memory only, if None)."""
    return FaunaDevServer(Store(data), admin_secret)


__all__ = ["FaunaDevServer", "authenticate", "open_server"]
