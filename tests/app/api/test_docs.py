"""/docs and /redoc work without the internet, checked without a browser: each page
names only files on this app, and each of those answers without an API key with the
script, style or icon the page expects. tests/ui/test_docs.py renders both pages in
Chromium with every other host refused.
"""

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

LINKED = re.compile(r'(?:src|href|spec-url)="([^"]*)"')
KINDS = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    """No key on purpose: the documentation is open to anyone who can reach the app."""
    return TestClient(create_app(Settings(database_url="sqlite://")))


@pytest.mark.parametrize(
    ("page", "script"),
    [("/docs", "/docs/swagger-ui-bundle.js"), ("/redoc", "/redoc/redoc.standalone.js")],
)
def test_each_page_loads_only_files_this_app_serves(
    client: TestClient, page: str, script: str
) -> None:
    html = client.get(page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "://" not in html.text.replace("window.location.origin", "")  # no other host
    linked = LINKED.findall(html.text)
    assert script in linked
    for url in linked:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        kind = KINDS.get(url[url.rfind(".") :], "application/json")
        assert answer.headers["content-type"].startswith(kind), (url, answer.headers)
    assert len(client.get(script).content) > 500_000  # the real bundle, not a stub


def test_the_swagger_ui_script_defines_what_its_page_calls(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "SwaggerUIBundle(" in page
    assert "SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js").text


def test_redocs_logo_is_served_where_its_script_asks_for_it(client: TestClient) -> None:
    """ReDoc's script asks for its logo beside the page (`/redoc/logo-mini.svg`)."""
    script = client.get("/redoc/redoc.standalone.js").text
    assert 'window.location.pathname+"/logo-mini.svg"' in script
    logo = client.get("/redoc/logo-mini.svg")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"


def test_a_head_probe_of_the_pages_still_answers(client: TestClient) -> None:
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.head(page).status_code == 200, page
