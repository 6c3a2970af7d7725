"""Issue item 8: no ``repr()`` or ``str()`` of any gatepass object shows a secret.

Two nets. The introspection rule walks every class of every module under ``gatepass`` and fails on a dataclass
field named like a secret (``*token*``, ``*secret*``, ``*key*``, ``*password*``, ``session_data``) that a repr
would print, unless the field is a number or flag, or is allow-listed below with the reason it holds no secret.
The instance check builds the secret-carrying objects from REAL secrets (a session created through an embedded
core with anti-CSRF tokens and the FaunaDB integration against ``gatepass fauna-dev``, a remote-core config with
an API key, the core's signing keys) and searches every repr and str for them.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import inspect
import pkgutil
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import gatepass
from gatepass.core.cdi_api import Reply
from gatepass.core.issuing import PendingAccess
from gatepass.core.settings import CoreSettings
from gatepass.demo.users import UserStore
from gatepass.faunadev.access import Auth
from gatepass.faunadev.jwt import RsaKey, parse_jwt
from gatepass.faunadev.secrets import parse_secret
from gatepass.protocol.body import JsonBody, Query
from gatepass.protocol.cdi import (
    REQUESTS,
    CreateJwt,
    IssuedToken,
    JwtCreated,
    RevokedSession,
    SessionRef,
    UpdateJwtData,
    UpdateSessionData,
    Verified,
    VerifySession,
)
from gatepass.protocol.verify import VerifyRules
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.jwt import CreateJwtOkResult
from gatepass.recipe.session import faunadb
from gatepass.recipe.session.claims import (
    ClaimValidationResult,
    GetClaimValueOkResult,
    PrimitiveArrayClaim,
    SessionDoesNotExistError,
)
from gatepass.recipe.session.container import AsyncSessionContainer, SessionContainer
from gatepass.recipe.session.core_client import EmbeddedCore, RemoteCore
from gatepass.recipe.session.errors import ErrorResponse, SessionError, raising, raising_required
from gatepass.recipe.session.faunadb.access_provider import AccessProviderJwts
from gatepass.recipe.session.faunadb.credentials import FaunaTokenCredentials
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from gatepass.recipe.session.faunadb.lifecycle import FaunaSettings
from gatepass.recipe.session.faunadb.sealing import TokenSeal
from gatepass.recipe.session.faunadb.supertokens_python.host import OfficialFaunaOverride, OfficialSessionFacts
from gatepass.recipe.session.framework.drf import SessionUser
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.outcomes import ClaimFailure, ClaimsValidationResult
from gatepass.recipe.session.state import VerifyOptions
from gatepass.recipe.session.steps import CoreCall, Flow, run_sync
from gatepass.tokens import access_token, refresh_token
from gatepass.tokens.jws import Unsigned
from tests.faunadev.conftest import FaunaDev, admin, fauna, make_schema  # noqa: F401  (fixtures)
from tests.helpers import API_KEY

SECRET_FIELD = re.compile(r"token|secret|key|password|session_data", re.IGNORECASE)

# Fields named like a secret that hold none, and why. A new entry needs a reason as good as these.
NOT_SECRET: dict[tuple[str, str], str] = {
    ("SessionOptions", "get_token_transfer_method"): "the app's function choosing cookie or header: no token in it",
    ("SessionConfig", "get_token_transfer_method"): "the app's function choosing cookie or header: no token in it",
    ("GetJWKSResult", "keys"): "public keys (public members only): published to anyone at /jwt/jwks.json",
    ("SessionClaims", "refresh_token_hash1"): "H(refresh token) is a claim of every access token, public by design",
    ("SessionClaims", "parent_refresh_token_hash1"): "as refresh_token_hash1",
    ("RefreshTokenContent", "parent_refresh_token_hash1"): "as refresh_token_hash1",
    ("SessionRow", "refresh_token_hash2"): "H(H(token)): the stored verifier, not a credential",
    ("SessionOptions", "token_transfer_method"): "a setting: cookie, header or any",
    ("SessionConfig", "token_transfer_method"): "a setting: cookie, header or any",
    ("AppContext", "keyring"): "AppKeyring keeps object's repr, which shows no key",
    ("FaunaSettings", "tokens"): "FaunaTokens keeps object's repr, which shows neither client nor secret",
    ("ErrorHandlers", "on_try_refresh_token"): "an application callback",
    ("ErrorHandlers", "on_token_theft_detected"): "an application callback",
    ("Auth", "key_id"): "fauna-dev: the id of a key document, not its secret",
    ("Auth", "token_id"): "fauna-dev: the id of a token document, not its secret",
    ("RateLimits", "failed_api_keys"): "a BucketSpec (burst, rate) for failed API keys, not a key",
    ("Form", "keys"): "fauna-dev: the JSON member names an FQL form may have",
    ("_Entry", "keys"): "fauna-dev: the public keys of a JWKS (verification keys, not secrets)",
}
HARMLESS_TYPES = ("bool", "int", "float", "None", bool, int, float)


def _all_classes() -> list[type]:
    classes: dict[str, type] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the faunadb driver warns on import
        for info in pkgutil.walk_packages(gatepass.__path__, "gatepass."):
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if inspect.isclass(obj) and obj.__module__ == module.__name__:
                    classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(classes.values())


def _harmless(field: dataclasses.Field[Any]) -> bool:
    """A number or flag cannot hold a secret (``int | None`` counts too). Annotations are strings here (every
    module has ``from __future__ import annotations``)."""
    if not isinstance(field.type, str):
        return field.type in HARMLESS_TYPES
    return all(part.strip() in HARMLESS_TYPES for part in field.type.split("|"))


def _is_named_tuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _generated_repr(cls: type) -> bool:
    """The class prints with the repr ``@dataclass`` or ``NamedTuple`` wrote (a hand-written one is checked with
    instances)."""
    own = vars(cls).get("__repr__")
    if _is_named_tuple(cls):
        return own is not None and own.__module__ == "collections"  # namedtuple()'s generated repr
    return own is not None and hasattr(own, "__wrapped__")  # dataclass wraps its repr in a recursion guard


def _unredacted_fields(cls: type) -> list[str]:
    if _is_named_tuple(cls):  # a NamedTuple prints every field
        names: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
        return [n for n in names if SECRET_FIELD.search(n) and (cls.__name__, n) not in NOT_SECRET]
    if not dataclasses.is_dataclass(cls) or not _generated_repr(cls):
        return []
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.repr and SECRET_FIELD.search(f.name) and (cls.__name__, f.name) not in NOT_SECRET and not _harmless(f)
    ]


def test_defect_08_no_dataclass_prints_a_field_named_like_a_secret() -> None:
    classes = _all_classes()
    assert len(classes) > 60, "the walk found too few classes: is a module failing to import?"
    offenders = {f"{c.__module__}.{c.__qualname__}": _unredacted_fields(c) for c in classes}
    offenders = {name: fields for name, fields in offenders.items() if fields}
    assert not offenders, (
        f"these fields would print a secret in repr(): {offenders}. Use field(repr=False) (or a repr that "
        "redacts), or, if the field truly holds no secret, add it to NOT_SECRET with the reason."
    )


def test_defect_08_the_rule_catches_a_new_secret_field() -> None:
    @dataclasses.dataclass
    class NewThing:
        session_handle: str
        api_key: str
        faunadb_token: str | None
        expiry_ms: int
        hidden_secret: str = dataclasses.field(default="", repr=False)

    assert _unredacted_fields(NewThing) == ["api_key", "faunadb_token"]


# real secrets ------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class World:
    gp: Gatepass
    secrets: dict[str, str]
    objects: list[Any]


def _drive(gp: Gatepass, flow: Flow[Any], calls: list[CoreCall], replies: list[dict[str, Any]]) -> Any:
    """Run a flow, keeping every core call and reply (as the SDK sees them) for the repr checks."""
    recipe = gp.session
    original = recipe.core_sync

    def recording(call: CoreCall) -> dict[str, Any]:
        calls.append(call)
        replies.append(original(call))
        return replies[-1]

    recipe.core_sync = recording  # type: ignore[method-assign]
    try:
        return run_sync(flow, recipe)
    finally:
        del recipe.core_sync


def _typed_wire(calls: list[CoreCall], replies: list[dict[str, Any]], secrets: dict[str, str]) -> list[Any]:
    """The typed CDI requests and replies of the recorded calls, as the core and the SDK build them, plus the JWT
    recipe's and the payload update's, which the world does not call."""
    typed: list[Any] = []
    for call, reply in zip(calls, replies, strict=True):
        api_path = call.path if call.path.startswith("/recipe") else "/" + call.path.split("/", 2)[2]
        kind = REQUESTS.get((call.method, api_path))  # type: ignore[arg-type]
        if kind is None:
            continue
        request = kind.from_wire("public", JsonBody(call.body or {}), Query(call.query))
        typed += [request, request.parse_reply(reply)]
    secret = secrets["access token"]
    typed += [CreateJwt(payload={"t": secret}, validity_s=60, jwks_domain="http://x"), JwtCreated(secret)]
    fauna_payload = {"faunadbToken": secrets["Fauna secret"]}
    typed += [UpdateJwtData(session_handle="h", user_data_in_jwt=fauna_payload)]
    typed += [UpdateSessionData(session_handle="h", user_data_in_database=fauna_payload)]
    ref = SessionRef("h", "u", "u", "public", fauna_payload)
    verify = VerifySession(access_token=secret, anti_csrf_token=secrets["anti-CSRF token"], do_anti_csrf_check=True)
    typed += [ref, verify, Verified(ref, IssuedToken(secret, 0, 0))]
    typed += [RevokedSession("h", "u", "public", fauna_payload, fauna_payload)]
    return typed


def _gatepass(tmp_path: Path, client: FaunaClient) -> Gatepass:
    info = AppInfo(app_name="repr-test", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    spec = faunadb.init(
        faunadb_client=client,
        user_collection_name="users",
        access_faunadb_token_from_frontend=True,  # the Fauna secret in the payload too
        anti_csrf="VIA_TOKEN",
    )
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}")
    return create(app_info=info, core=core, framework="fastapi", recipe_list=[spec])


def _session_objects(gp: Gatepass, user_id: str) -> tuple[dict[str, str], list[Any]]:
    calls: list[CoreCall] = []
    replies: list[dict[str, Any]] = []
    functions = gp.session.functions
    login = RequestView.build("POST", "/login", [("st-auth-mode", "cookie")])
    create_flow = functions.create_new_session(
        request=login,
        tenant_id="public",
        user_id=user_id,
        access_token_payload={},
        session_data_in_database={},
        user_context={},
    )
    state = _drive(gp, create_flow, calls, replies)
    assert state.refresh_token and state.anti_csrf_token
    first_refresh, anti_csrf = state.refresh_token, state.anti_csrf_token
    cookie = f"sAccessToken={state.access_token}; sRefreshToken={state.refresh_token}"
    headers = [("cookie", cookie), ("anti-csrf", state.anti_csrf_token), ("rid", "session")]
    verify = RequestView.build("POST", "/protected", headers)
    verified = _drive(
        gp, functions.get_session(request=verify, options=VerifyOptions(), user_context={}), calls, replies
    )
    refresh = RequestView.build("POST", gp.session.config.refresh_path, headers)
    result = _drive(gp, gp.session.apis.refresh_post(request=refresh, user_context={}), calls, replies)
    info = _drive(
        gp, functions.get_session_information(session_handle=state.session_handle, user_context={}), calls, replies
    )
    secrets = {
        "access token": state.access_token,
        "refresh token": first_refresh,
        "anti-CSRF token": anti_csrf,
        "Fauna secret": info.custom_claims_in_access_token_payload[faunadb.FAUNADB_TOKEN_KEY],
    }
    for cookie in result.changes.cookies:
        secrets[f"refreshed {cookie.name}"] = unquote(cookie.value)
    for n, reply in enumerate(replies):  # every token the core handed out on the way
        for name in ("accessToken", "refreshToken"):
            if isinstance(reply.get(name), dict):
                secrets[f"{name} of core reply {n}"] = reply[name]["token"]
    objects = [state, verified, result, result.changes, *result.changes.cookies, *state.changes.cookies, info]
    objects += [login, verify, refresh, *calls, *[Reply(body) for body in replies], JsonBody(replies[0])]
    objects += [SessionContainer(gp.session, state), AsyncSessionContainer(gp.session, verified)]
    objects += [SessionUser(SessionContainer(gp.session, verified))]  # DRF's request.user
    objects += [ErrorResponse(401, {"message": "unauthorised"}, result.changes)]  # what an error handler shapes
    objects += [VerifyRules(anti_csrf, check_anti_csrf=True), gp.session.apis, gp.session.functions]
    objects += _typed_wire(calls, replies, secrets)
    return secrets, objects


def _try_theft(gp: Gatepass, refresh_token_value: str) -> list[Any]:
    """Errors raised while handling real tokens (the reused refresh token is a theft once its child was used)."""
    request = RequestView.build("POST", "/auth/session/refresh", [("authorization", f"Bearer {refresh_token_value}")])
    errors: list[Any] = []
    for _ in range(3):
        try:
            state = run_sync(
                raising_required(gp.session.functions.refresh_session(request=request, user_context={})), gp.session
            )
            bearer = [("authorization", f"Bearer {state.access_token}")]
            view = RequestView.build("GET", "/protected", bearer)
            run_sync(
                raising(gp.session.functions.get_session(request=view, options=VerifyOptions(), user_context={})),
                gp.session,
            )
        except SessionError as error:
            errors.append(error)
    return errors


def _core_objects(gp: Gatepass, secrets: dict[str, str]) -> list[Any]:
    core = gp.core
    assert isinstance(core, EmbeddedCore)
    runtime = core.runtime
    ctx = runtime.apps.get("public")
    parsed = access_token.parse(secrets["access token"])
    assert isinstance(parsed, access_token.ParsedToken)
    signing = ctx.keyring.verification_key(parsed.header["kid"], ctx.config.key_times)
    assert signing is not None
    verified = access_token.verify(parsed, lambda _: signing, runtime.clock() // 1000)
    assert isinstance(verified, access_token.VerifiedAccessToken)
    content = refresh_token.open_token(secrets["refresh token"], ctx.keyring.refresh_token_key(), "public")
    private = signing.serialise().split("|")[1]
    secrets["signing key (private, PKCS#8)"] = private
    secrets["refresh-token encryption key"] = base64.b64encode(ctx.keyring.refresh_token_key()).decode()
    secrets["refresh-token encryption key (bytes repr)"] = repr(ctx.keyring.refresh_token_key())[2:-1]
    with runtime.storage.read() as tx:
        stored_keys = tx.dynamic_keys("public")
        row = tx.get_session("public", verified.claims.session_handle, runtime.clock())
    jwks_key = gp.session.jwks.key(signing.kid)
    remembered = access_token._CHECKED.get(secrets["access token"])  # the memo of checked tokens holds the token
    assert remembered is not None
    objects = [parsed, verified, verified.claims, content, signing, jwks_key, *stored_keys, row, ctx, runtime]
    objects.append(remembered)
    unsigned = Unsigned(secrets["access token"].rsplit(".", 1)[0], signing)  # what the core hands a signing thread
    objects += [unsigned, PendingAccess(unsigned, 0, 0)]
    objects += [IssuedToken(secrets["access token"], 0, 0), Query({"sessionHandle": verified.claims.session_handle})]
    return objects


def _config_objects(tmp_path: Path, secrets: dict[str, str]) -> list[Any]:
    password = "pg-pa55word-never-printed"
    secrets["API key"] = API_KEY
    secrets["database password"] = password
    url = f"postgresql://gatepass:{password}@127.0.0.1:5432/test"
    remote = RemoteCore("http://127.0.0.1:1;http://127.0.0.1:2", api_key=API_KEY)
    settings = CoreSettings(database_url=url, api_keys=(API_KEY,))
    users = UserStore(tmp_path / "demo-users.db")  # the demo's user table: a password goes in, never out
    secrets["demo user password"] = "demo-pa55word-never-printed"
    assert users.sign_up("ada@example.com", secrets["demo user password"]) is not None
    return [remote, EmbeddedCore(url), settings, users]


def _fauna_objects(gp: Gatepass, secrets: dict[str, str], user_id: str, handle: str) -> list[Any]:
    integration = faunadb.installed_integration(gp.session)
    credentials = integration.settings.credentials
    assert isinstance(credentials, FaunaTokenCredentials)
    minted = credentials.tokens.mint(user_id, handle, 10**13)
    secrets["minted Fauna secret"] = minted.secret
    parsed = parse_secret(minted.secret)
    jwt = parse_jwt(secrets["access token"])  # our access token is a JWT fauna-dev could be shown
    assert jwt is not None
    jwks_key = RsaKey(jwt.kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    caller = Auth("jwt", claims=jwt.claims)
    seal = TokenSeal(secrets["minted Fauna secret"].encode())  # the backend-only mode's seal (this app's is off)
    sealed = seal.seal(minted.secret, handle)  # the backend-only mode's payload value: opens only with the seal
    assert seal.open(sealed, handle) == minted.secret and minted.secret not in sealed
    jwt_credentials = AccessProviderJwts("https://db.fauna.com/db/x", None, None)
    objects = [
        minted,
        integration,
        integration.lifecycle,
        integration.settings,
        credentials,
        credentials.tokens,
        seal,
        parsed,
        jwt,
    ]
    return [
        *objects,
        jwks_key,
        caller,
        jwt_credentials,
        CreateJwtOkResult(secrets["access token"]),
        *_official_sdk_objects(integration.settings, minted.secret, user_id, handle),
        *_claim_objects(secrets["access token"]),
    ]


def _claim_objects(access_token: str) -> list[Any]:
    """Claims hold values the app fetched, not secrets; a payload update that carries the whole payload (here, the
    access token itself in place of one) is not shown."""
    roles = PrimitiveArrayClaim("st-role", lambda *_: ["admin"])
    validator = roles.validators.includes("admin")
    verdict = ClaimValidationResult(False, {"message": "wrong value"})
    update = {"st-role": {"v": ["admin"], "t": 1}, "token": access_token}
    found = ClaimsValidationResult([ClaimFailure("st-role", verdict.reason)], access_token_payload_update=update)
    return [roles, validator, verdict, found, SessionDoesNotExistError(), GetClaimValueOkResult(["admin"])]


def _official_sdk_objects(settings: FaunaSettings, secret: str, user_id: str, handle: str) -> list[Any]:
    """The supertokens-python plugin's: its override (holding the settings, and so the server key) and the facts it
    reads of an official session (whose payload holds the Fauna secret in frontend mode)."""
    names = ("create_new_session", "refresh_session", "revoke_session", "revoke_all_sessions_for_user")
    functions = SimpleNamespace(**dict.fromkeys((*names, "revoke_multiple_sessions")))
    override = OfficialFaunaOverride(settings, functions)  # type: ignore[arg-type]
    return [override, OfficialSessionFacts(handle, user_id, {"faunadbToken": secret}, 10**13)]


@pytest.fixture
def world(tmp_path: Path, fauna: FaunaDev, admin: FaunaClient) -> Iterator[World]:  # noqa: F811
    users = make_schema(admin)
    server_key = str(admin.query(q.create_key({"role": "server"}))["secret"])
    gp = _gatepass(tmp_path, fauna.client(server_key))
    try:
        user_id = users["alice"].id()
        secrets, objects = _session_objects(gp, user_id)
        secrets["Fauna server key"] = server_key
        objects += _core_objects(gp, secrets)
        objects += _try_theft(gp, secrets["refresh token"])
        objects += _config_objects(tmp_path, secrets)
        objects += _fauna_objects(gp, secrets, user_id, objects[0].session_handle)
        objects += [gp, gp.session, gp.session.jwks, gp.session.config, gp.session.functions]
        yield World(gp, secrets, objects)
    finally:
        gp.close()


def _fragments(secrets: dict[str, str]) -> dict[str, str]:
    """Each secret, and the parts of it that are secret on their own (a token's payload and signature)."""
    found = dict(secrets)
    for name, value in secrets.items():
        if value.count(".") == 2:
            _, payload, signature = value.split(".")
            found[f"{name} (payload)"], found[f"{name} (signature)"] = payload, signature
        if len(value) > 64:  # key material: any 32-character run of it
            found.update({f"{name} [{i}:]": value[i : i + 32] for i in range(0, len(value) - 32, 97)})
    return found


def test_defect_08_no_repr_or_str_shows_a_real_secret(world: World) -> None:
    fragments = _fragments(world.secrets)
    assert all(len(value) >= 16 for value in fragments.values()), "a secret too short to search for"
    leaks: list[str] = []
    for obj in world.objects:
        for show in (repr, str):
            text = show(obj)
            shown = [name for name, value in fragments.items() if value in text]
            if shown:
                leaks.append(f"{show.__name__}({type(obj).__name__}) shows {shown}: {text[:200]}")
    assert not leaks, "\n".join(leaks)


def test_defect_08_every_class_with_redaction_is_checked_with_real_secrets(world: World) -> None:
    """A class that redacts (or is named like a secret holder) must be among the objects built from real secrets,
    so that a regression in its repr is caught here and not in a log."""
    built = {cls for obj in world.objects for cls in type(obj).__mro__}
    wanted = set()
    for cls in _all_classes():
        redacts = dataclasses.is_dataclass(cls) and any(not f.repr for f in dataclasses.fields(cls))
        hand_written = "__repr__" in vars(cls) and not _generated_repr(cls)
        if redacts or hand_written:
            wanted.add(cls)
    missing = sorted(c.__qualname__ for c in wanted - built)
    assert not missing, f"build these from real secrets in the world fixture: {missing}"
    theft = [obj for obj in world.objects if type(obj).__name__ == "TokenTheftError"]
    assert theft, "reusing a rotated refresh token should have been detected as theft"
