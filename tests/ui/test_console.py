"""The web console as its users meet it, in headless Chromium on the demo data: every
page loads without a console error and shows real data; a customer lookup shows the
offers with reasons and, in explain mode, what the guardrails held back; a wrong key
gets a clear message; a campaign downloads as the API's own CSV; models are activated
and rolled back with an admin key and refused with a read key. Each test's requests
are checked by the `console` fixture: /ui files, or documented /v1 operations under the
scope of the key the user typed.
"""

import csv
import io
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .conftest import Console, Served, check_calls, operation_of

PAGES = ("overview", "kpis", "customer", "item", "models", "campaigns")


def a_customer_with_offers(served: Served) -> tuple[str, dict[str, Any]]:
    """A customer with at least two offers (and their answer), found through the API."""
    for n in range(1, 400):
        customer = f"C{n:06d}"
        answer = served.get(f"/v1/customers/{customer}/offers").json()
        if len(answer.get("offers", [])) >= 2:
            return customer, answer
    raise AssertionError("no customer with two offers in the demo data")


def a_camera(served: Served) -> str:
    """An item with bought-together rules."""
    for n in range(1, 401):
        item = f"I{n:05d}"
        related = served.get(f"/v1/items/{item}/related", params={"kind": "complement"})
        if related.status_code == 200 and len(related.json()["items"]) >= 2:
            return item
    raise AssertionError("no item with complements in the demo data")


def test_every_page_loads_without_errors_and_shows_real_data(
    console: Console, served: Served
) -> None:
    customer, _ = a_customer_with_offers(served)
    item = a_camera(served)
    overview = served.get("/v1/overview").json()
    routes = {"customer": f"customer/{customer}", "item": f"item/{item}"}
    for name in PAGES:
        console.open(routes.get(name, name))
        console.shot(name)
        assert console.errors == [], (name, console.errors)
        assert console.page.locator(".page .message.error").count() == 0, name
    page = console.page
    console.open("overview")
    assert f"{overview['counts']['customers']:,}" in page.inner_text(".stats")
    assert overview["active_model"]["version"] in page.inner_text("#active-model")
    assert "NDCG@10" in page.inner_text("#active-model")  # trained with a holdout
    reasons = page.inner_text("#imports")
    assert "created_at" in reasons and "next tuesday" not in reasons  # values blanked
    page.click("#imports button")  # an admin key sees the refused rows themselves
    page.wait_for_selector("#rejected-rows table")
    assert "next tuesday" in page.inner_text("#rejected-rows")
    console.shot("overview-refused-rows")
    console.open("kpis")
    for chart in ("acceptance", "upsell-rate", "cross-sell-rate", "order-value", "revenue-uplift"):
        assert page.locator(f"#{chart} svg path").count() >= 1, chart
    assert page.locator("#revenue-by-group svg rect").count() >= 1
    kinds = page.inner_text("#kpi-groups tbody")
    assert "cross_sell" in kinds and "upgrade" in kinds
    page.select_option("#kpi-form select[name=group_by]", "channel")
    page.select_option("#kpi-form select[name=interval]", "month")
    page.click("#kpi-form button[type=submit]")
    page.wait_for_selector("#kpi-groups h2:has-text('by channel')")
    channels = page.inner_text("#kpi-groups tbody")
    assert "email" in channels and "in_app" in channels and "cross_sell" not in channels
    assert "Offer acceptance by channel" in page.inner_text("#acceptance")
    console.shot("kpis-by-channel")
    console.open(f"item/{item}")
    assert page.locator("#complement tbody tr").count() >= 2
    assert "%" in page.inner_text("#complement tbody")  # the confidence, as evidence
    console.open("models")
    assert page.locator("#versions tbody tr").count() == 2


def test_the_console_calls_only_documented_routes_under_the_keys_scope(
    console: Console, served: Served
) -> None:
    customer, _ = a_customer_with_offers(served)
    console.open("overview", key="read")
    console.page.click("#imports button")  # the refused rows: admin only
    console.page.wait_for_selector("#rejected-rows .message.error")
    assert "needs an admin key" in console.page.inner_text("#rejected-rows")
    for route in ("kpis", f"customer/{customer}", f"item/{a_camera(served)}"):
        console.open(route, key="read")
    console.open("models", key="read")
    console.open("campaigns", key="read")
    console.page.click("#campaign-form button[type=submit]")
    console.page.wait_for_selector("#campaign-result table")
    check_calls(console.calls, served)
    called = {
        operation_of(c.method, urlsplit(c.url).path, served.openapi)
        for c in console.calls
        if urlsplit(c.url).path.startswith("/v1/")
    }
    assert called == {
        "overview",
        "list_imports",
        "kpi_series",
        "kpis",
        "customer_profile",
        "offers",
        "customer_purchases",
        "related_items",
        "list_models",
        "campaign_targets",
    }
    refused = {urlsplit(c.url).path for c in console.calls if c.status == 403}
    assert refused == {"/v1/imports", "/v1/models"}  # the two admin routes, and only they


def test_a_customer_lookup_shows_their_offers_with_reasons(
    console: Console, served: Served
) -> None:
    customer, answer = a_customer_with_offers(served)
    console.open("customer", key="read")
    console.page.fill("#customer-form input[name=customer]", customer)
    console.page.click("#customer-form button[type=submit]")
    console.wait("customer")
    cards = console.page.locator("#offers .offer")
    shown = [cards.nth(i).get_attribute("data-offer") for i in range(cards.count())]
    assert shown == [offer["offer_id"] for offer in answer["offers"]]
    first = answer["offers"][0]
    card = console.page.locator(f'#offers .offer[data-offer="{first["offer_id"]}"]')
    assert first["reasons"][0]["text"] in card.inner_text()
    assert card.locator(".channel").inner_text() == first["channel"].replace("_", "-")
    assert console.page.locator("#held-back").count() == 0  # not in explain mode
    assert customer in console.page.inner_text("#profile")
    history = served.get(f"/v1/customers/{customer}/purchases", params={"limit": 20}).json()
    assert f"({history['total']:,} lines)" in console.page.inner_text("#purchases h2")
    console.shot("customer-offers")
    assert console.errors == []


def test_explain_mode_shows_what_the_guardrails_held_back(console: Console, served: Served) -> None:
    customer = held = None
    for n in range(1, 400):
        customer = f"C{n:06d}"
        answer = served.get(f"/v1/customers/{customer}/offers", params={"explain": "true"})
        held = answer.json()["held_back"]
        if any(h["rule"] in ("frequency_cap", "cooldown", "one_upsell") for h in held):
            break
    assert customer and held
    console.open(f"customer/{customer}", key="read")
    console.page.check("#customer-form input[name=explain]")
    console.page.click("#customer-form button[type=submit]")
    console.page.wait_for_selector("#held-back")
    text = console.page.inner_text("#held-back")
    for row in held:
        assert row["rule"] in text
    assert console.page.locator("#held-back tbody tr").count() == len(held)
    console.shot("customer-explain")
    assert console.errors == []


def test_an_invalid_key_gets_a_clear_message_and_the_prompt_again(console: Console) -> None:
    console.open("overview", key=None)
    console.page.fill("#key-input", "nb_0123456789ab_not-the-secret")
    console.page.click("#key-form button[type=submit]")
    message = console.page.locator("#key-message")
    message.wait_for(state="visible")
    assert "That API key was not accepted" in message.inner_text()
    assert "unknown, revoked or malformed" in message.inner_text()
    assert console.page.is_visible("#key-input") and not console.page.is_visible("#page")
    console.shot("invalid-key")
    # The browser reports the refused request itself; nothing else went wrong.
    assert all("401" in e for e in console.errors), console.errors
    console.page.fill("#key-input", console.served.keys["read"])
    console.page.click("#key-form button[type=submit]")
    console.wait("overview")
    assert not console.page.is_visible("#key-message")


def test_a_campaign_downloads_as_the_apis_csv(console: Console, served: Served) -> None:
    console.open("campaigns", key="read")
    console.page.select_option("#campaign-form select[name=kind]", "upgrade")
    console.page.fill("#campaign-form input[name=plan]", "pro")
    console.page.fill("#campaign-form input[name=limit]", "25")
    console.page.click("#campaign-form button[type=submit]")
    console.page.wait_for_selector("#campaign-result table")
    assert console.page.locator("#campaign-result tbody tr").count() == 25
    console.shot("campaigns")
    with console.page.expect_download() as started:
        console.page.click("#download")
    download = started.value
    text = Path(download.path()).read_text(encoding="utf-8")
    expected = served.get(
        "/v1/campaigns/targets",
        key="read",
        params={"kind": "upgrade", "plan": "pro", "limit": 25},
        headers={"Accept": "text/csv"},
    )
    assert download.suggested_filename == "upgrade-pro.csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == list(csv.DictReader(io.StringIO(expected.text)))
    assert len(rows) == 25 and rows[0]["offer_id"] == "upgrade:pro"
    assert console.errors == []


def test_models_are_activated_and_rolled_back_by_admins_only(
    console: Console, served: Served
) -> None:
    oldest, newest = served.versions
    console.open("models", key="read")
    assert "This page needs an admin key" in console.page.inner_text(".page .message.error")
    console.shot("models-read-key")
    console.page.click("#change-key")
    console.page.fill("#key-input", served.keys["admin"])
    console.page.click("#key-form button[type=submit]")
    console.wait("models")
    console.page.click(f'#versions button[data-version="{oldest}"]')
    status = console.page.locator("#model-status .message.ok")
    status.wait_for()
    assert f"{oldest} is active" in status.inner_text()
    assert served.get("/v1/models").json()["active"] == oldest
    assert wait_until_served(served, oldest)  # the server's next refresh picks it up
    console.page.wait_for_function(  # and the page, asking again, says so
        "v => document.querySelector('#versions')?.innerText.includes('answers from ' + v)",
        arg=oldest,
    )
    console.shot("models")
    console.page.click("#rollback")
    console.page.wait_for_function(
        "v => document.querySelector('#model-status')?.innerText.includes(v + ' is active')",
        arg=newest,
    )
    assert served.get("/v1/models").json()["active"] == newest
    assert wait_until_served(served, newest)


def wait_until_served(served: Served, version: str, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if served.get("/v1/models").json()["serving"] == version:
            return True
        time.sleep(0.2)
    return False
