"""``gatepass demo`` in headless Chromium, as a new user would go through it: sign up, see comments read from Fauna
by the browser (the faunadb JS driver), like one, wait past the access-token lifetime and like again without
logging in, sign out and see what Fauna answers to the old credential. Every test runs in both of the demo's modes:
``--users fauna`` (users in Fauna, a Fauna token per session: the old token is refused once replaced or revoked)
and ``--users external`` (users in the demo's SQLite table, a gatepass JWT per session that Fauna trusts through an
AccessProvider: the old JWT stays valid until its exp, and the page says so). Screenshots of each step go to
test-artifacts/demo/<mode>/."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"
ACCESS_TOKEN_SECONDS = 3
# a Fauna credential outlives its access token by this much: long enough that the JWT replaced at a refresh is
# still valid when the page and this test ask Fauna about it
LAG_SECONDS = 10
USERS = ("fauna", "external")
MODE_LINES = {"fauna": "Users: in Fauna", "external": "Users: in the app's own database; Fauna trusts gatepass JWTs"}
# Chromium logs every 401 answer as a console error. The protocol uses 401 on purpose (an expired access token
# asks for a refresh; a revoked Fauna token is refused), so those lines are expected; anything else fails the test.
EXPECTED = ("the server responded with a status of 401",)


@contextmanager
def _running_demo(
    tmp_path: Path, assets: Path, validity_s: float, *extra: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port, fauna_port = free_port(), free_port()
    command = [sys.executable, "-m", "gatepass.cli", "demo", "--port", str(port), "--fauna-port", str(fauna_port)]
    command += ["--data-dir", str(tmp_path / "data"), "--access-token-validity", str(validity_s)]
    command += ["--assets", str(assets), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the demo exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(url + "/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if process.stdout:
            process.stdout.close()


@pytest.fixture(params=USERS)
def users(request: pytest.FixtureRequest) -> str:
    """Where the demo's users live: ``fauna`` or ``external``."""
    return str(request.param)


@pytest.fixture
def demo(tmp_path: Path, browser_assets: Path, users: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    lag = ("--faunadb-token-lag", str(LAG_SECONDS))
    with _running_demo(tmp_path, browser_assets, ACCESS_TOKEN_SECONDS, *lag, "--users", users) as running:
        yield running


def _shot(page: Any, users: str, name: str) -> None:
    (ARTIFACTS / users).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / users / f"{name}.png"), full_page=True)


def _watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and not any(e in m.text for e in EXPECTED) else None,
    )
    return errors


def _fauna_secret(page: Any) -> str:
    return str(page.evaluate("supertokens.getAccessTokenPayloadSecurely().then((p) => p.faunadbToken)"))


def _fauna_identity(url: str, secret: str) -> Any:
    """Fauna's ``CurrentIdentity()`` for ``secret``, asked from here (the official Python driver), not from the
    page; None if Fauna refuses the secret (401)."""
    from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, Unauthorized, q

    port = int(httpx.get(url + "/").text.split('"port": ')[1].split(",")[0])
    try:
        return FaunaClient(secret=secret, scheme="http", domain="127.0.0.1", port=port).query(q.current_identity())
    except Unauthorized:
        return None


def _fauna_refuses(url: str, secret: str) -> bool:
    """Whether Fauna answers 401 to ``secret`` (asked from here, not from the page)."""
    return _fauna_identity(url, secret) is None


def _claims(token: str, part: int = 1) -> dict[str, Any]:
    """The payload (or, ``part=0``, the header) of a JWT or an access token, not verified: what the test compares
    against."""
    body = token.split(".")[part]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _with_bad_signature(jwt: str) -> str:
    """The same header and claims with one signature byte changed (the middle of the signature, so that the
    change is in the signed bits, not in the last character's padding bits)."""
    header, claims, signature = jwt.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([header, claims, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])


def _assert_fauna_trusts_the_jwt(url: str, page: Any, jwt: str, user_id: str) -> None:
    """The browser's ``faunadbToken`` is a gatepass JWT that Fauna accepts as the user, and only as signed."""
    header = _claims(jwt, part=0)
    claims = _claims(jwt)
    access = page.evaluate("supertokens.getAccessTokenPayloadSecurely()")
    assert header["alg"] == "RS256" and claims["iss"] == url + "/auth" and claims["sub"] == user_id
    assert str(claims["aud"]).startswith("https://db.fauna.com/db/")
    # the access token's expiry + the lag, or a second under it: the SDK aims one second under the latest allowed,
    # as the core's second may tick between its clock reading and the signing
    assert access["exp"] + LAG_SECONDS - 1 <= claims["exp"] <= access["exp"] + LAG_SECONDS, (claims, access)
    assert claims["email"] == page.text_content("#whoami")  # jwt_claims: the page read it back from Fauna
    assert _fauna_identity(url, jwt) == user_id  # a string: Fauna's identity for a JWT is its sub
    assert _fauna_refuses(url, _with_bad_signature(jwt))
    jwks = httpx.get(url + "/auth/jwt/jwks.json").json()  # where Fauna got the key from
    assert header.get("kid") in {key.get("kid") for key in jwks["keys"]}


def _assert_shows_the_fauna_token(page: Any, secret: str) -> None:
    """The masked token (first and last 4 characters) is shown; the secret itself is nowhere in the page."""
    page.wait_for_function(f"document.querySelector('#fauna-token').textContent === {secret[:4] + '…' + secret[-4:]!r}")
    assert secret not in page.evaluate("document.body.innerText")
    assert secret not in page.evaluate("document.documentElement.outerHTML")


LAYOUT = ("#expiry", "#fauna-expiry", "#refreshes", "#signout", "#comments")


def _watch_the_timers(page: Any, seconds: float) -> set[str]:
    """Sample the two countdowns for ``seconds``: the boxes of the timers and of what is around them never change
    (no reflow as the text does). The texts seen."""
    boxes = {selector: page.locator(selector).bounding_box() for selector in LAYOUT}
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.add(f"{page.text_content('#expiry')} | {page.text_content('#fauna-expiry')}")
        assert {selector: page.locator(selector).bounding_box() for selector in LAYOUT} == boxes
        time.sleep(0.2)
    return seen


def _assert_logged(output: str, user_id: str, secrets: list[str]) -> None:
    """One line per sign-up, refresh, sign-out and login, in that order; no token or Fauna secret anywhere."""
    events = [line.split(" gatepass.demo: ")[1] for line in output.splitlines() if " gatepass.demo: " in line]
    assert events[:2] == [f"sign-up and login: user={user_id}", f"refresh: user={user_id}"], output
    assert events[-2:] == [f"sign-out: user={user_id}", f"login: user={user_id}"], output
    assert set(events[2:-2]) <= {f"refresh: user={user_id}"}, output
    assert not [secret for secret in secrets if secret in output]


SESSION_SHOWN = "document.querySelector('#whoami').textContent && document.querySelector('#fauna-token').textContent"


def _sign_up(page: Any, url: str, users: str, email: str) -> str:
    """Sign up on the page and wait for the comments from Fauna; the user id shown."""
    page.goto(url)
    page.wait_for_selector("#auth:not([hidden])")
    assert page.text_content("#users-mode") == MODE_LINES[users]
    _shot(page, users, "0-start")
    page.fill("#email", email)
    page.fill("#password", "a good password")
    page.click("#signup")
    page.wait_for_selector("#app:not([hidden])")
    page.wait_for_function("document.querySelectorAll('#comments li').length === 3")
    user_id = page.text_content("#user") or ""
    assert user_id.isdigit() if users == "fauna" else re.fullmatch("[0-9a-f]{32}", user_id), user_id
    assert page.text_content("#whoami") == email
    return user_id


def _assert_the_refresh_report(page: Any, url: str, users: str, old: str, new: str) -> None:
    """What the page says about the credential a refresh replaced, and what Fauna answers about it here."""
    page.wait_for_function("document.querySelector('#fauna-event').textContent.length > 0")
    event = page.text_content("#fauna-event") or ""
    assert new != old
    if users == "fauna":
        assert "replaced at refresh; the old one is now refused by Fauna" in event and _fauna_refuses(url, old)
        return
    said = re.search(
        r"Fauna JWT replaced at refresh; the old one stays valid until its exp \((\d+) s\): JWTs are "
        r"not revocable, so they are short\.$",
        event,
    )
    assert said, event
    left = _claims(old)["exp"] - time.time()
    assert abs(int(said.group(1)) - left) <= 2 and 0 < left <= ACCESS_TOKEN_SECONDS + LAG_SECONDS, (event, left)
    assert _fauna_identity(url, old) == _claims(old)["sub"]  # the old JWT is not revoked: Fauna still takes it


def _assert_the_sign_out_report(page: Any, url: str, users: str, old: str) -> None:
    refusal = page.text_content("#refusal") or ""
    if users == "fauna":
        assert refusal == "Fauna refused the old token (401): revoked" and _fauna_refuses(url, old)
        return
    said = re.fullmatch(
        r"Fauna still accepts the old JWT until it expires in (\d+) s \(a JWT cannot be revoked\)", refusal
    )
    assert said, refusal
    assert abs(int(said.group(1)) - (_claims(old)["exp"] - time.time())) <= 2, refusal
    assert _fauna_identity(url, old) == _claims(old)["sub"]


def _like_wait_and_like_again(page: Any, users: str) -> None:
    """Like the first comment, wait past the access token's lifetime (the timers count down without moving
    anything), and like it again: the SDK refreshes first."""
    first = page.locator("#comments li").first
    first.locator("button").click()
    page.wait_for_function("document.querySelector('#comments li .likes').textContent.includes('1')")
    _shot(page, users, "2-liked")
    seen = _watch_the_timers(page, ACCESS_TOKEN_SECONDS + 1.5)  # past the access token's lifetime
    assert len(seen) >= 3 and any(text.startswith("expired | ") for text in seen), seen
    first.locator("button").click()
    page.wait_for_function("document.querySelector('#comments li .likes').textContent.includes('2')")
    assert int(page.text_content("#refreshes") or "0") >= 1


def _log_in_again(page: Any, users: str, email: str, user_id: str) -> None:
    page.click("#again")
    page.fill("#email", email)
    page.fill("#password", "wrong password")
    page.press("#password", "Enter")  # Enter submits the form: Log in
    page.wait_for_function("document.querySelector('#auth-error').textContent.length > 0")
    assert "Wrong email or password" in (page.text_content("#auth-error") or "")
    page.fill("#password", "a good password")
    page.press("#password", "Enter")
    page.wait_for_selector("#app:not([hidden])")
    page.wait_for_function(SESSION_SHOWN)  # the app is shown first, then filled in from the session and Fauna
    assert page.text_content("#user") == user_id and page.text_content("#whoami") == email
    assert page.text_content("#fauna-event") == "" and page.text_content("#refreshes") == "0"
    _shot(page, users, "5-logged-in-again")


def test_the_guide_end_to_end_in_a_browser(browser: Any, demo: tuple[str, subprocess.Popen[str]], users: str) -> None:
    url, process = demo
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors = _watch_errors(page)
    email = "new.user@example.com"
    user_id = _sign_up(page, url, users, email)
    assert "Sessions that rotate" in (page.text_content("#comments") or "")
    first_secret = _fauna_secret(page)
    _assert_shows_the_fauna_token(page, first_secret)
    if users == "external":
        _assert_fauna_trusts_the_jwt(url, page, first_secret, user_id)
    page.wait_for_function("/^[0-9]+ s$/.test(document.querySelector('#fauna-expiry').textContent)")
    # Fauna's expiry: the access token's + the lag (a JWT's exp may be a second under it, as above)
    lags = {f"{LAG_SECONDS} s"} if users == "fauna" else {f"{LAG_SECONDS - 1} s", f"{LAG_SECONDS} s"}
    assert page.text_content("#lag") in lags
    _shot(page, users, "1-signed-up-comments-from-fauna")

    _like_wait_and_like_again(page, users)
    second_secret = _fauna_secret(page)
    _assert_the_refresh_report(page, url, users, first_secret, second_secret)
    _assert_shows_the_fauna_token(page, second_secret)
    if users == "external":
        _assert_fauna_trusts_the_jwt(url, page, second_secret, user_id)
    _shot(page, users, "3-liked-again-after-refresh")

    page.reload()  # the comments are still readable from Fauna with the renewed credential
    page.wait_for_function("document.querySelectorAll('#comments li').length === 3")
    assert "2" in (page.text_content("#comments li .likes") or "")
    secrets = [first_secret, second_secret, *(c["value"] for c in context.cookies() if c["name"].startswith("s"))]

    last_secret = _fauna_secret(page)  # what the page signs out with (it asks the same way)
    secrets.append(last_secret)
    page.click("#signout")
    page.wait_for_selector("#after:not([hidden])")
    _assert_the_sign_out_report(page, url, users, last_secret)
    _shot(page, users, "4-signed-out")

    _log_in_again(page, users, email, user_id)
    assert errors == []
    context.close()

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0 and "gatepass demo stopped" in output
    _assert_logged(output, user_id, secrets)


def test_signing_out_in_another_tab_returns_this_tab_to_the_login_form(
    browser: Any, demo: tuple[str, subprocess.Popen[str]]
) -> None:
    url, _ = demo
    context = browser.new_context()
    this_tab = context.new_page()
    errors = _watch_errors(this_tab)
    this_tab.goto(url)
    this_tab.wait_for_selector("#auth:not([hidden])")
    this_tab.fill("#email", "two.tabs@example.com")
    this_tab.fill("#password", "a good password")
    this_tab.click("#signup")
    this_tab.wait_for_function("document.querySelectorAll('#comments li').length === 3")
    other_tab = context.new_page()
    other_tab.goto(url)
    other_tab.wait_for_selector("#app:not([hidden])")
    other_tab.wait_for_function(SESSION_SHOWN)
    assert other_tab.text_content("#whoami") == "two.tabs@example.com"
    other_tab.click("#signout")
    other_tab.wait_for_selector("#after:not([hidden])")
    this_tab.wait_for_selector("#auth:not([hidden])", timeout=5_000)
    assert this_tab.is_hidden("#app") and "You were signed out" in (this_tab.text_content("#auth-note") or "")
    assert errors == []
    context.close()


BAD_CREDENTIALS = [
    b"not json",
    b"[]",
    b"null",
    b'"a@b.c"',
    b'{"email": 1}',
    b'{"email": "x", "password": ""}',
    b'{"email": "a@b.c"}',
    b'{"email": ["a@b.c"], "password": {"p": 1}}',
    b'{"email": "a@b.c", "password": "p", "email": "c@d.e"}',  # a duplicate member
    b'{"email": "a\\u0000@b.c", "password": "p"}',  # NUL
    b'{"email": "a@b.c", "password": "p\\u0000"}',
    b'{"email": "a\\ud800@b.c", "password": "p"}',  # lone surrogates
    b'{"email": "a@b.c", "password": "\\udfff"}',
    b'{"email": "\xff@b.c", "password": "p"}',  # not UTF-8
    b'{"email": "a\\n@b.c", "password": "p"}',  # a control character in the email
    b"[" * 10_000 + b"]" * 10_000,
    json.dumps({"email": "a" * 250 + "@b.cd", "password": "p"}).encode(),  # 255 characters
    json.dumps({"email": "a@b.c", "password": "p" * 1025}).encode(),
]


def test_demo_backend_answers_bad_input_cleanly(demo: tuple[str, subprocess.Popen[str]], users: str) -> None:
    """Sign-up and login refuse any malformed body with a 4xx and a message (never a 500); the longest email
    and password still work; liking needs a session and a comment's id."""
    url, _ = demo
    for body in BAD_CREDENTIALS:
        for path in ("/signup", "/login"):
            response = httpx.post(url + path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400 and response.json()["message"], (path, body[:80])
    huge = b'{"email": "a@b.c", "password": "' + b"p" * 2_000_000 + b'"}'
    for path in ("/signup", "/login"):
        response = httpx.post(url + path, content=huge, headers={"content-type": "application/json"})
        assert response.status_code == 413 and response.json()["message"], path
    longest = {"email": "a" * 249 + "@b.cd", "password": "\U0001f511" * 1024}  # 254 and 1024 characters
    assert httpx.post(url + "/signup", json=longest).status_code == 200
    assert httpx.post(url + "/login", json=longest).status_code == 200

    signup = httpx.post(url + "/signup", json={"email": "dup@example.com", "password": "pw"})
    user_id = signup.json()["userId"]
    assert user_id.isdigit() if users == "fauna" else re.fullmatch("[0-9a-f]{32}", user_id), user_id
    duplicate = httpx.post(url + "/signup", json={"email": " DUP@example.com", "password": "other"})
    assert duplicate.status_code == 409 and duplicate.json()["message"]
    wrong = httpx.post(url + "/login", json={"email": "dup@example.com", "password": "other"})
    assert wrong.status_code == 401 and wrong.json() == {"message": "Wrong email or password"}
    login = httpx.post(url + "/login", json={"email": "dup@example.com", "password": "pw"})
    assert login.json() == {"userId": user_id}
    bearer = {"Authorization": f"Bearer {login.headers['st-access-token']}"}
    assert httpx.post(url + "/like-comment", json={"commentId": "abc"}, headers=bearer).status_code == 400
    assert httpx.post(url + "/like-comment", content=b"[" * 10_000, headers=bearer).status_code == 400
    assert httpx.post(url + "/like-comment", json={"commentId": "1"}, headers=bearer).status_code == 404
    assert httpx.post(url + "/like-comment", json={"commentId": "1"}).status_code == 401


# Reads Fauna the way the page does: the payload's faunadbToken (getAccessTokenPayloadSecurely refreshes first if
# the access token has expired), then a query as that token's user.
FAUNA_AS_THE_PAGE = """async () => {
  const payload = await supertokens.getAccessTokenPayloadSecurely();
  try {
    await fauna(payload.faunadbToken).query(faunadb.query.CurrentIdentity());
    return "live";
  } catch (error) {
    return "refused: " + error.name;
  }
}"""


def test_an_idle_tab_never_holds_a_valid_session_with_a_dead_fauna_token(
    browser: Any, tmp_path: Path, browser_assets: Path, users: str
) -> None:
    """The liveness defect, in real time: access tokens live 5 s, Fauna tokens 1 s longer. Refresh, then the first
    request comes 3.5 s later (an idle tab), then at 6.7 s after the refresh the page reads Fauna with the token its
    session carries. Before the fix the promoted access token was still valid (until 8.5 s) while the Fauna token
    issued at the refresh had died at 6 s; now the access token expires with the refresh's, the page refreshes,
    and the new Fauna token is live. The same holds for a JWT (its exp is the access token's + the lag), and the
    first credential, replaced at the refresh, is refused by then: deleted (a Fauna token) or expired (a JWT)."""
    lag = ("--faunadb-token-lag", "1")
    with _running_demo(tmp_path, browser_assets, 5, *lag, "--users", users) as (url, _):
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#auth:not([hidden])")
        page.fill("#email", "idle.tab@example.com")
        page.fill("#password", "a good password")
        page.click("#signup")
        page.wait_for_function("document.querySelectorAll('#comments li').length === 3")
        first_secret = _fauna_secret(page)
        assert page.evaluate("supertokens.attemptRefreshingSession()") is True
        refreshed_at = time.monotonic()
        time.sleep(max(0.0, refreshed_at + 3.5 - time.monotonic()))
        page.locator("#comments li").first.locator("button").click()  # the promoting request
        page.wait_for_function("document.querySelector('#comments li .likes').textContent.includes('1')")
        time.sleep(max(0.0, refreshed_at + 6.7 - time.monotonic()))
        assert page.evaluate(FAUNA_AS_THE_PAGE) == "live"
        page.locator("#comments li").first.locator("button").click()
        page.wait_for_function("document.querySelector('#comments li .likes').textContent.includes('2')")
        assert _fauna_refuses(url, first_secret)
        context.close()
