"""The API reference pages, /docs (Swagger UI) and /redoc, as someone on a closed
network meets them: in headless Chromium, with every request that would leave this
machine refused. Both pages must still render the whole contract, from files the app
serves itself, and nothing may be asked of another host (a CDN, a font service, a logo).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import SCREENSHOTS, Served

LOCAL = frozenset({"127.0.0.1", "localhost"})
CROSS_SELL = "/v1/customers/{customer_id}/cross-sell"


@dataclass
class Offline:
    """A browser tab that reaches only this machine, recording what it was refused."""

    page: Any
    refused: list[str] = field(default_factory=list)
    answers: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def rendered(self, selector: str) -> bool:
        """Whether `selector` appears: a page whose scripts did not load stays blank."""
        from playwright.sync_api import TimeoutError as Timeout

        try:
            self.page.wait_for_selector(selector, timeout=20_000)
        except Timeout:
            return False
        return True

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def offline(browser: Any) -> Iterator[Offline]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Offline(context.new_page())

    def local_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            tab.refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", local_only)
    tab.page.on("response", lambda r: tab.answers.append((r.url, r.status)))
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def operations(served: Served) -> int:
    return sum(len(methods) for methods in served.openapi["paths"].values())


def test_swagger_ui_lists_every_operation_without_the_internet(
    offline: Offline, served: Served
) -> None:
    offline.page.goto(f"{served.base}/docs")
    cross_sell = f'.opblock .opblock-summary-path[data-path="{CROSS_SELL}"]'
    assert offline.rendered(cross_sell), (
        f"/docs stayed blank offline; it asked other hosts for {offline.refused}"
    )
    offline.shot("docs-offline")
    assert "NextBest" in offline.page.inner_text(".information-container .title")
    assert offline.page.locator(".opblock").count() == operations(served)
    assert offline.refused == []
    assert offline.errors == []
    assert all(status in (200, 304) for _, status in offline.answers), offline.answers


def test_redoc_shows_the_api_and_its_operations_without_the_internet(
    offline: Offline, served: Served
) -> None:
    offline.page.goto(f"{served.base}/redoc")
    title = f'h1:has-text("{served.openapi["info"]["title"]}")'
    assert offline.rendered(title), (
        f"/redoc stayed blank offline; it asked other hosts for {offline.refused}"
    )
    operation = served.openapi["paths"][CROSS_SELL]["get"]
    heading = f'[data-section-id="operation/{operation["operationId"]}"] h2'
    assert offline.rendered(heading)
    offline.shot("redoc-offline")
    assert offline.page.inner_text(heading).strip() == operation["summary"]
    assert offline.page.locator('[data-section-id^="operation/"]').count() == operations(served)
    assert offline.refused == []
    assert offline.errors == []
    assert all(status in (200, 304) for _, status in offline.answers), offline.answers
