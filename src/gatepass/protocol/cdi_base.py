"""The parts every CDI message is built from: JSON types, the checked reader of a core's reply, the request and
reply base classes, and the two shapes many replies share (an issued token, a session). Public names are
re-exported by ``gatepass.protocol.cdi``; import them from there.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Literal, TypeAlias, TypeVar

from gatepass.errors import CoreError
from gatepass.protocol.body import JsonBody, Query

JsonValue: TypeAlias = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject: TypeAlias = dict[str, JsonValue]
HttpMethod = Literal["GET", "POST", "PUT"]


class ReplyReader:
    """A reply body with typed, checked accessors (the SDK side). A reply of the wrong shape means the core, or
    something answering in its place, is not speaking CDI: a ``CoreError`` naming the call (``what``) and the
    field, never the field's value (it may be a token); never a ``KeyError`` or ``TypeError``."""

    def __init__(self, body: object, what: str) -> None:
        if not isinstance(body, dict):
            raise CoreError(f"the core's reply to {what} is not a JSON object")
        self._body: dict[str, object] = body
        self.what = what

    def _wrong(self, name: str) -> CoreError:
        return CoreError(f"the core's reply to {self.what} has a missing or malformed {name!r}")

    def has(self, name: str) -> bool:
        """Present and not null (CDI omits optional members; a null counts as omitted, as upstream reads it)."""
        return self._body.get(name) is not None

    def status(self, *allowed: str) -> str:
        """The ``status``, which must be one this call can answer with."""
        value = self.text("status")
        if value not in allowed:
            raise CoreError(f"the core's reply to {self.what} has an unexpected 'status'")
        return value

    def text(self, name: str) -> str:
        """A required string."""
        value = self._body.get(name)
        if not isinstance(value, str):
            raise self._wrong(name)
        return value

    def optional_text(self, name: str) -> str | None:
        """A string, or ``None`` when absent or null."""
        value = self._body.get(name)
        if value is not None and not isinstance(value, str):
            raise self._wrong(name)
        return value

    def message(self, default: str) -> str:
        """A refusal's ``message``: informative only, so a missing or odd one is replaced, not an error."""
        value = self._body.get("message")
        return value if isinstance(value, str) else default

    def integer(self, name: str) -> int:
        """A required integer (not a boolean)."""
        value = self._body.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name)
        return value

    def flag(self, name: str) -> bool:
        """A required boolean."""
        value = self._body.get(name)
        if not isinstance(value, bool):
            raise self._wrong(name)
        return value

    def mapping(self, name: str) -> JsonObject:
        """A required object."""
        value = self._body.get(name)
        if not isinstance(value, dict):
            raise self._wrong(name)
        return value

    def part(self, name: str) -> ReplyReader:
        """A nested object (``session``, ``accessToken``), read with the same checks."""
        return ReplyReader(self.mapping(name), f"{self.what} ({name})")

    def parts(self, name: str) -> tuple[ReplyReader, ...]:
        """An optional list of nested objects, each read with the same checks (absent or null: none); an entry
        that is not an object is an error."""
        value = self._body.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._wrong(name)
        return tuple(ReplyReader(item, f"{self.what} ({name})") for item in value)

    def text_list(self, name: str, *, absent_is_empty: bool = False) -> tuple[str, ...]:
        """A required list of strings; with ``absent_is_empty``, a missing or null member reads as empty (a null
        counts as omitted, as ``has`` and upstream read it)."""
        value = self._body.get(name)
        if value is None and absent_is_empty:
            value = []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name)
        return tuple(value)

    def objects(self, name: str) -> tuple[JsonObject, ...]:
        """A list whose object entries are kept: an entry of another type is skipped, not an error (one malformed
        JWK must not hide the good ones)."""
        value = self._body.get(name)
        if not isinstance(value, list):
            raise self._wrong(name)
        return tuple(item for item in value if isinstance(item, dict))


class CdiReply(ABC):
    """A reply body. ``to_json`` is the core side: exactly the JSON the core answers with."""

    @abstractmethod
    def to_json(self) -> JsonObject:
        """The body the core sends (keys in the order the core has always sent them)."""


R = TypeVar("R", bound=CdiReply, covariant=True)


class CdiRequest(ABC, Generic[R]):
    """A request to one CDI API. The SDK side: ``method``, ``path()``, ``body()``, ``query()``, and ``parse_reply``
    for the answer, typed per request. The core side: ``from_wire``.

    ``api_path`` is the API's route in the core (no app or tenant prefix); ``path()`` adds the tenant prefix where
    the API takes one. An app prefix (``/appid-<app>``) belongs to the connection, not to the request.
    """

    method: ClassVar[HttpMethod]
    api_path: ClassVar[str]
    what: ClassVar[str]  # names the call in the SDK's error messages

    def path(self) -> str:
        """The path to call: ``api_path``, with the tenant prefix in the requests whose API takes one."""
        return self.api_path

    def body(self) -> JsonObject | None:
        """The JSON body, or ``None`` (GET)."""
        return None

    def query(self) -> dict[str, str]:
        """The query parameters (none, unless the request's API takes some)."""
        return {}

    @abstractmethod
    def parse_reply(self, body: object) -> R:
        """The core's answer, checked: a reply of the wrong shape raises ``CoreError``."""

    @classmethod
    @abstractmethod
    def from_wire(cls, tenant_id: str, body: JsonBody, query: Query) -> CdiRequest[R] | R:
        """The request as the core received it (``tenant_id`` from the path; APIs without a tenant ignore it). A bad
        field raises ``BadRequest``. A request whose answer is known before it is fully read gets that reply
        instead (``CreateJwt`` with an algorithm other than RS256)."""


def tenant_path(tenant_id: str | None, api_path: str) -> str:
    """``/<tenant><api_path>``; no prefix for ``None`` (an API called across all tenants)."""
    return api_path if tenant_id is None else f"/{tenant_id}{api_path}"


# shared parts -------------------------------------------------------------------------------------------------------
MAX_USER_AGENT_CHARS = 512  # beyond this a user agent is noise (or an attack on the "your devices" page)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ClientInfo:
    """Where a session's request came from, as the backend SDK saw it: gatepass's extension ``clientInfo``
    (``{"ip", "userAgent"}``, both optional), recorded at creation and refresh for "your devices".

    ``clean`` is the one rule for both sides: an address that is not an IP address is dropped (an IPv6 scope id
    too), a user agent loses
    control characters and lone surrogates and is cut to ``MAX_USER_AGENT_CHARS``. Neither is a secret.
    """

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def clean(cls, ip: str | None, user_agent: str | None) -> ClientInfo | None:
        """The recordable form of what a request says about its client; ``None`` when nothing is left."""
        address: str | None = None
        if ip is not None:
            try:  # an IPv6 scope id ("fe80::1%anything") is any text: not part of an address worth keeping
                address = str(ipaddress.ip_address(ip.strip().split("%", 1)[0]))
            except ValueError:
                address = None
        agent: str | None = None
        if user_agent is not None:
            text = user_agent.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
            agent = _CONTROL.sub("", text).strip()[:MAX_USER_AGENT_CHARS] or None
        return None if address is None and agent is None else cls(address, agent)

    def to_json(self) -> JsonObject:
        """The wire and stored form (absent parts omitted)."""
        body: JsonObject = {}
        if self.ip is not None:
            body["ip"] = self.ip
        if self.user_agent is not None:
            body["userAgent"] = self.user_agent
        return body

    @classmethod
    def from_json(cls, value: object) -> ClientInfo | None:
        """A stored or received ``clientInfo``, cleaned; ``None`` for anything else than an object of strings."""
        if not isinstance(value, dict):
            return None
        ip, agent = value.get("ip"), value.get("userAgent")
        return cls.clean(ip if isinstance(ip, str) else None, agent if isinstance(agent, str) else None)


@dataclass(frozen=True)
class IssuedToken:
    """A token the core issued: ``{"token", "expiry", "createdTime"}`` (milliseconds since the epoch)."""

    token: str = field(repr=False)  # a bearer token: never in a repr
    expiry_ms: int
    created_ms: int

    def to_json(self) -> JsonObject:
        """The token as the core sends it."""
        return {"token": self.token, "expiry": self.expiry_ms, "createdTime": self.created_ms}

    @classmethod
    def read(cls, reply: ReplyReader) -> IssuedToken:
        """The token, checked."""
        return cls(reply.text("token"), reply.integer("expiry"), reply.integer("createdTime"))


@dataclass(frozen=True)
class SessionRef:
    """The ``session`` object of create, verify, refresh and regenerate replies.

    ``recipeUserId`` is read as ``userId`` when absent (no account linking here). ``tenantId`` may be absent from
    another core's reply: ``None``, and the SDK chooses the fallback (the token's ``tId``, or the tenant it asked
    for); ``to_json`` then omits it.
    """

    handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str | None
    user_data_in_jwt: JsonObject = field(repr=False)  # may carry the anti-CSRF token or a Fauna secret
    browser_session: bool = False  # gatepass's extension ``browserSession``: cookies without Expires (sent if true)

    def to_json(self) -> JsonObject:
        """The ``session`` object as the core sends it (``tenantId`` only when known)."""
        body: JsonObject = {
            "handle": self.handle,
            "userId": self.user_id,
            "recipeUserId": self.recipe_user_id,
            "userDataInJWT": self.user_data_in_jwt,
        }
        if self.tenant_id is not None:
            body["tenantId"] = self.tenant_id
        if self.browser_session:
            body["browserSession"] = True
        return body

    @classmethod
    def read(cls, reply: ReplyReader) -> SessionRef:
        """The ``session`` object, checked."""
        handle, user_id = reply.text("handle"), reply.text("userId")
        return cls(
            handle=handle,
            user_id=user_id,
            recipe_user_id=reply.optional_text("recipeUserId") or user_id,
            tenant_id=reply.optional_text("tenantId"),
            user_data_in_jwt=reply.mapping("userDataInJWT"),
            browser_session=reply.has("browserSession") and reply.flag("browserSession"),
        )
