"""Operations that sign, written as steps: a generator that yields each JWS it needs signed (``jws.Unsigned``),
is sent back the signed token, and returns its result.

Whoever drives the steps chooses where the RSA work runs. ``run_inline`` signs on the calling thread (the embedded
core, a worker thread); the HTTP app runs the steps on its event loop and each signature on a signing thread
meanwhile (``http_app``), since RSA releases the GIL and is most of a create's or a refresh's CPU. The steps
never yield inside a transaction, so a signature made elsewhere never holds a database lock.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

from gatepass.tokens.jws import Unsigned

T = TypeVar("T")

SigningSteps = Generator[Unsigned, str, T]


def run_inline(steps: SigningSteps[T]) -> T:
    """The steps' result, each signature made on this thread."""
    return _signed_to_the_end(steps, lambda: next(steps))


def resume_inline(steps: SigningSteps[T], token: str) -> T:
    """The result of steps waiting for ``token`` (the signed form of what they yielded last), the rest of their
    signatures made on this thread."""
    return _signed_to_the_end(steps, lambda: steps.send(token))


def _signed_to_the_end(steps: SigningSteps[T], first_step: Callable[[], Unsigned]) -> T:
    try:
        unsigned = first_step()
        while True:
            unsigned = steps.send(unsigned.sign())
    except StopIteration as done:
        result: T = done.value
        return result
