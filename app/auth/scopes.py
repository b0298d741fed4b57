"""Which scope each route needs: every route needs a key except the open ones below.

Why rules by method and path rather than a tag on each route: a route added later is
protected by default (a GET needs `read`, a write needs `write`), so forgetting to
protect one is not possible; the auth test walks every route of the app to prove it.
"""

import re

# Health, metrics and the documentation answer without a key.
OPEN = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc"})
OPEN_PREFIXES = ("/openapi.json",)
ADMIN = (
    re.compile(r"^/v1/customers/[^/]+/export$"),
    re.compile(r"^/v1/models(/|$)"),
)
READ_POSTS = frozenset({"/v1/baskets/recommendations"})  # asks, does not write


def is_open(path: str) -> bool:
    return path in OPEN or path.startswith(OPEN_PREFIXES)


def required(method: str, path: str) -> str:
    """The scope a request needs: admin, write or read."""
    if method == "DELETE" or any(p.match(path) for p in ADMIN):
        return "admin"
    if method in ("POST", "PUT", "PATCH") and path not in READ_POSTS:
        return "write"
    return "read"
