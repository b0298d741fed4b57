"""The console's files: served from the package at /ui without a key, under a strict
Content-Security-Policy, with nothing outside /ui opened by it."""

import re

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.ui import STATIC


def test_the_console_is_served_without_a_key_under_a_strict_policy() -> None:
    client = TestClient(create_app(Settings(database_url="sqlite://")))  # no lifespan: no model
    bare = client.get("/ui", follow_redirects=False)
    assert bare.status_code == 307 and bare.headers["location"].endswith("/ui/")
    page = client.get("/ui/")
    assert page.status_code == 200 and "<title>NextBest console</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/ui/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/ui/no-such-file.js").status_code == 404
    outside = client.get("/ui/%2e%2e/__init__.py")
    assert outside.status_code == 404 and "StaticFiles" not in outside.text
    assert client.get("/uix").status_code == 401  # only /ui and /ui/... are open
    assert client.get("/v1/overview").status_code == 401  # the data still needs a key


def test_the_files_load_nothing_from_elsewhere_and_run_no_inline_code() -> None:
    texts = {p: p.read_text(encoding="utf-8") for p in STATIC.rglob("*") if p.is_file()}
    assert len(texts) >= 10
    for path, text in texts.items():
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path  # no remote assets
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
        assert "https://" not in text, path
        assert not re.search(r"\son[a-z]+=\"", text), path  # no inline event handlers
        assert "innerHTML" not in text and "eval(" not in text, path
    index = texts[STATIC / "index.html"]
    assert "<script>" not in index and "<style>" not in index  # the policy would refuse them
