"""Idempotent set-up of the demo's Fauna data: ``users`` (with credentials) and their unique ``users_by_email``
index, ``comments`` with a few comments, and the ``demo_user`` role: a user's token may read comments and like them
(its write predicate lets only ``likes`` change: no other field, no ttl, no credentials), and read its own user
document."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q

COMMENTS = [
    ("Ada", "Sessions that rotate their refresh tokens are sessions that notice theft."),
    ("Grace", "A Fauna token per session, revoked when the session ends: finally."),
    ("Linus", "Short access tokens, verified locally, no database on the hot path."),
]


def _other_data(document: Any) -> Any:
    """A comment's data without its likes (``Merge`` with null removes a field)."""
    return q.merge(q.select("data", document, {}), {"likes": None})


# A user may write a comment only to like it: the data other than ``likes`` stays as it was, ``likes`` stays a
# number, the ``ttl`` is untouched (a ttl in the past would delete the comment without delete rights), and no
# ``credentials`` are set (which would make the comment something one can log in as).
ONLY_LIKES_CHANGE = q.query(
    q.lambda_(
        ["oldData", "newData"],
        q.and_(
            q.equals(_other_data(q.var("oldData")), _other_data(q.var("newData"))),
            q.is_number(q.select(["data", "likes"], q.var("newData"), None)),
            q.equals(q.select("ttl", q.var("oldData"), None), q.select("ttl", q.var("newData"), None)),
            q.not_(q.contains_field("credentials", q.var("newData"))),
        ),
    )
)


def seed(admin: FaunaClient) -> None:
    """Create what is missing (the module docstring lists it) and bring the ``demo_user`` role up to date."""

    def ensure(exists: Any, create: Any) -> None:
        admin.query(q.if_(exists, None, create))

    ensure(q.exists(q.collection("users")), q.create_collection({"name": "users"}))
    ensure(q.exists(q.collection("comments")), q.create_collection({"name": "comments"}))
    ensure(
        q.exists(q.index("users_by_email")),
        q.create_index(
            {
                "name": "users_by_email",
                "source": q.collection("users"),
                "terms": [{"field": ["data", "email"]}],
                "unique": True,
            }
        ),
    )
    role = {
        "membership": [{"resource": q.collection("users")}],
        "privileges": [
            {"resource": q.collection("comments"), "actions": {"read": True, "write": ONLY_LIKES_CHANGE}},
            {
                "resource": q.collection("users"),
                "actions": {"read": q.query(q.lambda_("ref", q.equals(q.current_identity(), q.var("ref"))))},
            },
        ],
    }
    # updated when it exists, so that a data directory seeded by an older demo gets today's (stricter) role
    admin.query(
        q.if_(
            q.exists(q.role("demo_user")),
            q.update(q.role("demo_user"), role),
            q.create_role({"name": "demo_user", **role}),
        )
    )
    if admin.query(q.count(q.documents(q.collection("comments")))) == 0:
        for author, text in COMMENTS:
            admin.query(q.create(q.collection("comments"), {"data": {"author": author, "text": text, "likes": 0}}))
