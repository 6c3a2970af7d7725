"""The demo's backend over HTTP, without a browser or npm (stub bundles): sign-up, login and liking a comment, the
answers that succeed and the ones that refuse, from a real ``gatepass demo`` process. tests/browser/test_demo.py
runs the page itself in Chromium."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

pytest.importorskip("fastapi")
pytest.importorskip("faunadb")


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the demo's output (stdout and stderr) goes."""
    return tmp_path_factory.mktemp("demo-output") / "output.txt"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_output: Path) -> Iterator[tuple[str, int]]:
    """A running demo, shared by the tests here: its URL and the port of its Fauna dev server."""
    tmp_path = tmp_path_factory.mktemp("demo")
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("supertokens.js", "faunadb.js"):
        (assets / name).write_text("// test stub\n")
    port, fauna_port = free_port(), free_port()
    args = ["--port", str(port), "--fauna-port", str(fauna_port), "--data-dir", str(tmp_path / "data")]
    output_file = demo_output.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gatepass.cli", "demo", *args, "--assets", str(assets)],
        stdout=output_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, demo_output.read_text()
            assert time.monotonic() < deadline, "the demo did not start"
            try:
                if httpx.get(url + "/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, fauna_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        output_file.close()
    output = demo_output.read_text()
    assert process.returncode == 0 and "gatepass demo stopped" in output, output


def _first_comment_id(fauna_port: int) -> str:
    from gatepass.demo.runner import FAUNA_ADMIN_SECRET
    from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q

    admin = FaunaClient(secret=FAUNA_ADMIN_SECRET, scheme="http", domain="127.0.0.1", port=fauna_port)
    page = admin.query(q.paginate(q.documents(q.collection("comments"))))
    return str(page["data"][0].id())


def test_demo_page_and_bundles_are_served(demo: tuple[str, int]) -> None:
    url, fauna_port = demo
    page = httpx.get(url + "/")
    assert page.headers["content-type"].startswith("text/html") and f'"port": {fauna_port}' in page.text
    assert httpx.get(url + "/static/faunadb.js").text == "// test stub\n"


def test_demo_sign_up_log_in_and_like(demo: tuple[str, int]) -> None:
    url, fauna_port = demo
    account = {"email": " New.User@example.com", "password": "a good password"}
    signup = httpx.post(url + "/signup", json=account)
    assert signup.status_code == 200 and signup.json()["userId"].isdigit()
    user_id = signup.json()["userId"]
    assert httpx.post(url + "/signup", json={**account, "email": "new.user@example.com"}).status_code == 409

    wrong = httpx.post(url + "/login", json={**account, "password": "wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"message": "Wrong email or password"}
    unknown = httpx.post(url + "/login", json={**account, "email": "nobody@example.com"})
    assert unknown.status_code == 401
    login = httpx.post(url + "/login", json=account)
    assert login.status_code == 200 and login.json() == {"userId": user_id}

    bearer = {"Authorization": f"Bearer {login.headers['st-access-token']}"}
    comment = _first_comment_id(fauna_port)
    for likes in (1, 2):
        liked = httpx.post(url + "/like-comment", json={"commentId": comment}, headers=bearer)
        assert liked.status_code == 200 and liked.json() == {"userId": user_id, "likes": likes}
    assert httpx.post(url + "/like-comment", json={"commentId": "1"}, headers=bearer).status_code == 404
    assert httpx.post(url + "/like-comment", json={"commentId": "abc"}, headers=bearer).status_code == 400
    assert httpx.post(url + "/like-comment", content=b"not json", headers=bearer).status_code == 400
    assert httpx.post(url + "/like-comment", json={"commentId": comment}).status_code == 401


def test_demo_refuses_bad_credentials_bodies(demo: tuple[str, int]) -> None:
    url, _ = demo
    for body in (b"not json", b"[]", b'{"email": 1}', b'{"email": "x", "password": ""}', b'{"password": "p"}'):
        for path in ("/signup", "/login"):
            response = httpx.post(url + path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (path, body)
            assert response.json() == {"message": "Enter an email address and a password"}


def test_demo_logs_one_line_per_login_refresh_and_sign_out_and_no_secret(
    demo: tuple[str, int], demo_output: Path
) -> None:
    url, _ = demo
    account = {"email": "logged@example.com", "password": "a good password"}
    signup = httpx.post(url + "/signup", json=account)
    login = httpx.post(url + "/login", json=account)
    user_id = login.json()["userId"]
    refresh = httpx.post(
        url + "/auth/session/refresh", headers={"Authorization": "Bearer " + login.headers["st-refresh-token"]}
    )
    assert refresh.status_code == 200
    refused = httpx.post(url + "/auth/session/refresh", headers={"Authorization": "Bearer gp1.not-a-token"})
    assert refused.status_code == 401  # no refresh line for it
    sign_out = httpx.post(
        url + "/auth/signout", headers={"Authorization": "Bearer " + refresh.headers["st-access-token"]}
    )
    assert sign_out.status_code == 200
    assert httpx.post(url + "/auth/signout").status_code == 401  # no session: no sign-out line

    deadline = time.monotonic() + 5
    while "sign-out: user=" not in demo_output.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in demo_output.read_text().splitlines() if f"user={user_id}" in line]
    events = [line.split(" gatepass.demo: ")[1] for line in lines]
    assert events == [
        f"sign-up and login: user={user_id}",
        f"login: user={user_id}",
        f"refresh: user={user_id}",
        f"sign-out: user={user_id}",
    ], lines
    output = demo_output.read_text()
    secrets = [signup.headers["st-access-token"], login.headers["st-refresh-token"], refresh.headers["st-access-token"]]
    secrets += [_payload(r.headers["st-access-token"])["faunadbToken"] for r in (signup, login, refresh)]
    assert not [secret for secret in secrets if secret in output]


def _payload(access_token: str) -> dict[str, Any]:
    body = access_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
