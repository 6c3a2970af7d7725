"""The demo's backend (FastAPI): sign-up and login against Fauna, then a gatepass session for the user's Fauna
document (step 4); liking a comment as the user with ``get_faunadb_token()`` (step 5); and the page (step 6)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from gatepass.demo.page import render_page
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.faunadb.fauna_calls import BadRequest, FaunaClient, NotFound, Unauthorized, q
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from gatepass.untrusted import MalformedInput, is_ascii_digits, parse_json

log = logging.getLogger("gatepass.demo")


def _credentials(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return None
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or "@" not in email or not password:
        return None
    return email.strip().lower(), password


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


async def _read_json(request: Request) -> Any:
    """The request body as strict JSON, or None if it is not."""
    try:
        return parse_json(await request.body())
    except MalformedInput:
        return None


def _create_user(admin: FaunaClient, email: str, password: str) -> str | None:
    """Sign-up: a ``users`` document with the password as its Fauna credentials; None if the email is taken."""
    try:
        user = admin.query(
            q.create(q.collection("users"), {"data": {"email": email}, "credentials": {"password": password}})
        )
    except BadRequest:
        return None  # the unique index refused a second account for this email
    return str(user["ref"].id())


def _check_password(admin: FaunaClient, email: str, password: str) -> str | None:
    """Login: the id of the user with this email if Fauna's ``Identify`` accepts the password, else None."""
    lookup = q.let(
        {"match": q.match(q.index("users_by_email"), email)},
        q.if_(
            q.exists(q.var("match")),
            q.let(
                {"ref": q.select("ref", q.get(q.var("match")))},
                q.if_(q.identify(q.var("ref"), password), q.select("id", q.var("ref")), False),
            ),
            False,
        ),
    )
    user_id = admin.query(lookup)
    return str(user_id) if user_id else None


def _like_as_user(admin: FaunaClient, token: str, comment_id: str) -> Any:
    """Add one like to the comment with the user's own Fauna token, so that Fauna's role decides; the new count."""
    ref = q.ref(q.collection("comments"), comment_id)
    like = q.select(
        ["data", "likes"],
        q.update(ref, {"data": {"likes": q.add(q.select(["data", "likes"], q.get(ref)), 1)}}),
    )
    return admin.new_session_client(secret=token).query(like)


def _add_account_routes(app: FastAPI, gp: Gatepass, admin: FaunaClient) -> None:
    """Step 4: ``POST /signup`` and ``POST /login`` check the credentials with Fauna, then create a session."""

    @app.post("/signup")
    async def signup(request: Request) -> Any:
        credentials = _credentials(await _read_json(request))
        if credentials is None:
            return _error(400, "Enter an email address and a password")
        user_id = await run_in_threadpool(_create_user, admin, *credentials)
        if user_id is None:
            return _error(409, "This email is already registered: log in instead")
        await create_new_session(request, "public", user_id, gatepass=gp)
        log.info("sign-up and login: user=%s", user_id)
        return {"userId": user_id}

    @app.post("/login")
    async def login(request: Request) -> Any:
        credentials = _credentials(await _read_json(request))
        if credentials is None:
            return _error(400, "Enter an email address and a password")
        user_id = await run_in_threadpool(_check_password, admin, *credentials)
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


def build_demo_app(gp: Gatepass, admin: FaunaClient, fauna_port: int, assets: Path) -> FastAPI:
    """The demo's web app: the page (step 6) and its two bundles, sign-up and login (step 4), likes (step 5)."""
    app = FastAPI(title="gatepass × FaunaDB demo")
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    app.mount("/static", StaticFiles(directory=assets), name="static")
    page = render_page("127.0.0.1", fauna_port)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    _add_account_routes(app, gp, admin)
    _add_like_route(app, admin)
    return app
