"""Which scope each route needs: every route needs a key except the open ones below.

Why rules by method and path rather than a tag on each route: a route added later is
protected by default (a GET needs `read`, a write needs `write`), so forgetting to
protect one is not possible; the auth test walks every route of the app to prove it.
"""

import re

# Health, metrics, the documentation (its pages and their files, app.api.docs) and the
# console's static files answer without a key; the console's data calls are /v1 routes
# with the key its user typed.
OPEN = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/ui"}
)
OPEN_PREFIXES = ("/openapi.json", "/docs/", "/redoc/", "/ui/")
ADMIN = (
    re.compile(r"^/v1/customers/[^/]+/export$"),
    re.compile(r"^/v1/models(/|$)"),
    re.compile(r"^/v1/imports(/|$)"),  # refused rows verbatim: personal data
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
