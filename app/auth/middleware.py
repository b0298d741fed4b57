"""The API key check, as pure ASGI middleware in front of every route.

Why middleware and not a FastAPI dependency: the hottest routes are plain Starlette
routes (no dependency injection), and one check in front of all of them cannot be
forgotten on a new route. 401 for a missing or unknown key, 403 for a key without the
scope; both in the one error shape, and the key itself is never logged.
"""

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.keys import KeyStore
from app.auth.scopes import is_open, required

MISSING = "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
INVALID = "the API key is not valid (unknown, revoked or malformed)"


class ApiKeys:
    """Lets a request through when it carries a key with the scope its route needs."""

    def __init__(self, app: ASGIApp, keys: KeyStore) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or await admit(self.keys, scope, send):
            await self.app(scope, receive, send)


async def admit(keys: KeyStore, scope: Scope, send: Send) -> bool:
    """True when the request may go on to its route; else its refusal has been sent."""
    if is_open(scope["path"]):
        return True
    text = _presented(scope)
    if text is None:
        await _refuse(send, 401, "unauthorized", MISSING)
        return False
    try:
        key = keys.check(text)
    except Exception as exc:  # the key table cannot be read: the database is down
        await _refuse(
            send,
            503,
            "unavailable",
            f"API keys cannot be checked now ({exc.__class__.__name__}); retry shortly",
        )
        return False
    if key is None:
        await _refuse(send, 401, "unauthorized", INVALID)
        return False
    scope_needed = required(scope["method"], scope["path"])
    if not key.allows(scope_needed):
        await _refuse(
            send,
            403,
            "forbidden",
            f"the key {key.key_id} lacks the '{scope_needed}' scope this route needs "
            f"(it has {', '.join(sorted(key.scopes))})",
        )
        return False
    scope.setdefault("state", {})["api_key_id"] = key.key_id
    return True


def _presented(scope: Scope) -> str | None:
    """The key from `Authorization: Bearer ...` or `X-API-Key`, if either is there."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return str(token.strip())
        elif name == b"x-api-key" and value.strip():
            return str(value.decode("latin-1").strip())
    return None


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "details": []}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="nextbest"'))
    if status == 503:
        headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
