"""A bound on the request line, answered in the error shape.

Why here and not left to the server: uvicorn refuses a request head over about 64 KiB
with a plain-text 400 of its own. Nothing the API takes needs a long URL (lists of
items go in a POST body), so a URL over `MAX_URL_BYTES` is refused first, as a 414
that says so in the one error shape; only heads past the server's own limit still get
the server's answer.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response

MAX_URL_BYTES = 8 * 1024  # path and query string, percent-encoded as sent


class UrlLimit:
    """Pure ASGI middleware: 414 for a path and query string over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_URL_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("raw_path") or scope["path"].encode()
            size = len(path) + len(scope.get("query_string", b""))
            if size > self.max_bytes:
                message = (
                    f"the URL is {size:,} bytes; at most {self.max_bytes:,} "
                    "(send long lists in a POST body)"
                )
                await error_response(414, "uri_too_long", message)(scope, receive, send)
                return
        await self.app(scope, receive, send)
