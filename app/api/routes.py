"""The routes the app serves and the parameter types several routes share."""

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BeforeValidator

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def iso_only(value: Any) -> Any:
    """A timestamp given as ISO 8601 text; numbers (which pydantic would read as epoch
    seconds) are refused, so `to=0.5` is an error, not 1970."""
    if isinstance(value, str) and not ISO_DATE.match(value.strip()):
        raise ValueError("must be an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z")
    return value


IsoTimestamp = Annotated[datetime, BeforeValidator(iso_only)]


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
