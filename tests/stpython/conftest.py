"""Fixtures for the FaunaDB plugin on the official supertokens-python SDK: a real ``gatepass core`` process, a real
``gatepass fauna-dev`` process (stopped and restarted for the outage tests) and the official SDK reset around
each test (it is a process-wide singleton)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.conformance.conftest import reset_sdk
from tests.faunadev.conftest import make_schema
from tests.helpers import API_KEY, CoreProcess, free_port, running_core

ADMIN = "secret"


@dataclass
class FaunaProcess:
    """``gatepass fauna-dev`` as a process on a fixed port and data file, so it can go down and come back."""

    data: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    clients: list[FaunaClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gatepass.cli", "fauna-dev", "--port", str(self.port)]
        command += ["--data", str(self.data), "--admin-secret", ADMIN]
        self.process = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/ping", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("fauna-dev did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def client(self, secret: str = ADMIN) -> FaunaClient:
        client = FaunaClient(secret=secret, scheme="http", domain="127.0.0.1", port=self.port, timeout=5)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.session.close()
        self.stop()


@dataclass
class FaunaWorld:
    """The running fauna-dev, its schema (``make_schema``: users, notes, a role) and a server key for the app."""

    fauna: FaunaProcess
    admin: FaunaClient
    users: dict[str, Any]
    server_key: str

    def as_secret(self, secret: str) -> FaunaClient:
        return self.fauna.client(secret)

    def refuses(self, secret: str) -> bool:
        """Fauna refuses this secret (deleted or past its TTL)."""
        from faunadb.errors import Unauthorized

        try:
            self.as_secret(secret).query(q.current_identity())
        except Unauthorized:
            return True
        return False

    def tokens_of_session(self, handle: str) -> list[dict[str, Any]]:
        """The live Fauna tokens tagged with this session handle."""
        page = self.admin.query(q.map_(q.lambda_("t", q.get(q.var("t"))), q.paginate(q.tokens(), size=1000)))
        return [t for t in page["data"] if t.get("data", {}).get("sessionHandle") == handle]


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreProcess]:
    tmp = tmp_path_factory.mktemp("core")
    with running_core(f"sqlite:///{tmp / 'core.db'}", tmp / "core.log", ["--api-key", API_KEY]) as process:
        yield process


@pytest.fixture(scope="module")
def fauna_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaunaWorld]:
    fauna = FaunaProcess(tmp_path_factory.mktemp("fauna") / "fauna.json")
    fauna.start()
    try:
        admin = fauna.client()
        users = make_schema(admin)
        server_key = admin.query(q.create_key({"role": "server"}))["secret"]
        yield FaunaWorld(fauna, admin, users, server_key)
    finally:
        fauna.close()


@pytest.fixture
def world(fauna_world: FaunaWorld) -> Iterator[FaunaWorld]:
    """The module's Fauna, up at the start of each test (an outage test may have stopped it)."""
    if fauna_world.fauna.process is None:
        fauna_world.fauna.start()
    yield fauna_world
    if fauna_world.fauna.process is None:
        fauna_world.fauna.start()


@pytest.fixture
def sdk_reset() -> Iterator[None]:
    reset_sdk()
    yield
    reset_sdk()


def new_user(world: FaunaWorld, email: str) -> Any:
    """A fresh user document (each test its own, so counting a user's tokens sees only that test's)."""
    return world.admin.query(q.create(q.collection("users"), {"data": {"email": email}}))["ref"]
