"""The web console: static HTML, CSS and JavaScript served at /ui by the app itself.

Why static files and no server-side pages: every number the console shows comes from
the same /v1 routes any caller uses, with the key its user typed, so the console adds
no way into the data. The files ship inside the package (a pip install serves them),
with no build step and nothing fetched from elsewhere; a strict Content-Security-Policy
keeps it that way in the browser.
"""

from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-cache"),
]


class Console:
    """The static files, each response with the headers above."""

    def __init__(self, directory: Path = STATIC) -> None:
        self.files: ASGIApp = StaticFiles(directory=directory, html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.files(scope, receive, with_headers)
