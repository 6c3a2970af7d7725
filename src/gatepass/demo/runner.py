"""Run the demo: ``gatepass fauna-dev`` (in a thread), seeded; an embedded core on SQLite; and the FastAPI app on
the main thread. Ctrl-C (or SIGTERM) stops the app, then Fauna, then closes the core. Both ports are bound before
anything starts or is printed, so a port in use fails at once with the flag that changes it."""

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
from gatepass.demo.app import build_demo_app
from gatepass.demo.assets import find_assets
from gatepass.demo.events import logging_overrides
from gatepass.demo.seed import seed
from gatepass.errors import ConfigurationError
from gatepass.faunadev.server import open_server
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import create
from gatepass.recipe.session import faunadb
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient

log = logging.getLogger("gatepass.demo")
FAUNA_ADMIN_SECRET = "secret"
DEFAULT_LIMITS = ServerLimits()


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
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # no-op if already configured
    log.setLevel(logging.INFO)


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
) -> None:
    """Run the demo until Ctrl-C or SIGTERM (the module docstring says what runs where)."""
    _show_event_lines()
    bundles = find_assets(assets)
    fauna_listener, app_listener = _bind_both(host, port, fauna_port)
    fauna_port, port = fauna_listener.getsockname()[1], app_listener.getsockname()[1]  # real ports, also for 0
    data_dir.mkdir(parents=True, exist_ok=True)
    fauna, fauna_thread = _start_fauna(fauna_listener, data_dir, limits)
    admin = FaunaClient(secret=FAUNA_ADMIN_SECRET, scheme="http", domain="127.0.0.1", port=fauna_port)
    seed(admin)
    origin = f"http://{'127.0.0.1' if host in ('0.0.0.0', '127.0.0.1') else host}:{port}"
    gp = create(
        app_info=AppInfo(app_name="gatepass × FaunaDB demo", api_domain=origin, website_domain=origin),
        core=EmbeddedCore(f"sqlite:///{data_dir / 'sessions.db'}", access_token_validity=access_token_validity),
        framework="fastapi",
        recipe_list=[
            faunadb.init(
                faunadb_client=admin,
                user_collection_name="users",
                access_faunadb_token_from_frontend=True,
                faunadb_token_time_lag_ms=faunadb_token_lag_ms,
                override=logging_overrides(),
            )
        ],
    )
    app = build_demo_app(gp, admin, fauna_port, bundles)
    print(f"gatepass demo: open {origin}", flush=True)
    print(f"  Fauna dev server: http://127.0.0.1:{fauna_port} (admin secret '{FAUNA_ADMIN_SECRET}')", flush=True)
    lag_s = faunadb_token_lag_ms / 1000
    lifetimes = f"access tokens live {access_token_validity:g} s, Fauna tokens {lag_s:g} s longer"
    print(f"  sessions: {data_dir / 'sessions.db'}; {lifetimes}", flush=True)
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
