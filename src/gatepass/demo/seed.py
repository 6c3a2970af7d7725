"""Idempotent set-up of the demo's Fauna data: ``users`` (with credentials) and their unique ``users_by_email``
index, ``comments`` with a few comments, and the ``demo_user`` role: a user's token may read comments and like them
(its write predicate lets only ``likes`` change), and read its own user document."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q

COMMENTS = [
    ("Ada", "Sessions that rotate their refresh tokens are sessions that notice theft."),
    ("Grace", "A Fauna token per session, revoked when the session ends: finally."),
    ("Linus", "Short access tokens, verified locally, no database on the hot path."),
]


def seed(admin: FaunaClient) -> None:
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
    only_likes_change = q.query(
        q.lambda_(
            ["oldData", "newData"],
            q.and_(
                q.equals(q.select(["data", "text"], q.var("oldData")), q.select(["data", "text"], q.var("newData"))),
                q.equals(
                    q.select(["data", "author"], q.var("oldData")), q.select(["data", "author"], q.var("newData"))
                ),
            ),
        )
    )
    ensure(
        q.exists(q.role("demo_user")),
        q.create_role(
            {
                "name": "demo_user",
                "membership": [{"resource": q.collection("users")}],
                "privileges": [
                    {"resource": q.collection("comments"), "actions": {"read": True, "write": only_likes_change}},
                    {
                        "resource": q.collection("users"),
                        "actions": {"read": q.query(q.lambda_("ref", q.equals(q.current_identity(), q.var("ref"))))},
                    },
                ],
            }
        ),
    )
    if admin.query(q.count(q.documents(q.collection("comments")))) == 0:
        for author, text in COMMENTS:
            admin.query(q.create(q.collection("comments"), {"data": {"author": author, "text": text, "likes": 0}}))
