"""A real ``gatepass fauna-dev`` server in this process, and official faunadb driver clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.faunadev.server import open_server
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.helpers import free_port, serve_in_thread

ADMIN = "secret"


@dataclass
class FaunaDev:
    port: int
    data: Path | None
    clients: dict[str, FaunaClient] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, secret: str = ADMIN) -> FaunaClient:
        """One driver client per secret (each holds a connection pool), closed by ``close``."""
        if secret not in self.clients:
            self.clients[secret] = FaunaClient(secret=secret, scheme="http", domain="127.0.0.1", port=self.port)
        return self.clients[secret]

    def close(self) -> None:
        for client in self.clients.values():
            client.session.close()
        self.clients.clear()

    def advance_clock(self, seconds: float) -> None:
        response = httpx.post(self.url + "/_emulator/advance_clock", json={"seconds": seconds}, auth=(ADMIN, ""))
        assert response.status_code == 200, response.text


@pytest.fixture
def fauna(tmp_path: Path) -> Iterator[FaunaDev]:
    port = free_port()
    server = open_server(tmp_path / "fauna.json", ADMIN)
    fauna_dev = FaunaDev(port, tmp_path / "fauna.json")
    with serve_in_thread(server.app, port):
        yield fauna_dev
    fauna_dev.close()


@pytest.fixture
def admin(fauna: FaunaDev) -> FaunaClient:
    return fauna.client()


Setup = Callable[[FaunaClient], dict[str, Any]]


def make_schema(admin: FaunaClient) -> dict[str, Any]:
    """users (with a unique email index), notes owned by users, and a role letting users use their own notes."""
    admin.query(q.create_collection({"name": "users"}))
    admin.query(q.create_collection({"name": "notes"}))
    admin.query(
        q.create_index(
            {
                "name": "users_by_email",
                "source": q.collection("users"),
                "terms": [{"field": ["data", "email"]}],
                "unique": True,
            }
        )
    )
    admin.query(
        q.create_index({"name": "tokens_by_instance", "source": q.tokens(), "terms": [{"field": ["instance"]}]})
    )
    admin.query(
        q.create_index(
            {"name": "notes_by_owner", "source": q.collection("notes"), "terms": [{"field": ["data", "owner"]}]}
        )
    )
    owns = q.query(q.lambda_("ref", q.equals(q.current_identity(), q.select(["data", "owner"], q.get(q.var("ref"))))))
    admin.query(
        q.create_role(
            {
                "name": "user",
                "membership": [{"resource": q.collection("users")}],
                "privileges": [
                    {
                        "resource": q.collection("users"),
                        "actions": {"read": q.query(q.lambda_("ref", q.equals(q.current_identity(), q.var("ref"))))},
                    },
                    {
                        "resource": q.collection("notes"),
                        "actions": {
                            "read": owns,
                            "write": q.query(
                                q.lambda_(
                                    ["oldData", "newData"],
                                    q.and_(
                                        q.equals(q.current_identity(), q.select(["data", "owner"], q.var("oldData"))),
                                        q.equals(
                                            q.select(["data", "owner"], q.var("oldData")),
                                            q.select(["data", "owner"], q.var("newData")),
                                        ),
                                    ),
                                )
                            ),
                            "create": q.query(
                                q.lambda_(
                                    "values",
                                    q.equals(q.current_identity(), q.select(["data", "owner"], q.var("values"))),
                                )
                            ),
                            "delete": owns,
                        },
                    },
                    {"resource": q.index("notes_by_owner"), "actions": {"read": True}},
                ],
            }
        )
    )
    alice = admin.query(
        q.create(
            q.collection("users"), {"data": {"email": "alice@example.com"}, "credentials": {"password": "alice-pw"}}
        )
    )
    bob = admin.query(
        q.create(q.collection("users"), {"data": {"email": "bob@example.com"}, "credentials": {"password": "bob-pw"}})
    )
    return {"alice": alice["ref"], "bob": bob["ref"]}
