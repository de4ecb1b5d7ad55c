"""Browser fixtures: Debian's chromium driven by the `playwright` pip package (never
`playwright install`), against the real stack from tests/conftest.py (`stack`: `kefu up` on free
ports with KEFU_LLM_URL=off and rate limits off).

Chromium comes from `apt-get install -y --no-install-recommends chromium fonts-wqy-zenhei`
(`make test` installs it; the font lets Chinese text render)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from kefu_browser import CHROMIUM, CHROMIUM_ARGS


def chromium_available() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} missing: apt-get install -y --no-install-recommends chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright pip package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = chromium_available()
    if reason:
        # Opting out must be explicit: a silently skipped browser suite proves nothing.
        if os.environ.get("KEFU_BROWSER_TESTS") == "skip":
            pytest.skip(reason)
        pytest.fail(reason + " (or set KEFU_BROWSER_TESTS=skip)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageErrors(list):
    """Uncaught page errors collected per page; tests assert there are none."""


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory for pages in fresh contexts (separate localStorage, like separate people)."""
    contexts: list[Any] = []

    def make(viewport: tuple[int, int] = (1280, 860), locale: str = "en-US") -> Any:
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale=locale)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.errors = PageErrors()
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield make
    for ctx in contexts:
        ctx.close()


@dataclass
class ExternalStack:
    url: str
    agent_key: str


@pytest.fixture(scope="session")
def ui_stack(request: pytest.FixtureRequest) -> Any:
    """The shared `kefu up` stack (tests/conftest.py), or an already running one named by
    KEFU_BROWSER_STACK_URL + KEFU_BROWSER_AGENT_KEY (fast iteration on the front ends)."""
    url = os.environ.get("KEFU_BROWSER_STACK_URL")
    if url:
        return ExternalStack(url.rstrip("/"), os.environ.get("KEFU_BROWSER_AGENT_KEY", ""))
    return request.getfixturevalue("stack")


@pytest.fixture(scope="session")
def catalog_product(ui_stack: Any) -> dict[str, Any]:
    """A real in-stock product from the running catalog, to ask the bot about."""
    r = httpx.get(ui_stack.url + "/v1/shop/products", params={"limit": 50}, timeout=10)
    r.raise_for_status()
    products = [p for p in r.json()["products"] if p.get("stock", 0) > 0 and p.get("price") is not None]
    assert products, "the demo catalog has no in-stock products"
    return products[0]
