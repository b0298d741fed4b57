"""The OpenAPI contract: FastAPI's generated one, completed with what it cannot see.

Completed with: the row schemas the bulk routes refer to, the hand-documented plain
routes (`app.api.plain`), the answer schemas they use, and the API-key security of
every /v1 operation with its 401 and 403 answers (the check is middleware, so the
routes themselves do not declare it).
"""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import ingest
from app.api.answers import CrossSellAnswer, OffersAnswer, UpsellAnswer
from app.api.plain import PlainRoute
from app.auth.scopes import required
from app.errors import ErrorResponse

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
SECURITY = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def openapi(app: FastAPI, plain_routes: Sequence[PlainRoute]) -> dict[str, Any]:
    """The app's contract (built once, then cached on the app)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(ingest.row_schemas())
        answers = _model_schemas(CrossSellAnswer, UpsellAnswer, OffersAnswer, ErrorResponse)
        for name, model_schema in answers.items():
            schemas.setdefault(name, model_schema)
        for plain in plain_routes:
            schema["paths"][plain.path] = {"get": plain.operation()}
        components["securitySchemes"] = SECURITY
        _secure(schema["paths"])
        app.openapi_schema = schema
    return app.openapi_schema


def _secure(paths: dict[str, Any]) -> None:
    """Every /v1 operation needs a key with its scope; say so, with the 401 and 403,
    and the 414 of the URL limit (app.api.limits) in front of them all."""
    for path, operations in paths.items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            scope = required(method.upper(), path)
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
            operation["description"] = (
                operation.get("description", "") + f"\n\nNeeds an API key with the `{scope}` scope."
            ).strip()
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "401", {"description": "No API key, or not a valid one", "content": ERROR}
            )
            responses.setdefault(
                "403", {"description": f"The key lacks the '{scope}' scope", "content": ERROR}
            )
            responses.setdefault("414", {"description": "A URL over 8 KiB", "content": ERROR})


def _model_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    """JSON schemas of models and the models they use, as OpenAPI components."""
    _, defs = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = defs.get("$defs", {})
    return schemas


def served_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, HEAD left out.

    FastAPI keeps included routers as entries of their own; they are unfolded here, so
    the tests that walk the app (auth, documentation) see every route.
    """
    found: list[tuple[str, str]] = []
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)
        if included is not None:
            prefix = route.include_context.prefix  # type: ignore[attr-defined]
            pending.extend(_prefixed(r, prefix) for r in included.routes)
            continue
        path = getattr(route, "path", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if path is not None and method != "HEAD":
                found.append((method, path))
    return found


def _prefixed(route: Any, prefix: str) -> Any:
    """The route, seen under an include prefix (FastAPI's own prefix is in its path)."""
    if not prefix or getattr(route, "original_router", None) is not None:
        return route
    clone = type("Prefixed", (), {})()
    clone.path, clone.methods = prefix + route.path, getattr(route, "methods", None)
    return clone
