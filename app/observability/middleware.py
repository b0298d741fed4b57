"""Every request counted, timed and given an id, and every bug answered and logged
once, as pure ASGI middleware in the app's ordinary stack (`app.add_middleware`).

Why pure ASGI: a BaseHTTPMiddleware would run each request in a task of its own and
cost the hot routes more than their answer does. Why it answers a bug itself: Starlette
hands an unhandled exception to its outermost layer, which answers outside this one
(no request id on the answer, none on the log line) and re-raises it for the server to
log a second time; here the 500 leaves in the error shape with its id, logged once
with the route's template, and nothing is re-raised to the server.
"""

import logging
import re
from random import getrandbits
from time import perf_counter

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response
from app.observability.logs import ACCESS, REQUEST_ID
from app.observability.metrics import observe_request

HEADER = b"x-request-id"
# An incoming id is kept when it is short and plain (it goes into headers and logs).
SAFE_ID = re.compile(rb"[A-Za-z0-9._:+/=\-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a path no route serves

access = logging.getLogger(ACCESS)
log = logging.getLogger("nextbest")


class Observed:
    """Gives each HTTP request an id, counts and times it, logs it when asked to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        request_id = incoming_id(scope["headers"]) or new_id()
        token = REQUEST_ID.set(request_id)
        header = (HEADER, request_id.encode())
        status = 500  # unless an answer starts
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], route_template(scope))
            if answered:
                raise  # half an answer is out: the server can only close the connection
            await error_response(500, "internal_error", "internal error; it has been logged")(
                scope, receive, send_with_id
            )
        finally:
            seconds = perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope)
            observe_request(method, route, status, seconds)
            if access.isEnabledFor(logging.INFO):
                fields = {"method": method, "route": route, "status": status}
                duration = round(seconds * 1000, 3)
                access.info(
                    "%s %s %s", method, route, status, extra={**fields, "duration_ms": duration}
                )
            REQUEST_ID.reset(token)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/customers/{customer_id}/offers`),
    never the raw path, which holds customer ids (personal data in logs and metrics)."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return str(getattr(route, "path_format", None) or UNMATCHED)


def incoming_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The caller's X-Request-ID when it is safe to repeat, else None."""
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if SAFE_ID.fullmatch(value) else None
    return None


def new_id() -> str:
    """A fresh request id: 128 random bits in hex (unique, not secret: no system call)."""
    return f"{getrandbits(128):032x}"
