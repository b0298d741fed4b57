"""The API key on every /v1 route, as a FastAPI security dependency: the OpenAPI
contract shows both ways to send it, and each route's answer says what is wrong.

401 for a missing or unknown key, 403 for a key without the scope the route needs
(the rules by method and path are `app.auth.scopes`, so a route added later is
protected by default); both in the one error shape, and the key itself is never
logged. A key this worker checked recently is answered from memory; any other is read
from the database in a thread, never on the event loop.
"""

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.responses import Response
from fastapi.security.base import SecurityBase

from app.auth.keys import Key, KeyStore
from app.auth.scopes import is_open, required
from app.errors import (
    ErrorResponse,
    Forbidden,
    NextBestError,
    Unauthorized,
    Unavailable,
    on_http,
    on_nextbest,
)

MISSING = "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
INVALID = "the API key is not valid (unknown, revoked or malformed)"


class ApiKey(SecurityBase):
    """The API key, as a security scheme FastAPI documents and a dependency it calls.

    One dependency, not a bearer scheme and a header scheme beside a checker: each
    dependency is a step FastAPI takes on every request. The contract names the bearer
    form; `X-API-Key: <key>` is accepted the same (the scheme's description says so).
    """

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            description="Authorization: Bearer <key>, or the same key as X-API-Key: <key>"
        )
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> Key:
        """The caller's key, checked against the scope the route needs."""
        key = await checked(request, presented(request))
        request.state.api_key_id = key.key_id
        return key


api_key = ApiKey()


def presented(request: Request) -> str:
    """The key from `Authorization: Bearer ...` or `X-API-Key` ("" for none)."""
    kind, _, token = request.headers.get("authorization", "").partition(" ")
    if kind.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


async def checked(request: Request, text: str) -> Key:
    """The key `text` names, if it may call this request's route; else 401 or 403."""
    if not text:
        raise Unauthorized(MISSING)
    keys: KeyStore = request.app.state.keys
    decided, key = keys.remembered(text)
    if not decided:
        try:
            key = await run_in_threadpool(keys.check, text)
        except Exception as exc:  # the key table cannot be read: the database is down
            raise Unavailable(
                f"API keys cannot be checked now ({exc.__class__.__name__}); retry shortly"
            ) from exc
    if key is None:
        raise Unauthorized(INVALID)
    scope = required(request.method, request.scope["path"])
    if not key.allows(scope):
        raise Forbidden(
            f"the key {key.key_id} lacks the '{scope}' scope this route needs "
            f"(it has {', '.join(sorted(key.scopes))})"
        )
    return key


async def unmatched(request: Request, exc: Exception) -> Response:
    """A path no route serves (404) or a method its route does not (405): answered only
    to a caller with a key (outside the open paths), so probing without one learns
    nothing of which paths exist."""
    status = getattr(exc, "status_code", 404)
    if (status == 405 or request.scope.get("route") is None) and not is_open(request.scope["path"]):
        try:
            await checked(request, presented(request))
        except NextBestError as refused:
            return await on_nextbest(request, refused)
    return await on_http(request, exc)


KEY_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one"},
    403: {"model": ErrorResponse, "description": "The key lacks the scope this route needs"},
    414: {"model": ErrorResponse, "description": "A URL over 8 KiB"},
}
