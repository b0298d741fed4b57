"""The API reference pages, /docs (Swagger UI) and /redoc (ReDoc), with every file they
load served by this app.

Why: FastAPI's own pages load Swagger UI and ReDoc from a public CDN, ReDoc its fonts
from Google and both their icon from FastAPI's site, so without internet they stay
blank. Here the app is made with `docs_url=None, redoc_url=None` and these routes build
the same pages with FastAPI's `get_swagger_ui_html` / `get_redoc_html`, pointed at local
files, as FastAPI's documentation describes for self-hosting the docs assets.

The scripts and styles are the ones the installed `fastapi-standalone-docs` package
ships (only its files are used: its `StandaloneDocs` class would patch FastAPI's own
functions, which this does not need). Each page's files are mounted beside it, as that
package lays them out: /docs/... for Swagger UI, /redoc/... for ReDoc, whose script
loads its logo from beside the page it runs on (/redoc/logo-mini.svg). The icon is the
console's. All of these paths answer without an API key (`app.auth.scopes`).
"""

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "fastapi_standalone_docs"  # the package the files come from
SWAGGER_UI = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
REDOC = "/redoc"
FAVICON = "/ui/favicon.svg"

router = APIRouter(include_in_schema=False)
PAGE = ["GET", "HEAD"]  # as FastAPI's own pages answer: a HEAD probe of /docs still works


def _url(request: Request, path: str) -> str:
    """`path` under the prefix the app is served from (behind a proxy), as FastAPI does."""
    return str(request.scope.get("root_path", "")).rstrip("/") + path


@router.api_route(SWAGGER_UI, methods=PAGE)
async def swagger_ui(request: Request) -> HTMLResponse:
    """FastAPI's Swagger UI page, its script, style and icon from this app."""
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=_url(request, app.openapi_url or ""),
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=_url(request, OAUTH2_REDIRECT),
        swagger_js_url=_url(request, f"{SWAGGER_UI}/swagger-ui-bundle.js"),
        swagger_css_url=_url(request, f"{SWAGGER_UI}/swagger-ui.css"),
        swagger_favicon_url=_url(request, FAVICON),
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


@router.api_route(OAUTH2_REDIRECT, methods=PAGE)
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Where Swagger UI's OAuth2 login comes back to, as on FastAPI's own pages."""
    return get_swagger_ui_oauth2_redirect_html()


@router.api_route(REDOC, methods=PAGE)
async def redoc(request: Request) -> HTMLResponse:
    """FastAPI's ReDoc page, its script and icon from this app and no web fonts."""
    app: FastAPI = request.app
    return get_redoc_html(
        openapi_url=_url(request, app.openapi_url or ""),
        title=f"{app.title} - ReDoc",
        redoc_js_url=_url(request, f"{REDOC}/redoc.standalone.js"),
        redoc_favicon_url=_url(request, FAVICON),
        with_google_fonts=False,  # the system's fonts: no request to a font service
    )


def install(app: FastAPI) -> None:
    """Serve the two pages and their files on `app`, which was made with
    `docs_url=None, redoc_url=None` so that FastAPI adds no pages of its own."""
    app.include_router(router)  # before the mounts: /docs/oauth2-redirect is a route
    swagger_files = StaticFiles(packages=[(ASSETS, "static/swagger")])
    app.mount(SWAGGER_UI, swagger_files, name="swagger-ui-files")
    app.mount(REDOC, StaticFiles(packages=[(ASSETS, "static/redoc")]), name="redoc-files")
