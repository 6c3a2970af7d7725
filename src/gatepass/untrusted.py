"""Parsing what comes from outside: one strict JSON reader and one digit test for every entry point.

Rules, the same for the core, the SDK, the token parsers and fauna-dev:

- JSON is UTF-8 (RFC 8259 §8.1), with no duplicate member names, no ``NaN``/``Infinity`` and no number that is not
  finite once parsed (``1e309``), so that everything accepted can be written back as JSON (RFC 8259 §6).
- A number literal is at most ``MAX_NUMBER_CHARS`` characters: Python's ``int()`` refuses more than 4,300 digits
  with a ``ValueError`` from inside the decoder, and nobody's session payload needs a 101-digit number.
- Strings hold Unicode scalar values only: a lone surrogate (``"\\ud800"``) cannot be encoded as UTF-8, so no
  database, driver or response encoder could take it.
- Nesting is at most ``max_depth`` arrays and objects deep (the stdlib would otherwise recurse until
  ``RecursionError``).
- Digits are ASCII digits: ``str.isdigit()`` accepts ``"²"`` and ``"٥"``, which ``int()`` then refuses.

The stdlib decoder (C-accelerated) does the parsing; these checks ride on its hooks, and the post-parse walk (the
same ``value_problem`` that checks values built in Python) only runs when the raw text could break a rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_NUMBER_CHARS = 100
DEFAULT_MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class MalformedInput(ValueError):
    """Input from outside is not in the one form we accept; the message names the rule, never the input."""


def is_ascii_digits(text: str, max_length: int = 20) -> bool:
    """True for 1..max_length ASCII digits (``int()`` of it then cannot fail)."""
    return 0 < len(text) <= max_length and text.isascii() and text.isdigit()


def _int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise MalformedInput(f"number longer than {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise MalformedInput(f"number longer than {MAX_NUMBER_CHARS} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise MalformedInput("number out of range")
    return value


def _constant(name: str) -> Any:
    raise MalformedInput(f"{name} is not JSON")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C; fewer members than pairs means a name came twice
    if len(result) != len(pairs):
        raise MalformedInput("duplicate member name")
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_members, parse_constant=_constant, parse_int=_int, parse_float=_float
)


def _is_scalar_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse strict JSON (the rules above); anything else raises ``MalformedInput``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if isinstance(data, str) and not _is_scalar_text(data):
            raise MalformedInput("string with a lone surrogate")
        value = _DECODER.decode(text)
    except MalformedInput:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedInput("not JSON in UTF-8") from exc
    # The walk costs more than the parse: run it only when the text could break a rule (a surrogate escape, or
    # more brackets than the depth limit); everything else the decoder's hooks have already checked.
    if _SURROGATE_ESCAPE.search(text) or text.count("[") + text.count("{") > max_depth:
        problem = value_problem(value, max_depth=max_depth)
        if problem:
            raise MalformedInput(problem)
    return value


def parse_json_object(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """``parse_json`` for input that must be a JSON object."""
    value = parse_json(data, max_depth=max_depth)
    if not isinstance(value, dict):
        raise MalformedInput("not a JSON object")
    return value


def value_problem(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> str | None:
    """The same rules for a value built in Python (an embedded core's request): why it could not have come from
    ``parse_json``, or ``None``. Only JSON types: dicts with string keys, lists, strings, ints, finite floats,
    booleans and ``None``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if depth >= max_depth:
                return f"nested deeper than {max_depth}"
            members = item.items() if isinstance(item, dict) else enumerate(item)
            for key, member in members:
                if isinstance(item, dict) and not (isinstance(key, str) and _is_scalar_text(key)):
                    return "object keys must be strings of Unicode scalar values"
                stack.append((member, depth + 1))
        elif isinstance(item, str):
            if not _is_scalar_text(item):
                return "string with a lone surrogate"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if len(str(abs(item))) > MAX_NUMBER_CHARS:
                return f"number longer than {MAX_NUMBER_CHARS} characters"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "number out of range"
        else:
            return f"{type(item).__name__} is not a JSON type"
    return None
