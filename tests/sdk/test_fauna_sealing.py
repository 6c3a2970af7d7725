"""The backend-only mode's sealed Fauna secret: it opens only with its key and in its own session; anything else
(tampered, truncated, another session's, another key's, garbage of any size) opens to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.recipe.session.faunadb.sealing import TokenSeal
from tests.fuzz_settings import fuzz_settings

SECRET = "fnEE2Z9yQ0ACAAPZ1bcQAAACc1mX3iD2sEzjQ4kQc3dI"
SEAL = TokenSeal(b"fnAE2Z9x-the-server-key-of-this-app")


def test_a_sealed_secret_opens_in_its_session_only() -> None:
    sealed = SEAL.seal(SECRET, "handle-1")
    assert SECRET not in sealed and SEAL.open(sealed, "handle-1") == SECRET
    assert SEAL.open(sealed, "handle-2") is None
    assert TokenSeal(b"another app's server key").open(sealed, "handle-1") is None
    assert SEAL.seal(SECRET, "handle-1") != sealed  # a fresh nonce each time


@pytest.mark.parametrize("cut", [1, 5, 16, 30])
def test_a_damaged_seal_opens_to_nothing(cut: int) -> None:
    sealed = SEAL.seal(SECRET, "h")
    flipped = sealed[:cut] + ("A" if sealed[cut] != "A" else "B") + sealed[cut + 1 :]
    assert SEAL.open(flipped, "h") is None
    assert SEAL.open(sealed[:cut], "h") is None


@pytest.mark.parametrize("value", [None, 7, "", "=", "A" * 5000, "not base64!", "\ud800", b"bytes"])
def test_garbage_opens_to_nothing(value: object) -> None:
    assert SEAL.open(value, "h") is None


@fuzz_settings()
@given(st.text(max_size=300))
def test_no_text_is_an_error(text: str) -> None:
    assert SEAL.open(text, "h") is None


def test_the_key_stays_out_of_the_repr() -> None:
    assert "server-key" not in repr(SEAL)
