"""The web console in a real browser: Debian's Chromium driven by Playwright, against a
live server on a small trained demo data set with offer events.

Without Chromium (or Playwright) the browser tests skip with the reason; CI installs
Chromium and sets NEXTBEST_REQUIRE_BROWSER=1, which turns that skip into a failure.
Playwright's own browser download is never used: the tests launch the system Chromium.
Every page's screenshot is saved under NEXTBEST_SCREENSHOT_DIR (default
build/screenshots/, not committed) for a reviewer to look at.
"""

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from app.auth.keys import create_key
from app.auth.scopes import required
from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.events import offer_events
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.main import create_app
from app.settings import Settings
from app.training.train import Activation, train

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("NEXTBEST_SCREENSHOT_DIR", ROOT / "build" / "screenshots"))
CUSTOMERS = 2500
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # a closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE = "NEXTBEST_REQUIRE_BROWSER"


def _unavailable(reason: str) -> None:
    """Skip, or fail where the browser tests must run (CI)."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests: {reason} (CI installs it; {REQUIRE}=1 makes this a failure)")


def chromium_path() -> str:
    found = shutil.which(os.environ.get("NEXTBEST_CHROMIUM", "chromium"))
    if not found:
        _unavailable("no Chromium here: apt-get install chromium")
    return str(found)


@dataclass
class Served:
    """A live server: its base URL, keys by name with their scopes, the app's contract."""

    base: str
    keys: dict[str, str]
    scopes: dict[str, set[str]]
    versions: list[str]
    openapi: dict[str, Any]

    def get(self, path: str, key: str = "admin", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[key]}", **kwargs.pop("headers", {})}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=30, **kwargs)


def _load(url: str, directory: Path, settings: Settings) -> list[str]:
    """The demo data, offer events, a few refused rows; trained twice. Versions, oldest first."""
    files = generate(directory / "data", customers=CUSTOMERS, seed=7)
    engine = make_engine(url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    events: list[object] = list(offer_events(files, settings.holdout_share, settings.holdout_salt))
    assert import_records(engine, TARGETS["events"], events).rejected == 0
    refused: list[object] = [
        {"customer_id": "late-signup", "created_at": "next tuesday"},
        {"customer_id": "late-signup-2", "country": "Germany, the country"},
    ]
    import_records(engine, TARGETS["customers"], refused)
    first = train(engine, settings.model_dir, holdout_days=30)
    second = train(engine, settings.model_dir, holdout_days=30, activation=Activation(force=True))
    engine.dispose()
    return [first.manifest["version"], second.manifest["version"]]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    chromium_path()  # no data set to build where the tests cannot run
    directory = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{directory / 'console.db'}"
    upgrade(url)
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=1)
    versions = _load(url, directory, settings)
    scopes = {"read": {"read"}, "admin": {"admin"}, "read+write": {"read", "write"}}
    engine = make_engine(url)
    keys = {name: create_key(engine, s, f"ui {name}")[1] for name, s in scopes.items()}
    engine.dispose()
    app = create_app(settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", keys, scopes, versions, app.openapi())
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Call:
    """One request a page made, and its answer."""

    method: str
    url: str
    key: str | None
    status: int


@dataclass
class Console:
    """A browser tab on the console, recording console errors and every request."""

    page: Any
    served: Served
    errors: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def open(self, route: str, key: str | None = "admin") -> None:
        """Go to `#/<route>` (entering the key when asked) and wait for its answers."""
        self.page.goto(f"{self.served.base}/ui/#/{route}")
        if key is not None and self.page.is_visible("#key-form"):
            self.page.fill("#key-input", self.served.keys[key])
            self.page.click("#key-form button[type=submit]")
        if key is not None:
            self.wait(route.split("/")[0])

    def wait(self, name: str) -> None:
        self.page.wait_for_selector(f'.page[data-page="{name}"][data-ready]', timeout=30_000)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def console(browser: Any, served: Served) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    tab = Console(page, served)
    page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    page.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
    by_key = {text: name for name, text in served.keys.items()}

    def answered(response: Any) -> None:
        request = response.request
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        key = by_key.get(bearer, "unknown" if bearer else None)
        tab.calls.append(Call(request.method, request.url, key, response.status))

    page.on("response", answered)
    yield tab
    context.close()
    check_calls(tab.calls, served)


def operation_of(method: str, path: str, spec: dict[str, Any]) -> str | None:
    """The OpenAPI operation id a request is an instance of, if any."""
    for template, operations in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return str(operations[method.lower()]["operationId"])
    return None


def check_calls(calls: list[Call], served: Served) -> None:
    """Every request is a /ui file or a documented /v1 operation, made with the key the
    user typed, answered 403 exactly when that key lacks the route's scope."""
    for call in calls:
        parts = urlsplit(call.url)
        if parts.scheme == "blob":
            continue  # the CSV the page itself handed to the browser
        assert parts.netloc == urlsplit(served.base).netloc, call
        if parts.path == "/ui" or parts.path.startswith("/ui/"):
            assert call.key is None and call.status in (200, 304), call
            continue
        assert operation_of(call.method, parts.path, served.openapi), call
        needed = required(call.method, parts.path)
        if call.key in served.scopes:
            held = served.scopes[call.key]
            allowed = needed in held or "admin" in held
            assert (call.status == 403) == (not allowed), call
        else:
            assert call.status == 401, call  # a key the tests did not make: refused


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"console screenshots: {SCREENSHOTS}")
