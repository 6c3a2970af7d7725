"""Run the demo: ``gatepass fauna-dev`` (in a thread), seeded; an embedded core on SQLite; and the FastAPI app on
the main thread. Ctrl-C (or SIGTERM) stops the app, then Fauna, then closes the core. Both ports are bound before
anything starts or is printed, so a port in use fails at once with the flag that changes it.

The users live in Fauna (``users="fauna"``: ``faunadb.init``, a Fauna token per session) or in the demo's own
SQLite table (``users="external"``: ``faunadb.init_with_access_provider``, a gatepass JWT per session, which Fauna
trusts through an AccessProvider)."""

from __future__ import annotations

import logging
import signal
import socket
import time
from pathlib import Path
from threading import Thread

import uvicorn

from gatepass.core.server import bind_listener, server_config
from gatepass.core.settings import ServerLimits
from gatepass.demo.accounts import Accounts, FaunaAccounts
from gatepass.demo.app import build_demo_app
from gatepass.demo.assets import find_assets
from gatepass.demo.events import logging_overrides
from gatepass.demo.seed import ACCESS_PROVIDER, seed, seed_jwt_access
from gatepass.demo.users import UserStore
from gatepass.errors import ConfigurationError
from gatepass.faunadev.jwks import jwks_uri_allowed
from gatepass.faunadev.server import open_server
from gatepass.logs import FORMAT
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import faunadb
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient

log = logging.getLogger("gatepass.demo")
FAUNA_ADMIN_SECRET = "secret"
DEFAULT_LIMITS = ServerLimits()
USERS = ("fauna", "external")


def _bind_both(host: str, port: int, fauna_port: int) -> tuple[socket.socket, socket.socket]:
    """Both listening sockets before anything is printed or started, so a busy port is one clear line."""
    fauna_listener = bind_listener("127.0.0.1", fauna_port, "--fauna-port")
    try:
        app_listener = bind_listener(host, port, "--port")
    except BaseException:
        fauna_listener.close()
        raise
    return fauna_listener, app_listener


def _start_fauna(listener: socket.socket, data_dir: Path, limits: ServerLimits) -> tuple[uvicorn.Server, Thread]:
    fauna = uvicorn.Server(server_config(open_server(data_dir / "fauna.json", FAUNA_ADMIN_SECRET).app, limits))
    thread = Thread(target=fauna.run, kwargs={"sockets": [listener]}, name="fauna-dev", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not fauna.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigurationError("the Fauna dev server could not start (see the messages above)")
        time.sleep(0.02)
    return fauna, thread


def _show_event_lines() -> None:
    """The demo's own lines (one per login, refresh and sign-out) at INFO, whatever the level of the others."""
    logging.basicConfig(format=FORMAT)  # no-op if already configured
    log.setLevel(logging.INFO)


def _origin(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '127.0.0.1') else host}:{port}"


def _check_users(users: str, host: str) -> None:
    if users not in USERS:
        raise ConfigurationError(f"--users must be one of {', '.join(USERS)}")
    if users == "external" and not jwks_uri_allowed(_origin(host, 1) + "/"):
        raise ConfigurationError(
            "--users external needs the web app on a loopback --host (such as 127.0.0.1): the Fauna dev server "
            "reads the app's JWKS over plain http, which it allows only from a loopback host"
        )


def _start_gatepass(
    users: str, admin: FaunaClient, origin: str, data_dir: Path, access_token_validity: float, lag_ms: int
) -> tuple[Gatepass, Accounts]:
    """Seed Fauna for where the users live, then the gatepass instance with its FaunaDB recipe; and the accounts."""
    app_info = AppInfo(app_name="gatepass × FaunaDB demo", api_domain=origin, website_domain=origin)
    accounts: Accounts
    if users == "external":
        store = UserStore(data_dir / "users.db")
        # the SDK's default issuer (api domain + base path), which serves its keys at {issuer}/jwt/jwks.json
        audience = seed_jwt_access(admin, app_info.issuer, jwks_uri=app_info.issuer + "/jwt/jwks.json")
        recipe = faunadb.init_with_access_provider(
            audience=audience,
            jwt_claims=store.claims,
            access_faunadb_token_from_frontend=True,
            faunadb_token_time_lag_ms=lag_ms,
            override=logging_overrides(),
        )
        accounts = store
    else:
        seed(admin)
        recipe = faunadb.init(
            faunadb_client=admin,
            user_collection_name="users",
            access_faunadb_token_from_frontend=True,
            faunadb_token_time_lag_ms=lag_ms,
            override=logging_overrides(),
        )
        accounts = FaunaAccounts(admin)
    gp = create(
        app_info=app_info,
        core=EmbeddedCore(f"sqlite:///{data_dir / 'sessions.db'}", access_token_validity=access_token_validity),
        framework="fastapi",
        recipe_list=[recipe],
    )
    return gp, accounts


def _print_banner(users: str, origin: str, fauna_port: int, data_dir: Path, validity: float, lag_ms: int) -> None:
    print(f"gatepass demo: open {origin}", flush=True)
    print(f"  Fauna dev server: http://127.0.0.1:{fauna_port} (admin secret '{FAUNA_ADMIN_SECRET}')", flush=True)
    if users == "external":
        where = f"{data_dir / 'users.db'}; Fauna trusts gatepass JWTs (AccessProvider '{ACCESS_PROVIDER}')"
        print(f"  users: {where}", flush=True)
    credential = "Fauna JWTs" if users == "external" else "Fauna tokens"
    lifetimes = f"access tokens live {validity:g} s, {credential} {lag_ms / 1000:g} s longer"
    print(f"  sessions: {data_dir / 'sessions.db'}; {lifetimes}", flush=True)


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    fauna_port: int = 8443,
    data_dir: Path = Path(".gatepass-demo"),
    access_token_validity: float = 30,
    faunadb_token_lag_ms: int = 5_000,
    assets: Path | None = None,
    limits: ServerLimits = DEFAULT_LIMITS,
    users: str = "fauna",
) -> None:
    """Run the demo until Ctrl-C or SIGTERM (the module docstring says what runs where)."""
    _show_event_lines()
    _check_users(users, host)
    bundles = find_assets(assets)
    fauna_listener, app_listener = _bind_both(host, port, fauna_port)
    fauna_port, port = fauna_listener.getsockname()[1], app_listener.getsockname()[1]  # real ports, also for 0
    data_dir.mkdir(parents=True, exist_ok=True)
    fauna, fauna_thread = _start_fauna(fauna_listener, data_dir, limits)
    admin = FaunaClient(secret=FAUNA_ADMIN_SECRET, scheme="http", domain="127.0.0.1", port=fauna_port)
    origin = _origin(host, port)
    gp, accounts = _start_gatepass(users, admin, origin, data_dir, access_token_validity, faunadb_token_lag_ms)
    app = build_demo_app(gp, admin, fauna_port, bundles, accounts, users)
    _print_banner(users, origin, fauna_port, data_dir, access_token_validity, faunadb_token_lag_ms)
    for sig in (signal.SIGINT, signal.SIGTERM):  # uvicorn re-raises the signal into these after its shutdown
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.Server(server_config(app, limits)).run(sockets=[app_listener])
    finally:
        app_listener.close()
        fauna.should_exit = True
        fauna_thread.join(timeout=10)
        gp.close()
        print("gatepass demo stopped", flush=True)
