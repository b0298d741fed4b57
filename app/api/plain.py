"""Plain Starlette routes for the hottest paths, documented in OpenAPI like FastAPI's.

Why: FastAPI's per-route machinery (dependency solving, parameter injection, response
handling) cost about a third of a cross-sell request (bench/serving.py), so the
per-customer recommendation routes parse their parameters themselves
(`app.api.params`) with the same pydantic validation and 422 shape. Their OpenAPI
operations are written here from the same models, and a test checks that every served
route is documented.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]
ERROR = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
}
ERRORS = {
    "404": "Unknown id",
    "422": "Invalid input",
    "500": "Internal error (a bug)",
    "503": "No trained model yet",
}


@dataclass(frozen=True)
class PlainRoute:
    """A GET route served by Starlette and how the contract describes it."""

    path: str
    handler: Handler
    operation_id: str
    tag: str
    answer: str  # the component schema of the 200 answer
    parameters: list[dict[str, Any]]
    errors: tuple[str, ...] = ("422", "500", "503")

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=["GET"], name=self.operation_id)

    def operation(self) -> dict[str, Any]:
        """The OpenAPI operation: docstring, parameters, answer and error responses."""
        answer = {"$ref": f"#/components/schemas/{self.answer}"}
        responses: dict[str, Any] = {
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": answer}},
            }
        }
        responses.update({code: {"description": ERRORS[code], **ERROR} for code in self.errors})
        return {
            "tags": [self.tag],
            "summary": self.operation_id.replace("_", " ").title(),
            "description": inspect.cleandoc(self.handler.__doc__ or ""),
            "operationId": self.operation_id,
            "parameters": self.parameters,
            "responses": responses,
        }
