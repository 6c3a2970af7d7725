"""Idempotent set-up of the demo's Fauna data: ``comments`` with a few comments, and, by where the users live:

- ``--users fauna``: ``users`` (with credentials) and their unique ``users_by_email`` index, and the ``demo_user``
  role: a user's token may read comments and like them (its write predicate lets only ``likes`` change: no other
  field, no ttl, no credentials), and read its own user document.
- ``--users external``: no users in Fauna. The ``demo_jwt_user`` role has the same rights on comments and no
  membership: the ``gatepass-demo`` AccessProvider grants it to every JWT that gatepass signs (Fauna checks it
  against the app's JWKS), so Fauna trusts the app's sessions without a document or token of its own per user."""

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


JWT_ROLE = "demo_jwt_user"
ACCESS_PROVIDER = "gatepass-demo"
COMMENT_RIGHTS = {"resource": q.collection("comments"), "actions": {"read": True, "write": ONLY_LIKES_CHANGE}}


def _ensure(admin: FaunaClient, exists: Any, create: Any) -> None:
    admin.query(q.if_(exists, None, create))


def _create_or_update(admin: FaunaClient, ref: Any, create: Any, fields: dict[str, Any]) -> Any:
    """Updated when it exists, so that a data directory seeded by an older demo (or on another port) is brought
    up to date; the document as it is now."""
    return admin.query(q.if_(q.exists(ref), q.update(ref, fields), create))


def _seed_comments(admin: FaunaClient) -> None:
    _ensure(admin, q.exists(q.collection("comments")), q.create_collection({"name": "comments"}))
    if admin.query(q.count(q.documents(q.collection("comments")))) == 0:
        for author, text in COMMENTS:
            admin.query(q.create(q.collection("comments"), {"data": {"author": author, "text": text, "likes": 0}}))


def seed_jwt_access(admin: FaunaClient, issuer: str, jwks_uri: str) -> str:
    """``--users external``: the comments, the ``demo_jwt_user`` role and the AccessProvider that grants it to
    JWTs of ``issuer`` (keys at ``jwks_uri``), created or brought up to date; the provider's ``audience``, which
    Fauna generates and every JWT must name."""
    _seed_comments(admin)
    role = {"privileges": [COMMENT_RIGHTS]}
    _create_or_update(admin, q.role(JWT_ROLE), q.create_role({"name": JWT_ROLE, **role}), role)
    provider = {"issuer": issuer, "jwks_uri": jwks_uri, "roles": [q.role(JWT_ROLE)]}
    ref = q.access_provider(ACCESS_PROVIDER)
    _create_or_update(admin, ref, q.create_access_provider({"name": ACCESS_PROVIDER, **provider}), provider)
    return str(admin.query(q.select("audience", q.get(ref))))


def seed(admin: FaunaClient) -> None:
    """``--users fauna``: create what is missing (the module docstring lists it) and bring the ``demo_user`` role
    up to date."""
    _ensure(admin, q.exists(q.collection("users")), q.create_collection({"name": "users"}))
    _seed_comments(admin)
    _ensure(
        admin,
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
            COMMENT_RIGHTS,
            {
                "resource": q.collection("users"),
                "actions": {"read": q.query(q.lambda_("ref", q.equals(q.current_identity(), q.var("ref"))))},
            },
        ],
    }
    _create_or_update(admin, q.role("demo_user"), q.create_role({"name": "demo_user", **role}), role)
