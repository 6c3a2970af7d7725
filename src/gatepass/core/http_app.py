"""The core's HTTP shell: an ASGI app that routes CDI paths, checks the API key and ``cdi-version``, reads a
bounded JSON body and runs the handler where its ``Api`` says (``cdi_api``): on the event loop when it is CPU-only,
or short and the database local (SQLite's transactions take tens of microseconds, less than a thread hop costs in
CPU and GIL hand-offs), else in one worker-thread hop. On the loop, a handler's RSA signature (most of a create's
or a refresh's CPU) is made on a signing thread while other requests are in the app: RSA releases the GIL, so the
loop goes on serving them; a request alone signs on the loop, which has nothing else to do (a hop would only add
its latency).

Status contract (as upstream): domain outcomes 200 + ``status``; malformed input 400 (text); bad API key 401;
unknown path 404; wrong method 405; too many failed API keys or refresh tokens from one address 429 with
``Retry-After``; database unavailable 503 (a fixed text, never the driver's); anything unexpected 500
``Internal Error`` (logged without request bodies, which carry tokens).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from gatepass.core.cdi_api import SUPPORTED_CDI_VERSIONS, Deferred, Reply, Signing
from gatepass.core.dispatch import Resolved, finish, resolve, start, start_inline
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import RateLimits
from gatepass.errors import BadRequest, GatepassError, InvalidApiKey
from gatepass.protocol.body import JsonBody, Query
from gatepass.ratelimit import FailureLimiter
from gatepass.tokens.encoding import compact_json
from gatepass.untrusted import MalformedInput, is_ascii_digits, parse_json_object

log = logging.getLogger("gatepass.core")

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]

MAX_BODY_BYTES = 1024 * 1024
# One per core: signing is CPU work that releases the GIL, so more threads than cores would only queue. Shared by
# every app in the process; threads start on first use.
_SIGNERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="gatepass-sign")
# The worker threads of the blocking operations (every one on PostgreSQL, the long ones on SQLite): a plain executor,
# whose hop takes less of the loop's time than Starlette's (anyio's) thread pool; as many threads as anyio's limit.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="gatepass-worker")


async def _in_worker(work: Callable[[], Reply]) -> Reply:
    """``work``'s reply, done in a worker thread (cancelled, the wait ends; the thread finishes its transaction)."""
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, work)


_VERSION = re.compile(r"[0-9]+\.[0-9]+")


def api_key_accepted(configured: Sequence[str], request: Request) -> bool:
    """Constant-time check of ``api-key`` (or ``Authorization: Bearer``) against every configured key."""
    if not configured:
        return True
    presented = request.headers.get("api-key")
    if presented is None:
        auth = request.headers.get("authorization", "")
        presented = auth[7:] if auth.lower().startswith("bearer ") else auth or None
    if presented is None:
        return False
    candidate = presented.strip().encode("utf-8")
    accepted = False
    for key in configured:
        accepted |= hmac.compare_digest(key.encode("utf-8"), candidate)
    return accepted


def check_cdi_version(request: Request) -> None:
    """Refuse (400) a ``cdi-version`` this core does not speak; a missing header is accepted, as upstream."""
    version = request.headers.get("cdi-version")
    if version is None or version in SUPPORTED_CDI_VERSIONS:
        return  # upstream treats a missing header as the newest version
    version = version.strip()
    if not _VERSION.fullmatch(version) or version not in SUPPORTED_CDI_VERSIONS:
        raise BadRequest(f"cdi-version {version[:20]} not supported")


async def read_json_body(request: Request) -> JsonBody:
    """The request's JSON object body: empty for a GET or a blank body. Over ``MAX_BODY_BYTES``, cut short by
    the client, or not a JSON object is a ``BadRequest`` (400)."""
    if request.method == "GET":
        return JsonBody({})
    declared = request.headers.get("content-length")
    if declared is not None and (not is_ascii_digits(declared) or int(declared) > MAX_BODY_BYTES):
        raise BadRequest(f"Request body too large (limit {MAX_BODY_BYTES} bytes)")
    raw = await _body_bytes(request.receive)
    if not raw or raw.isspace():
        return JsonBody({})
    try:
        return JsonBody(parse_json_object(raw))
    except MalformedInput as exc:
        raise BadRequest(f"Invalid JSON input: the body must be a JSON object ({exc})") from exc


async def _body_bytes(receive: Receive) -> bytes:
    """The whole body, at most ``MAX_BODY_BYTES``, from the ASGI messages themselves (Starlette's ``stream`` is an
    async generator around the same loop, a measurable share of a verify's time)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":  # nobody is left to answer: the client's doing, not ours
            raise BadRequest("The client disconnected before sending the whole body")
        if message["type"] != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(f"Request body too large (limit {MAX_BODY_BYTES} bytes)")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class TooManyFailures(Exception):
    """An address failed too often (bad API keys, refused refreshes or verifies): answered 429 with
    ``Retry-After``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s
        self.message = f"Too many failed attempts from this address: retry after {retry_after_s} s"


def _refuse_if_limited(limiter: FailureLimiter, client: str) -> None:
    wait = limiter.retry_after(client)
    if wait is not None:
        raise TooManyFailures(wait)


def _charge(limiter: FailureLimiter, client: str, what: str) -> None:
    if limiter.charge(client):
        log.warning("rate limit reached: %s sent %s faster than allowed; answering 429", client, what)


_SERVER_ERROR_TEXT = {503: "Service unavailable: the database cannot be reached"}


def _path_for_log(request: Request) -> str:
    """The path as a short, printable string (it is attacker-chosen: no control characters, no unbounded size)."""
    return str(request.scope["path"])[:200].encode("unicode_escape").decode("ascii")


def _json_response(reply: Reply) -> Response:
    content = compact_json(reply.body)
    return Response(content, status_code=200, media_type="application/json; charset=utf-8", headers=reply.headers)


class CoreHttpApp:
    """The core as an ASGI app. Every HTTP request goes straight to ``dispatch``, which routes it itself: Starlette's
    middleware and router, around one catch-all route, cost about 11 µs a request (a quarter of a ``/hello``) and
    added nothing the core uses. The lifespan protocol (``lifespan``: what runs while the server does) goes to a
    Starlette app with no routes."""

    def __init__(
        self,
        runtime: CoreRuntime,
        api_keys: Sequence[str] = (),
        rate_limits: RateLimits | None = None,
        lifespan: Lifespan | None = None,
    ) -> None:
        self.runtime = runtime
        self.api_keys = tuple(api_keys)
        limits = rate_limits or RateLimits()
        self._bad_key_limiter = FailureLimiter(limits.failed_api_keys)
        self._limiters = {
            "refresh": FailureLimiter(limits.failed_refreshes),
            "verify": FailureLimiter(limits.failed_verifies),
        }
        self._answering = 0  # requests in ``_answer`` now (on the loop's thread only: no lock)
        self._lifespan_app = Starlette(lifespan=lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (websockets have no route: Starlette closes them)
            await self._lifespan_app(scope, receive, send)
            return
        response = await self.dispatch(Request(scope, receive))
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        """Answer one request by the status contract above. ``/`` and any path ending in ``/hello`` get ``Hello``
        with no checks; any other path is resolved to its API, and the API key, ``cdi-version`` and rate limit
        are checked before the handler runs (inline, or in a worker thread)."""
        raw_path: str = request.scope["path"]  # not request.url, which parses the whole URL again
        path = raw_path.lower().rstrip("/")
        if path in ("", "/hello") or path.endswith("/hello"):
            return PlainTextResponse("Hello")
        client = request.client.host if request.client else "unknown"
        try:
            resolved = resolve(request.method, raw_path)
            api = resolved.api
            if api.needs_api_key and self.api_keys:
                self._check_api_key(request, client)
            if api.needs_version:
                check_cdi_version(request)
            limiter = self._limiters[api.failures] if api.failures else None
            if limiter is not None:
                _refuse_if_limited(limiter, client)
            body = await read_json_body(request)
            query = Query(request.query_params if request.scope.get("query_string") else {})
            reply = await self._answer(resolved, body, query)
            if limiter is not None and reply.counts_as_failure:
                _charge(limiter, client, f"failing {resolved.api_path} calls")
            return _json_response(reply)
        except TooManyFailures as exc:
            return PlainTextResponse(exc.message, 429, headers={"Retry-After": str(exc.retry_after_s)})
        except GatepassError as exc:
            if exc.http_status < 500:
                return PlainTextResponse(exc.message, status_code=exc.http_status)
            log.error("%s %s failed: %s", request.method, _path_for_log(request), exc.message)
            return PlainTextResponse(_SERVER_ERROR_TEXT.get(exc.http_status, "Internal Error"), exc.http_status)
        except Exception:
            log.exception("%s %s failed with an internal error", request.method, _path_for_log(request))
            return PlainTextResponse("Internal Error", status_code=500)

    async def _answer(self, resolved: Resolved, body: JsonBody, query: Query) -> Reply:
        """Run the handler, and its deferred rest, where the module docstring says (counted in ``_answering``)."""
        self._answering += 1
        try:
            answer = start_inline(self.runtime, resolved, body, query)
            if isinstance(answer, Reply):  # CPU-only and answered: no database, so no question of where to wait
                return answer
            on_loop = self._may_run_on_loop(resolved)
            if answer is None:
                if not on_loop:
                    return await _in_worker(lambda: finish(self._start_prepared(resolved, body, query)))
                answer = start(self.runtime, resolved, body, query)
            if isinstance(answer, Reply):
                return answer
            if not on_loop:
                return await _in_worker(answer.run)
            return await self._sign_on_loop(resolved, answer) if isinstance(answer, Signing) else answer.run()
        finally:
            self._answering -= 1

    async def _sign_on_loop(self, resolved: Resolved, signing: Signing) -> Reply:
        """One turn of the loop first, so that requests that arrived with this one enter the app; then, alone, do
        it all here; with others, sign beside the loop. A writer that came meanwhile, or a key that fell due,
        sends it to a worker thread (the steps have not started: they choose their key when they run)."""
        await asyncio.sleep(0)
        if not self._may_run_on_loop(resolved):
            return await _in_worker(signing.run)
        if self._answering <= 1:
            return signing.run()
        return await self._sign_beside_loop(signing)

    async def _sign_beside_loop(self, signing: Signing) -> Reply:
        """Run ``signing``'s steps on the loop and each signature on a signing thread; should a writer take the
        database while one is made, the rest goes to a worker thread (the loop never waits on a lock)."""
        loop = asyncio.get_running_loop()
        steps = signing.steps
        try:
            unsigned = next(steps)
            while True:
                token = await loop.run_in_executor(_SIGNERS, unsigned.sign)
                if not self.runtime.storage.writer_idle():
                    break
                unsigned = steps.send(token)
        except StopIteration as done:
            return Reply.of(done.value)
        except BaseException:
            steps.close()  # cancelled or failed while signing: nothing more runs (no step waits in a transaction)
            raise
        return await _in_worker(lambda: signing.resume(token))

    def _may_run_on_loop(self, resolved: Resolved) -> bool:
        """A short operation on a local database, with the app's signing keys ready (no RSA key to generate) and
        no writer holding the database: the loop never waits."""
        storage = self.runtime.storage
        if not (resolved.api.short and storage.local):
            return False
        ctx = self.runtime.apps.cached(resolved.app_id, resolved.tenant_id)
        return ctx is not None and ctx.keyring.ready_to_sign(ctx.config.key_times) and storage.writer_idle()

    def _start_prepared(self, resolved: Resolved, body: JsonBody, query: Query) -> Reply | Deferred | Signing:
        """``start`` in a worker thread, the app's keys read first for a short operation (a key that is missing or
        due is made by the operation that signs, here), so that the next one may run on the loop."""
        ctx = self.runtime.apps.cached(resolved.app_id, resolved.tenant_id) if resolved.api.short else None
        if ctx is not None and not ctx.keyring.ready_to_sign(ctx.config.key_times):
            ctx.keyring.load_keys()  # an app not cached yet is loaded by ``start``; its keys, by the next hop
        return start(self.runtime, resolved, body, query)

    def _check_api_key(self, request: Request, client: str) -> None:
        """A right key always passes, so a backend sharing an address with a guesser is never locked out; a wrong
        one from a limited address gets 429 (keys are 20+ characters: the limit is for detection, not secrecy)."""
        if api_key_accepted(self.api_keys, request):
            return
        _refuse_if_limited(self._bad_key_limiter, client)
        _charge(self._bad_key_limiter, client, "invalid API keys")
        raise InvalidApiKey()
