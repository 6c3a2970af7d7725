"""Where the demo's users live, behind one small contract (``Accounts``): in Fauna (``--users fauna``, the guide's
way: a ``users`` document whose Fauna credentials hold the password) or in the demo's own SQLite table
(``--users external``, ``users.UserStore``). Both answer a user id, or None for a taken email or a wrong password."""

from __future__ import annotations

from typing import Protocol

from gatepass.recipe.session.faunadb.fauna_calls import BadRequest, FaunaClient, q


class Accounts(Protocol):
    """Sign-up and login; blocking (the routes run them in a thread)."""

    def sign_up(self, email: str, password: str) -> str | None:
        """A new user's id, or None if the email is taken."""

    def log_in(self, email: str, password: str) -> str | None:
        """The user's id if the password is theirs, else None."""


class FaunaAccounts:
    """Users as Fauna documents of ``users`` (unique ``users_by_email``), passwords as their Fauna credentials."""

    def __init__(self, admin: FaunaClient) -> None:
        self.admin = admin

    def sign_up(self, email: str, password: str) -> str | None:
        """Sign-up: a ``users`` document with the password as its Fauna credentials; None if the email is taken."""
        try:
            user = self.admin.query(
                q.create(q.collection("users"), {"data": {"email": email}, "credentials": {"password": password}})
            )
        except BadRequest:
            return None  # the unique index refused a second account for this email
        return str(user["ref"].id())

    def log_in(self, email: str, password: str) -> str | None:
        """Login: the id of the user with this email if Fauna's ``Identify`` accepts the password, else None."""
        lookup = q.let(
            {"match": q.match(q.index("users_by_email"), email)},
            q.if_(
                q.exists(q.var("match")),
                q.let(
                    {"ref": q.select("ref", q.get(q.var("match")))},
                    q.if_(q.identify(q.var("ref"), password), q.select("id", q.var("ref")), False),
                ),
                False,
            ),
        )
        user_id = self.admin.query(lookup)
        return str(user_id) if user_id else None
