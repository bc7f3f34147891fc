"""/docs and /redoc in a real headless Chromium (Debian's), with the network cut: every
request the pages make goes to the server itself, the operations render, and "Try it out" on
infer returns iris' answer."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from app.server import Server

pytestmark = pytest.mark.slow
INFER = "/v2/models/{model_name}/infer"


def _chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("google-chrome")
    assert found, "Chromium is not installed (.ci/run installs Debian's chromium)"
    return found


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium that can resolve no name but 127.0.0.1: the network is cut."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        yield launched
        await launched.close()


async def _open(browser: Browser, server: Server, path: str) -> tuple[Page, list[str]]:
    """The page at `path`, and the list every request for another host lands in (refused)."""
    base = f"http://127.0.0.1:{server.http_port}"
    elsewhere: list[str] = []
    page = await browser.new_page()

    async def local_only(route: Route) -> None:
        if route.request.url.startswith(base + "/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", local_only)
    await page.goto(base + path)
    return page, elsewhere


async def test_swagger_ui_renders_and_tries_infer(browser: Browser, server: Server) -> None:
    page, elsewhere = await _open(browser, server, "/docs")
    await page.wait_for_selector(".opblock-summary-path")
    paths = await page.locator(".opblock-summary-path").evaluate_all(
        "nodes => nodes.map(node => node.dataset.path)"
    )
    assert INFER in paths
    assert "/v2/health/ready" in paths
    tags = await page.locator(".opblock-tag").all_inner_texts()
    assert [tag.split("\n")[0] for tag in tags][:5] == [
        "health",
        "metadata",
        "inference",
        "repository",
        "statistics",
    ]
    operation = page.locator(".opblock-post").filter(
        has=page.locator(f".opblock-summary-path[data-path='{INFER}']")
    )
    await operation.locator(".opblock-summary").click()
    await operation.locator(".try-out__btn").click()
    await operation.locator(".execute").click()
    answer = operation.locator(".live-responses-table .response-col_description pre").first
    await answer.wait_for()
    text = await answer.inner_text()
    assert '"model_name": "iris"' in text
    assert '"name": "output-0"' in text
    assert elsewhere == []


async def test_redoc_renders_the_operations(browser: Browser, server: Server) -> None:
    page, elsewhere = await _open(browser, server, "/redoc")
    await page.locator("h2", has_text="Inference").first.wait_for()
    headings = await page.locator("h2").all_inner_texts()
    for summary in ("Liveness", "Model metadata", "Inference", "Statistics of every ready"):
        assert any(heading.startswith(summary) for heading in headings), (summary, headings)
    groups = await page.locator("li[data-item-id^='tag/']").evaluate_all(
        "nodes => nodes.map(node => node.dataset.itemId).filter(id => !id.includes('/operation/'))"
    )
    assert [group.removeprefix("tag/") for group in groups[:5]] == [
        "health",
        "metadata",
        "inference",
        "repository",
        "statistics",
    ]
    assert elsewhere == []
