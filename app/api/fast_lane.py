"""The hottest GET routes, served from just inside the outermost middleware.

Why: between the server and a route, Starlette and FastAPI put eight layers (error
middleware, telemetry, body limit, the key check, exception middleware, the exit
stack for dependencies, the router's scan, the request wrapper), each wrapping `send`
in a closure of its own. A profile of the cross-sell route under load put a fifth of
the worker's time in them. A GET to a plain route (`app.api.plain`) needs only three
of their jobs: the key check, the route's match, and the error shape. This layer does
those three, with the same code, and passes every other request down the whole stack.

What such a request still gets from around this layer (`app.observability`): its
request id, its metrics, its access line.
"""

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.keys import KeyStore
from app.auth.middleware import admit


class FastLane:
    """Serves GET requests to `routes` itself; everything else goes on to `app`."""

    def __init__(
        self, app: ASGIApp, service: FastAPI, routes: Sequence[Route], keys: KeyStore
    ) -> None:
        self.app, self.service, self.routes, self.keys = app, service, routes, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)  # endpoint and path parameters, as the router does
                    scope["app"] = self.service
                    await self._serve(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        if not await admit(self.keys, scope, send):
            return
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except Exception as exc:  # the app's own handlers give the one error shape
            response = await self._handle(request, exc)
        await response(scope, receive, send)

    async def _handle(self, request: Request, exc: Exception) -> Response:
        """The app's exception handler for `exc`'s class or its nearest base."""
        handlers: dict[Any, Any] = self.service.exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                if inspect.iscoroutinefunction(handler):
                    answer: Response = await handler(request, exc)
                else:
                    answer = await run_in_threadpool(handler, request, exc)
                return answer
        raise exc  # no handler at all: the server answers 500
