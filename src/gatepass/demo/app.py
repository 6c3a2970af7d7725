"""The demo's backend (FastAPI): sign-up and login against Fauna, then a gatepass session for the user's Fauna
document (step 4); liking a comment as the user with ``get_faunadb_token()`` (step 5); and the page (step 6)."""

from __future__ import annotations

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


def _credentials(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return None
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or "@" not in email or not password:
        return None
    return email.strip().lower(), password


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def build_demo_app(gp: Gatepass, admin: FaunaClient, fauna_port: int, assets: Path) -> FastAPI:
    app = FastAPI(title="gatepass × FaunaDB demo")
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    app.mount("/static", StaticFiles(directory=assets), name="static")
    page = render_page("127.0.0.1", fauna_port)

    async def read_json(request: Request) -> Any:
        try:
            return parse_json(await request.body())
        except MalformedInput:
            return None

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    @app.post("/signup")
    async def signup(request: Request) -> Any:
        credentials = _credentials(await read_json(request))
        if credentials is None:
            return _error(400, "Enter an email address and a password")
        email, password = credentials

        def create_user() -> str | None:
            try:
                user = admin.query(
                    q.create(q.collection("users"), {"data": {"email": email}, "credentials": {"password": password}})
                )
            except BadRequest:
                return None  # the unique index refused a second account for this email
            return str(user["ref"].id())

        user_id = await run_in_threadpool(create_user)
        if user_id is None:
            return _error(409, "This email is already registered: log in instead")
        await create_new_session(request, "public", user_id, gatepass=gp)
        return {"userId": user_id}

    @app.post("/login")
    async def login(request: Request) -> Any:
        credentials = _credentials(await read_json(request))
        if credentials is None:
            return _error(400, "Enter an email address and a password")
        email, password = credentials
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
        user_id = await run_in_threadpool(admin.query, lookup)
        if not user_id:
            return _error(401, "Wrong email or password")
        await create_new_session(request, "public", str(user_id), gatepass=gp)
        return {"userId": str(user_id)}

    @app.post("/like-comment")
    async def like_comment(request: Request, session: AsyncSessionContainer = Depends(verify_session())) -> Any:
        body = await read_json(request)
        comment_id = body.get("commentId") if isinstance(body, dict) else None
        if not isinstance(comment_id, str) or not is_ascii_digits(comment_id):
            return _error(400, "commentId must be a comment's id")
        token = await session.get_faunadb_token()
        ref = q.ref(q.collection("comments"), comment_id)
        like = q.select(
            ["data", "likes"],
            q.update(ref, {"data": {"likes": q.add(q.select(["data", "likes"], q.get(ref)), 1)}}),
        )

        def as_user() -> Any:
            client = admin.new_session_client(secret=token)  # the user's own token: Fauna checks the role
            return client.query(like)

        try:
            likes = await run_in_threadpool(as_user)
        except NotFound:
            return _error(404, "No such comment")
        except Unauthorized:
            return _error(401, "unauthorised")
        return {"userId": session.get_user_id(), "likes": likes}

    return app
