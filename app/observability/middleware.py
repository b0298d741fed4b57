"""Every request counted, timed and given an id, as pure ASGI middleware.

Why pure ASGI and outermost (wrapped around Starlette's whole stack, error handling
included): a BaseHTTPMiddleware would run each request in a task of its own and cost
the hot routes more than their answer does; and only outside the error handler does
every answer, a 500 or the key check's 401 among them, pass by to be counted and to
get the `X-Request-ID` header.
"""

import logging
import re
from collections.abc import Callable
from random import getrandbits
from re import Pattern
from time import perf_counter
from typing import Any

from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.logs import ACCESS, REQUEST_ID
from app.observability.metrics import observe_request

HEADER = b"x-request-id"
# An incoming id is kept when it is short and plain (it goes into headers and logs).
SAFE_ID = re.compile(rb"[A-Za-z0-9._:+/=\-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a path no route serves

access = logging.getLogger(ACCESS)


class Observed:
    """Gives each HTTP request an id, counts and times it, logs it when asked to."""

    def __init__(self, app: ASGIApp, routes: "RouteTemplates") -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        request_id = incoming_id(scope["headers"]) or new_id()
        token = REQUEST_ID.set(request_id)
        header = (HEADER, request_id.encode())
        status = 500  # unless an answer starts: the server failed before one could
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
            # Starlette re-raises a bug after its handler has answered 500 and logged it
            # with this request's id, only so that a server may log it too: once is
            # enough, and the server's line would carry no request id.
            if not answered:
                raise
        finally:
            seconds = perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = self.routes.template(scope)
            observe_request(method, route, status, seconds)
            if access.isEnabledFor(logging.INFO):
                fields = {"method": method, "route": route, "status": status}
                duration = round(seconds * 1000, 3)
                access.info(
                    "%s %s %s", method, route, status, extra={**fields, "duration_ms": duration}
                )
            REQUEST_ID.reset(token)


def incoming_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The caller's X-Request-ID when it is safe to repeat, else None."""
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if SAFE_ID.fullmatch(value) else None
    return None


def new_id() -> str:
    """A fresh request id: 128 random bits in hex (unique, not secret: no system call)."""
    return f"{getrandbits(128):032x}"


class RouteTemplates:
    """The route template of an answered request, for the metric labels.

    FastAPI's routes put themselves into the scope; the plain Starlette routes leave
    their endpoint there, looked up in a table built on first use. A request the key
    check refused never reached a route: its path is matched against the templates.
    """

    def __init__(self, routes: Callable[[], list[Any]], served: Callable[[], list[str]]) -> None:
        self._routes, self._served = routes, served
        self._by_endpoint: dict[Any, str] | None = None
        self._patterns: list[tuple[Pattern[str], str]] | None = None

    def template(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path_format", None)
        if path:
            return str(path)
        endpoint = scope.get("endpoint")
        if endpoint is not None:
            if self._by_endpoint is None:
                self._by_endpoint = _endpoints(self._routes())
            found = self._by_endpoint.get(endpoint)
            if found is not None:
                return found
        if self._patterns is None:
            self._patterns = [(compile_path(p)[0], p) for p in dict.fromkeys(self._served())]
        for pattern, template in self._patterns:
            if pattern.match(scope["path"]):
                return template
        return UNMATCHED


def _endpoints(routes: list[Any]) -> dict[Any, str]:
    """Endpoint (a function, or a mounted app) -> its route template."""
    found: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            found.setdefault(route.app, route.path + "/{path}")
        elif getattr(route, "endpoint", None) is not None and hasattr(route, "path_format"):
            found.setdefault(route.endpoint, route.path_format)
    return found
