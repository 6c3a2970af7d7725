"""One exception tree for gatepass.

Every error carries a stable short ``code`` and the HTTP status a server should answer with. Messages never
contain token bodies, secrets or passwords. Expected domain outcomes (an expired token, a stolen refresh
token) are return values, not exceptions; these classes are for faults and for bad input.
"""

from __future__ import annotations


class GatepassError(Exception):
    """Base of every error gatepass raises on purpose."""

    code = "gatepass_error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(GatepassError):
    """The caller sent something malformed: the answer is a 400 and nothing was written."""

    code = "bad_request"
    http_status = 400


class UnknownAppOrTenant(BadRequest):
    """The path names an app or tenant that does not exist (upstream answers 400 with this prefix)."""

    code = "unknown_app_or_tenant"

    def __init__(self, what: str) -> None:
        super().__init__(f"AppId or tenantId not found => {what}")


class InvalidApiKey(GatepassError):
    """The request carries no API key, or one the core was not configured with (401)."""

    code = "invalid_api_key"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("Invalid API key")


class NotFound(GatepassError):
    """No CDI API has this path (404)."""

    code = "not_found"
    http_status = 404

    def __init__(self) -> None:
        super().__init__("Not found")


class MethodNotAllowed(GatepassError):
    """The path names a CDI API that does not take this HTTP method (405)."""

    code = "method_not_allowed"
    http_status = 405

    def __init__(self) -> None:
        super().__init__("Method not supported")


class ConfigurationError(GatepassError):
    """A setting is wrong; raised at start-up or when an app's config is submitted."""

    code = "configuration_error"
    http_status = 400


class StorageError(GatepassError):
    """The database is unavailable (cannot be reached, timed out, busy, or a transient conflict). The operation was
    rolled back. The message is for logs; servers answer 503 with a fixed text, never the driver's."""

    code = "storage_unavailable"
    http_status = 503


class StorageFault(GatepassError):
    """The database refused an operation for a reason other than availability (a constraint, a value it cannot
    hold): a gatepass bug, since input is validated before it is written. The transaction was rolled back."""

    code = "storage_fault"
    http_status = 500


class CoreError(GatepassError):
    """The session core answered with an error (bad API key, bad request), or with a reply that is not CDI."""

    code = "core_error"
    http_status = 500


class CoreUnavailableError(CoreError):
    """The session core cannot be reached, is rate-limiting us, or its database is down."""

    code = "core_unavailable"
    http_status = 503


class FaunaError(GatepassError):
    """The FaunaDB integration failed; the subclasses say how. Messages never carry a Fauna secret."""

    code = "faunadb_error"
    http_status = 500


class FaunaUnavailableError(FaunaError):
    """FaunaDB could not be reached, or answered with a server error: answered like an unavailable core (503)."""

    code = "faunadb_unavailable"
    http_status = 503


class FaunaIntegrationError(FaunaError):
    """FaunaDB refused the integration's query (wrong key, unknown collection), or the user id cannot name a
    document: a setup or programming error, not an outage."""

    code = "faunadb_refused"


class FaunaUserNotFoundError(FaunaIntegrationError):
    """The session's user has no document in the user collection."""

    code = "faunadb_user_not_found"


class SessionLimitReachedError(GatepassError):
    """The user already has as many live sessions as the core's ``max_sessions_per_user`` allows, and its
    ``session_cap_policy`` is ``refuse``: no session was created. Answered with 403 when an app lets it escape."""

    code = "session_limit_reached"
    http_status = 403

    def __init__(self, limit: int) -> None:
        super().__init__(f"the user already has the most live sessions allowed ({limit})")
        self.limit = limit
