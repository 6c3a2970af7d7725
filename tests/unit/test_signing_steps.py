"""Operations written as signing steps (``core.steps``): the inline drivers sign each yielded JWS in turn and resume
where the steps wait; the HTTP app's driver signs on a signing thread, and steps cancelled while a signature is
made go no further."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from gatepass.core.app_config import AppConfig
from gatepass.core.cdi_api import Signing
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.steps import SigningSteps, resume_inline, run_inline
from gatepass.protocol.cdi import ApiVersions, CdiReply
from gatepass.storage.sqlite import SqliteStorage
from gatepass.tokens.encoding import b64url_decode
from gatepass.tokens.jws import Unsigned, prepare_compact, sign_compact
from gatepass.tokens.keys import SigningKey, generate_rsa_key, make_signing_key


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return make_signing_key("d-1", "dynamic", 1, generate_rsa_key())


def _signature_valid(token: str, key: SigningKey) -> bool:
    signing_input, _, signature = token.rpartition(".")
    try:
        key.public_key.verify(b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def _two_tokens(key: SigningKey, seen: list[str]) -> SigningSteps[tuple[str, str]]:
    first = yield prepare_compact({"n": 1}, key)
    seen.append(first)
    second = yield prepare_compact({"n": 2}, key)
    return first, second


def test_a_prepared_token_signs_to_what_sign_compact_makes(key: SigningKey) -> None:
    unsigned = prepare_compact({"sub": "u", "exp": 2}, key, version="5")
    token = unsigned.sign()
    assert token == sign_compact({"sub": "u", "exp": 2}, key, version="5")  # RS256 (PKCS#1 v1.5) is deterministic
    assert token.startswith(unsigned.signing_input + ".") and _signature_valid(token, key)


def test_run_inline_signs_every_step_in_turn(key: SigningKey) -> None:
    seen: list[str] = []
    first, second = run_inline(_two_tokens(key, seen))
    assert seen == [first] and first != second
    assert all(_signature_valid(token, key) for token in (first, second))


def test_steps_that_sign_nothing_return_at_once() -> None:
    def nothing() -> SigningSteps[str]:
        return "refused"
        yield  # a generator that returns before its first yield (a refusal)

    assert run_inline(nothing()) == "refused"


def test_resume_inline_goes_on_from_the_step_that_waits(key: SigningKey) -> None:
    seen: list[str] = []
    steps = _two_tokens(key, seen)
    first_unsigned = next(steps)
    first = first_unsigned.sign()
    assert resume_inline(steps, first)[0] == first and seen == [first]


def test_a_failing_signature_reaches_the_caller_and_the_steps_stop(key: SigningKey) -> None:
    def broken(_: bytes) -> bytes:
        raise ValueError("no signature")

    bad = SigningKey(key.kid, key.kind, key.created_at_ms, key.private_key, key.public_key)
    object.__setattr__(bad, "sign", broken)
    seen: list[str] = []
    with pytest.raises(ValueError):
        run_inline(_two_tokens(bad, seen))
    assert seen == []


@pytest.mark.asyncio
async def test_steps_cancelled_while_signing_go_no_further(tmp_path: Path, key: SigningKey) -> None:
    """The HTTP app signs on a signing thread; cancelled meanwhile (a server shutting down), the steps are closed
    at their yield and nothing after it runs, not even once the signature is made."""
    release = threading.Event()
    after_the_signature: list[str] = []
    closed: list[bool] = []

    class SlowUnsigned(Unsigned):
        def sign(self) -> str:
            release.wait(5)
            return super().sign()

    def steps() -> Generator[Unsigned, str, CdiReply]:
        try:
            token = yield SlowUnsigned(prepare_compact({"n": 1}, key).signing_input, key)
            after_the_signature.append(token)
            return ApiVersions(("5.4",))
        except GeneratorExit:
            closed.append(True)
            raise

    runtime = CoreRuntime(SqliteStorage(str(tmp_path / "steps.db")), AppConfig())
    try:
        task = asyncio.ensure_future(CoreHttpApp(runtime)._sign_beside_loop(Signing(steps())))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await asyncio.sleep(0.05)
        assert closed == [True] and after_the_signature == []
    finally:
        release.set()
        runtime.close()


@pytest.mark.asyncio
async def test_the_app_signs_on_a_signing_thread_and_answers_the_steps_result(tmp_path: Path, key: SigningKey) -> None:
    signed_on: list[str] = []

    class SpiedUnsigned(Unsigned):
        def sign(self) -> str:
            signed_on.append(threading.current_thread().name)
            return super().sign()

    def steps() -> Generator[Unsigned, str, CdiReply]:
        token = yield SpiedUnsigned(prepare_compact({"n": 1}, key).signing_input, key)
        assert _signature_valid(token, key)
        return ApiVersions(("5.4",))

    runtime = CoreRuntime(SqliteStorage(str(tmp_path / "steps.db")), AppConfig())
    try:
        reply = await CoreHttpApp(runtime)._sign_beside_loop(Signing(steps()))
        assert reply.body == ApiVersions(("5.4",)).to_json()
        assert len(signed_on) == 1 and signed_on[0].startswith("gatepass-sign")
    finally:
        runtime.close()
