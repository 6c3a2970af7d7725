"""The demo's backend (FastAPI): sign-up and login (against Fauna, or the demo's own user table: ``accounts``),
then a gatepass session for the user (step 4); liking a comment as the user with ``get_faunadb_token()`` (step 5),
a Fauna token or a gatepass JWT; and the page (step 6)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from gatepass.demo.accounts import Accounts
from gatepass.demo.page import render_page
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, NotFound, Unauthorized, q
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from gatepass.untrusted import MalformedInput, is_ascii_digits, parse_json, value_problem

log = logging.getLogger("gatepass.demo")


MAX_EMAIL_CHARS = 254  # the longest address SMTP can carry (RFC 5321's 256-octet path, less the brackets)
MAX_PASSWORD_CHARS = 1024
ASK = "Enter an email address and a password"
# room for both, each character escaped as JSON's longest (a surrogate pair: 12 bytes), and more
MAX_BODY_BYTES = 64 * 1024


def _credentials(body: Any) -> tuple[str, str] | str:
    """(email, password) from a sign-up or login body, the email trimmed and lower-cased; else what to fix."""
    if not isinstance(body, dict):
        return ASK
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or "@" not in email or not password:
        return ASK
    if len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return f"An email address has at most {MAX_EMAIL_CHARS} characters, a password at most {MAX_PASSWORD_CHARS}"
    email = email.strip().lower()
    if not email.isprintable() or "\0" in password or value_problem([email, password]) is not None:
        return "Email addresses cannot hold control characters, nor passwords NUL or lone surrogates"
    return email, password


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class BodyTooLarge(Exception):
    """A request body past ``MAX_BODY_BYTES``: answered 413, and the rest of it is never read."""


async def _read_json(request: Request) -> Any:
    """The request body as strict JSON, or None if it is not; ``BodyTooLarge`` past ``MAX_BODY_BYTES``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not is_ascii_digits(declared) or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
    try:
        return parse_json(bytes(body))
    except MalformedInput:
        return None


def _like_as_user(admin: FaunaClient, token: str, comment_id: str) -> Any:
    """Add one like to the comment with the user's own Fauna token, so that Fauna's role decides; the new count."""
    ref = q.ref(q.collection("comments"), comment_id)
    like = q.select(
        ["data", "likes"],
        q.update(ref, {"data": {"likes": q.add(q.select(["data", "likes"], q.get(ref)), 1)}}),
    )
    return admin.new_session_client(secret=token).query(like)


def _add_account_routes(app: FastAPI, gp: Gatepass, accounts: Accounts) -> None:
    """Step 4: ``POST /signup`` and ``POST /login`` check the credentials (in Fauna, or in the demo's own user
    table), then create a session."""

    @app.post("/signup")
    async def signup(request: Request) -> Any:
        credentials = _credentials(await _read_json(request))
        if isinstance(credentials, str):
            return _error(400, credentials)
        user_id = await run_in_threadpool(accounts.sign_up, *credentials)
        if user_id is None:
            return _error(409, "This email is already registered: log in instead")
        await create_new_session(request, "public", user_id, gatepass=gp)
        log.info("sign-up and login: user=%s", user_id)
        return {"userId": user_id}

    @app.post("/login")
    async def login(request: Request) -> Any:
        credentials = _credentials(await _read_json(request))
        if isinstance(credentials, str):
            return _error(400, credentials)
        user_id = await run_in_threadpool(accounts.log_in, *credentials)
        if user_id is None:
            return _error(401, "Wrong email or password")
        await create_new_session(request, "public", user_id, gatepass=gp)
        log.info("login: user=%s", user_id)
        return {"userId": user_id}


def _add_like_route(app: FastAPI, admin: FaunaClient) -> None:
    """Step 5: ``POST /like-comment`` needs a session and likes the comment as its user."""

    @app.post("/like-comment")
    async def like_comment(request: Request, session: AsyncSessionContainer = Depends(verify_session())) -> Any:
        body = await _read_json(request)
        comment_id = body.get("commentId") if isinstance(body, dict) else None
        if not isinstance(comment_id, str) or not is_ascii_digits(comment_id):
            return _error(400, "commentId must be a comment's id")
        token = await session.get_faunadb_token()
        try:
            likes = await run_in_threadpool(_like_as_user, admin, token, comment_id)
        except NotFound:
            return _error(404, "No such comment")
        except Unauthorized:
            return _error(401, "unauthorised")
        return {"userId": session.get_user_id(), "likes": likes}


def build_demo_app(
    gp: Gatepass, admin: FaunaClient, fauna_port: int, assets: Path, accounts: Accounts, users: str = "fauna"
) -> FastAPI:
    """The demo's web app: the page (step 6) and its two bundles, sign-up and login (step 4), likes (step 5).
    ``users`` is where the users live (``fauna`` or ``external``): the page says so."""
    app = FastAPI(title="gatepass × FaunaDB demo")
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    app.mount("/static", StaticFiles(directory=assets), name="static")
    page = render_page("127.0.0.1", fauna_port, users=users)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, f"The request body is larger than {MAX_BODY_BYTES} bytes")

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    _add_account_routes(app, gp, accounts)
    _add_like_route(app, admin)
    return app
