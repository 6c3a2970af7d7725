"""Run the demo: ``gatepass fauna-dev`` (in a thread), seeded; an embedded core on SQLite; and the FastAPI app on
the main thread. Ctrl-C (or SIGTERM) stops the app, then Fauna, then closes the core."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import uvicorn

from gatepass.demo.app import build_demo_app
from gatepass.demo.assets import find_assets
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


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    fauna_port: int = 8443,
    data_dir: Path = Path(".gatepass-demo"),
    access_token_validity: float = 30,
    assets: Path | None = None,
) -> None:
    bundles = find_assets(assets)
    data_dir.mkdir(parents=True, exist_ok=True)
    fauna = uvicorn.Server(
        uvicorn.Config(
            open_server(data_dir / "fauna.json", FAUNA_ADMIN_SECRET).app,
            host="127.0.0.1",
            port=fauna_port,
            log_level="warning",
            lifespan="off",
        )
    )
    fauna_thread = threading.Thread(target=fauna.run, name="fauna-dev", daemon=True)
    fauna_thread.start()
    deadline = time.monotonic() + 15
    while not fauna.started:
        if not fauna_thread.is_alive() or time.monotonic() > deadline:
            raise ConfigurationError(f"the Fauna dev server could not start on port {fauna_port} (is it in use?)")
        time.sleep(0.02)
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
                faunadb_token_time_lag_ms=5_000,
            )
        ],
    )
    app = build_demo_app(gp, admin, fauna_port, bundles)
    print(f"gatepass demo: open {origin}", flush=True)
    print(f"  Fauna dev server: http://127.0.0.1:{fauna_port} (admin secret '{FAUNA_ADMIN_SECRET}')", flush=True)
    print(f"  sessions: {data_dir / 'sessions.db'}; access tokens live {access_token_validity:g} s", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):  # uvicorn re-raises the signal into these after its shutdown
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        fauna.should_exit = True
        fauna_thread.join(timeout=10)
        gp.close()
        print("gatepass demo stopped", flush=True)
