"""The API key on every /v1 route, as a FastAPI security dependency: the OpenAPI
contract shows both ways to send it, and each route's answer says what is wrong.

401 for a missing or unknown key, 403 for a key without the scope the route needs
(the rules by method and path are `app.auth.scopes`, so a route added later is
protected by default); both in the one error shape, and the key itself is never
logged. A key this worker checked recently is answered from memory; any other is read
from the database in a thread, never on the event loop.
"""

from typing import Annotated

from fastapi import Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.keys import Key, KeyStore
from app.auth.scopes import is_open, required
from app.errors import (
    ErrorResponse,
    Forbidden,
    NextBestError,
    Unauthorized,
    Unavailable,
    error_response,
)

MISSING = "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
INVALID = "the API key is not valid (unknown, revoked or malformed)"

bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="Authorization: Bearer <key>"
)
header = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="X-API-Key: <key>"
)


async def api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    key_header: Annotated[str | None, Security(header)],
) -> Key:
    """The caller's key, checked against the scope the route needs."""
    text = credentials.credentials if credentials else key_header
    key = await checked(request, (text or "").strip())
    request.state.api_key_id = key.key_id
    return key


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
    scope = required(request.method, request.url.path)
    if not key.allows(scope):
        raise Forbidden(
            f"the key {key.key_id} lacks the '{scope}' scope this route needs "
            f"(it has {', '.join(sorted(key.scopes))})"
        )
    return key


async def unmatched(request: Request, exc: Exception) -> Response:
    """A path no route serves: 404, but only to a caller with a key (outside the open
    paths), so probing without one learns nothing of which paths exist."""
    if request.scope.get("route") is None and not is_open(request.url.path):
        bearer_text = request.headers.get("authorization", "")
        kind, _, token = bearer_text.partition(" ")
        text = token if kind.lower() == "bearer" else request.headers.get("x-api-key", "")
        try:
            await checked(request, text.strip())
        except NextBestError as refused:
            response = error_response(refused.status, refused.code, refused.message)
            response.headers.update(refused.headers)
            return response
    detail = getattr(exc, "detail", "Not Found")
    return error_response(404, "not_found", str(detail))


KEY_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one"},
    403: {"model": ErrorResponse, "description": "The key lacks the scope this route needs"},
    414: {"model": ErrorResponse, "description": "A URL over 8 KiB"},
}
