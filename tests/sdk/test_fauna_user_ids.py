"""The FaunaDB integration's user-id check: the defect-01 pattern (``str.isdigit()`` then ``int()``) must not turn a
login with an odd user id into a ValueError."""

from __future__ import annotations

import pytest

from gatepass.recipe.session.faunadb.fauna_calls import FaunaIntegrationError, validate_user_id


@pytest.mark.parametrize("user_id", ["²", "٥", "1²", "", "-1", "+1", " 1", "1.0", "9223372036854775808", "1" * 5000])
def test_defect_01_odd_user_ids_are_a_clear_error(user_id: str) -> None:
    with pytest.raises(FaunaIntegrationError, match="not a FaunaDB document id"):
        validate_user_id(user_id)


@pytest.mark.parametrize("user_id", ["0", "310000000000000001", "9223372036854775807"])
def test_document_ids_are_accepted(user_id: str) -> None:
    validate_user_id(user_id)
